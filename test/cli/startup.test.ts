import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { COMMANDS } from '../../src/cli/program.js';
import { BIN, REPO_ROOT, cleanEnv, tempDir } from '../helpers/cli.js';

// What one run of the real binary loaded: the files it required and Node's built-in
// modules. Start-up time follows from these (bench/startup.mjs measures it), and unlike
// a timing they do not depend on how busy the machine is.
const REPORTER = `process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice('NativeModule '.length));
  require('node:fs').writeFileSync(process.env.LOADED_REPORT, JSON.stringify({ builtins, files: Object.keys(require.cache) }));
});
`;

interface Loaded {
  code: number | null;
  stdout: string;
  builtins: string[];
  files: string[];
}

async function loadedBy(t: TestContext, args: string[]): Promise<Loaded> {
  const dir = await tempDir(t, 'fe-webhooks-startup-');
  const reporter = path.join(dir, 'reporter.cjs');
  const report = path.join(dir, 'report.json');
  await writeFile(reporter, REPORTER);
  const run = spawnSync(process.execPath, ['--require', reporter, BIN, ...args], {
    cwd: dir,
    env: cleanEnv({ LOADED_REPORT: report }),
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
    timeout: 30_000,
  });
  const { builtins, files } = JSON.parse(await readFile(report, 'utf8')) as Omit<Loaded, 'code' | 'stdout'>;
  return { code: run.status, stdout: run.stdout, builtins, files: files.filter((f) => f !== reporter).map((f) => path.relative(REPO_ROOT, f)) };
}

const ESM_LOADER = 'internal/modules/esm/loader';

test('--version reads one bundled file and never starts the ES module loader', async (t) => {
  const loaded = await loadedBy(t, ['--version']);
  assert.equal(loaded.code, 0);
  assert.deepEqual(loaded.files, ['bin/fe-webhooks.js', 'dist/bin/main.cjs']);
  assert.ok(!loaded.builtins.includes(ESM_LOADER), 'no ES module loader');
});

test('generate reads the two bundled files and loads no crypto, child_process or fs/promises', async (t) => {
  const loaded = await loadedBy(t, ['generate', 'MessageSent']);
  assert.equal(loaded.code, 0);
  assert.deepEqual(loaded.files, ['bin/fe-webhooks.js', 'dist/bin/main.cjs', 'dist/bin/cli.cjs']);
  for (const heavy of [ESM_LOADER, 'crypto', 'child_process', 'fs/promises']) assert.ok(!loaded.builtins.includes(heavy), `generate loaded ${heavy}`);
});

// The one suite that runs every command's --help: what it loads, and what it says.
test("every command's --help shows its description and an example, and reads only the bundled files: its npm packages load when it runs", async (t) => {
  for (const { name, summary } of COMMANDS) {
    const loaded = await loadedBy(t, [name, '--help']);
    assert.equal(loaded.code, 0, name);
    assert.ok(loaded.stdout.replace(/\s+/g, ' ').includes(summary), `${name} help shows its description`);
    assert.match(loaded.stdout, /Examples?:\n {2}\$ fe-webhooks /, `${name} help has an example`);
    assert.deepEqual(loaded.files, ['bin/fe-webhooks.js', 'dist/bin/main.cjs', 'dist/bin/cli.cjs'], `${name} --help`);
    assert.ok(!loaded.builtins.includes(ESM_LOADER), `${name} --help started the ES module loader`);
  }
});
