import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { ReadmeWorld, extractConsoleBlocks, readReadme, runReadmeCommand, startReadmeApp } from '../helpers/readme.js';

const NPM = 'npm';

test('npm pack ships only what runs, and the tarball installs globally into an empty prefix and runs', { timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-pack-');
  // --ignore-scripts: dist/ is already built by `npm test`; packing must not rebuild it.
  const packed = JSON.parse(
    execFileSync(NPM, ['pack', '--json', '--ignore-scripts', '--pack-destination', dir], { cwd: REPO_ROOT, encoding: 'utf8' }),
  ) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]?.files.map((f) => f.path) ?? [];
  assert.ok(files.includes('bin/fe-webhooks.js'));
  assert.ok(files.includes('bin/package.json'), 'bin/ is CommonJS');
  assert.ok(files.includes('dist/bin/main.cjs') && files.includes('dist/bin/cli.cjs'), 'the bundled CLI ships');
  assert.ok(!files.some((f) => f.startsWith('dist/cli/')), 'not the unbundled CLI beside it');
  assert.ok(files.includes('dist/index.d.ts'), 'library types ship');
  const strays = files.filter((f) => !/^(bin\/|dist\/|fixtures\/(events|scenarios)\/|README\.md$|package\.json$|LICENSE)/.test(f) || f.endsWith('.map'));
  assert.deepEqual(strays, [], 'no tests, sources or source maps in the tarball');

  const tarball = path.join(dir, packed[0]?.filename as string);
  const prefix = path.join(dir, 'prefix');
  // Dependencies come from the npm cache that `npm ci` filled: no network needed.
  execFileSync(NPM, ['install', '-g', tarball, '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error'], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const installed = path.join(prefix, 'bin', 'fe-webhooks');
  assert.ok(readdirSync(path.join(prefix, 'bin')).includes('fe-webhooks'));
  const run = (args: string[]) => spawnSync(installed, args, { cwd: dir, encoding: 'utf8', env: { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: dir } });
  const help = run(['--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /Usage: fe-webhooks/);
  const generated = run(['generate', 'MessageBounced', '--seed', '1']);
  assert.equal(generated.status, 0, generated.stderr);
  assert.equal(JSON.parse(generated.stdout).event, 'MessageBounced');

  // The README's examples against the installed binary (a bounded few: the offline
  // commands, listen --json as a service, and check's 14 cases against a real app).
  const examples = await tempDir(t, 'fe-webhooks-pack-readme-');
  const app = await startReadmeApp(t, examples);
  const world = new ReadmeWorld({ cwd: examples, binDir: path.join(prefix, 'bin'), appPort: app.port });
  t.after(() => world.stopAll());
  const chosen = extractConsoleBlocks(readReadme())
    .flatMap((block) => block.commands)
    .filter((c) => /^fe-webhooks (events|generate|sign|check)\b/.test(c.line) || c.line.startsWith('fe-webhooks listen --json'));
  assert.ok(chosen.length >= 5 && chosen.length <= 8, `a handful of README commands: ${chosen.map((c) => c.line).join('; ')}`);
  for (const command of chosen) {
    const failure = await runReadmeCommand(world, command);
    assert.equal(failure, undefined, failure);
  }
  await world.stopAll();
});
