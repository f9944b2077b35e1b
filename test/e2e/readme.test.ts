import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, tempDir } from '../helpers/cli.js';
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

test('the normaliser keeps what matters: a changed signature or status still differs', () => {
  const world = new ReadmeWorld({ cwd: '/tmp', binDir: '/nonexistent', appPort: 41234 });
  const shown = world.normalise('MessageSent             200     12 ms\n14:03:22  POST /  req_0mwye00s6779… http://localhost:3000/');
  assert.ok(linesMatch(shown, world.normalise('MessageSent 200 7.5 ms\n09:10:11 POST / req_0mwzabc http://localhost:41234/')));
  assert.ok(!linesMatch(shown, world.normalise('MessageSent 401 7.5 ms\n09:10:11 POST / req_0mwzabc http://localhost:41234/')));
  assert.ok(!linesMatch(world.normalise('sha256=aa'), world.normalise('sha256=ab')));
  assert.ok(linesMatch(['a', '…', 'd'], ['a', 'b', 'c', 'd']) && !linesMatch(['a', '…', 'd'], ['a', 'b']));
});
