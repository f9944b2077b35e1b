import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { createServer, type AddressInfo } from 'node:net';
import { ciRecipeSteps, groupGone, runCiStep, stopGroup, type CiStep } from '../helpers/ci-recipe.js';
import { BIN, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { deadPort } from '../helpers/ports.js';
import { startReceiver } from '../helpers/receiver.js';
import {
  ReadmeWorld,
  extractConsoleBlocks,
  isService,
  linesMatch,
  readReadme,
  runReadmeCommand,
  startReadmeApp,
  yamlCommandLines,
} from '../helpers/readme.js';

const KNOWN_NEEDS = new Set(['app']);

/** A folder with an `fe-webhooks` that runs this checkout's binary, as `npm link` would. */
async function linkedBin(t: TestContext): Promise<string> {
  const dir = await tempDir(t, 'fe-webhooks-readme-bin-');
  await writeFile(path.join(dir, 'fe-webhooks'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`, { mode: 0o755 });
  return dir;
}

test('the README has console examples for every command, in the documented order', () => {
  const lines = extractConsoleBlocks(readReadme()).flatMap((b) => b.commands.map((c) => c.line));
  const order = ['listen', 'send', 'verify', 'events', 'generate', 'sign', 'send', 'listen', 'captures', 'relay', 'verify', 'replay', 'check', 'config'];
  let from = 0;
  for (const command of order) {
    const found = lines.findIndex((l, i) => i >= from && l.includes(`fe-webhooks ${command}`));
    assert.ok(found >= 0, `a console example of "${command}" after ${lines[from - 1] ?? 'the start'}`);
    from = found + 1;
  }
});

test('every console block of the README runs and prints what it shows', { timeout: 240_000 }, async (t) => {
  const cwd = await tempDir(t, 'fe-webhooks-readme-');
  await mkdir(cwd, { recursive: true });
  const app = await startReadmeApp(t, cwd);
  const world = new ReadmeWorld({ cwd, binDir: await linkedBin(t), appPort: app.port });
  t.after(() => world.stopAll());

  const blocks = extractConsoleBlocks(readReadme());
  assert.ok(blocks.length >= 10, 'the README has its console examples');
  const failures: string[] = [];
  for (const block of blocks) {
    for (const need of block.needs) assert.ok(KNOWN_NEEDS.has(need), `unknown <!-- needs: ${need} -->`);
    for (const command of block.commands) {
      const failure = await runReadmeCommand(world, command);
      if (failure) failures.push(failure);
    }
  }

  // Request lines a service shows must have appeared by now (the commands above made them).
  for (const service of world.services) {
    const seen = world.normalise(service.output());
    for (const line of service.later.flatMap((l) => world.normalise(l))) {
      if (!seen.includes(line)) failures.push(`$ ${service.line}\nexpected a line: ${line}\nactual:\n${seen.join('\n')}`);
    }
  }

  // The CI recipe: every flag it uses exists, and its verify line runs for real.
  const yaml = yamlCommandLines(readReadme());
  assert.ok(yaml.some((l) => /^fe-webhooks listen .*--json/.test(l)), 'the CI recipe starts listen --json');
  assert.ok(yaml.some((l) => /^fe-webhooks verify .*--reporter junit/.test(l)), 'the CI recipe runs verify --reporter junit');
  for (const line of yaml) {
    const command = line.split(/\s+/)[1] as string;
    const help = await world.run(`fe-webhooks ${command} --help`);
    assert.equal(help.code, 0, help.raw);
    for (const flag of line.match(/--[a-z-]+/g) ?? []) {
      if (!help.raw.includes(flag)) failures.push(`CI recipe: ${line}: ${flag} is not an option of ${command}`);
    }
    if (!isService(line)) {
      const result = await world.run(line);
      if (result.code !== 0 && result.code !== 1) failures.push(`CI recipe: ${line}: exited ${result.code}\n${result.raw}`);
      const report = path.join(cwd, 'verify.xml');
      if (line.includes('--output verify.xml') && !(existsSync(report) && readFileSync(report, 'utf8').includes('<testsuite'))) {
        failures.push(`CI recipe: ${line}: wrote no JUnit report`);
      }
    }
  }

  await world.stopAll();
  assert.deepEqual(failures, [], failures.join('\n\n'));
});

test('the CI recipe runs: listen starts, the webhooks are checked with reasons on the console, the report is kept; a listen that cannot start fails the step at once with its own error', { timeout: 180_000 }, async (t) => {
  const steps = ciRecipeSteps(readReadme());
  const step = (pattern: RegExp): CiStep => {
    const found = steps.find((s) => s.run !== undefined && pattern.test(s.run));
    assert.ok(found, `a step that runs ${pattern}`);
    return found;
  };
  const receive = step(/fe-webhooks listen/);
  const check = step(/fe-webhooks verify/);
  const report = /--output (\S+)/.exec(check.run ?? '')?.[1];
  assert.ok(report, 'verify writes its report to a file');
  const upload = steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
  assert.ok(upload, 'the recipe uploads the report');
  assert.equal(upload.if, 'always()', 'even when a step failed');
  const uploaded = (upload.with?.path ?? '').split('\n').map((p) => p.trim()).filter(Boolean);
  assert.ok(uploaded.includes(report), `the upload keeps ${report}: ${uploaded.join(', ')}`);

  const secret = 'ci-recipe-secret';
  const app = await startReceiver(t, { secret });
  // `npx fe-webhooks` finds this checkout's binary, as it finds a devDependency's.
  const binDir = await linkedBin(t);
  await writeFile(path.join(binDir, 'npx'), '#!/bin/sh\nwhile [ "${1#-}" != "$1" ]; do shift; done\nexec "$@"\n', { mode: 0o755 });
  const port = await deadPort();
  const env = cleanEnv({ PATH: `${binDir}:${path.dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`, FE_WEBHOOKS_PORT: String(port) });
  const script = (s: CiStep): string => (s.run ?? '').replaceAll('localhost:3000', `127.0.0.1:${app.port}`);
  const groups: number[] = [];
  t.after(() => groups.forEach((group) => stopGroup(group, 'SIGKILL')));
  const run = async (s: CiStep, cwd: string, extra: { env?: NodeJS.ProcessEnv; secret?: string } = {}) => {
    const result = await runCiStep(s, script(s), { cwd, env: { ...env, ...extra.env }, secrets: { WEBHOOK_SECRET: extra.secret ?? secret }, timeoutMs: 60_000 });
    groups.push(result.group);
    return result;
  };

  const cwd = await tempDir(t, 'fe-webhooks-ci-');
  for (const s of steps) {
    if (s.run === undefined) continue;
    const command = s.run.trim();
    if (command.startsWith('npm ')) {
      // The app's own steps; its tests make its sender fire a webhook at listen.
      if (command === 'npm test') {
        const sent = await runCli(['send', 'MessageSent', '--url', `http://127.0.0.1:${port}/`], { cwd, env: { ...env, FE_WEBHOOKS_SECRET: secret } });
        assert.equal(sent.code, 0, sent.stdout + sent.stderr);
      }
      continue;
    }
    const result = await run(s, cwd);
    assert.equal(result.code, 0, `${s.name ?? command}: exited ${result.code}\n${result.stdout}${result.stderr}`);
  }
  assert.equal(app.requests.length, 1, 'listen forwarded the webhook to the app');
  for (const file of uploaded) assert.ok(existsSync(path.join(cwd, file)), `${file} is there to upload`);
  const xml = await readFile(path.join(cwd, report), 'utf8');
  const names = [...xml.matchAll(/<testcase classname="[^"]*" name="([^"]*)"/g)].map((m) => m[1]);
  assert.deepEqual(names, ['MessageSent (.fe-webhooks/captures.jsonl:1)', 'at least 1 valid MessageSent'], 'stable names: event and position, no capture id');

  // A failing check: the log says which request failed and why, though the report went to a file.
  const failed = await run(check, cwd, { secret: 'not-the-secret' });
  assert.equal(failed.code, 1, failed.stderr);
  assert.match(failed.stderr, /^✗ MessageSent req_\w+ \(\.fe-webhooks\/captures\.jsonl:1\): signature does not match the secret/m);
  assert.ok(failed.stderr.split('\n').includes(`0 passed, 2 failed (junit report in ${report})`), failed.stderr);
  assert.match(await readFile(path.join(cwd, report), 'utf8'), /<failure type="signature-invalid"/);

  const listenGroup = groups[0] as number;
  stopGroup(listenGroup);
  assert.ok(await groupGone(listenGroup, 10_000), 'listen stopped');

  // The port is taken: the step fails within seconds, with listen's own error in its log.
  const blocker = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  const taken = (blocker.address() as AddressInfo).port;
  const blocked = await run(receive, await tempDir(t, 'fe-webhooks-ci-taken-'), { env: { FE_WEBHOOKS_PORT: String(taken) } });
  assert.notEqual(blocked.code, 0, 'the step fails');
  assert.ok(blocked.ms < 15_000, `it fails at once, not after ${blocked.ms} ms`);
  assert.match(blocked.stderr, new RegExp(`error: Port ${taken} on 127\\.0\\.0\\.1 is already in use`));
});

test('the normaliser keeps what matters: a changed signature or status still differs', () => {
  const world = new ReadmeWorld({ cwd: '/tmp', binDir: '/nonexistent', appPort: 41234 });
  const shown = world.normalise('MessageSent             200     12 ms\n14:03:22  POST /  req_0mwye00s6779… http://localhost:3000/');
  assert.ok(linesMatch(shown, world.normalise('MessageSent 200 7.5 ms\n09:10:11 POST / req_0mwzabc http://localhost:41234/')));
  assert.ok(!linesMatch(shown, world.normalise('MessageSent 401 7.5 ms\n09:10:11 POST / req_0mwzabc http://localhost:41234/')));
  assert.ok(!linesMatch(world.normalise('sha256=aa'), world.normalise('sha256=ab')));
  assert.ok(linesMatch(['a', '…', 'd'], ['a', 'b', 'c', 'd']) && !linesMatch(['a', '…', 'd'], ['a', 'b']));
});
