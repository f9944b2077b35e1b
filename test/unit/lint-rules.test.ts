// The lint that guards the design, exercised on code it must refuse: a layer importing a
// higher one, commander outside src/cli/, a browser page reaching into Node code, and
// import cycles that only type-only imports or a lazy import() make.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';

// lintText with a file path inside src/: the rules and the import resolver see it where it
// would live, and nothing is written into the checkout.
async function ruleIds(code: string, filePath: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: REPO_ROOT });
  const [result] = await eslint.lintText(code, { filePath: path.join(REPO_ROOT, filePath) });
  return (result?.messages ?? []).map((message) => message.ruleId ?? message.message);
}

test('a lower floor importing a higher one is refused; the other way round is fine', async () => {
  assert.deepEqual(await ruleIds("import { colors } from '../cli/colors.js';\nexport const c = colors;\n", 'src/util/probe.ts'), [
    'import-x/no-restricted-paths',
  ]);
  assert.deepEqual(await ruleIds("import { sign } from '../signing/index.js';\nexport const s = sign;\n", 'src/capture/probe.ts'), []);
  // Same floor: capture's neighbours on floor 4 do not import each other either.
  assert.deepEqual(await ruleIds("import { deliver } from '../delivery/deliver.js';\nexport const d = deliver;\n", 'src/verify/probe.ts'), [
    'import-x/no-restricted-paths',
  ]);
});

test('commander, chalk, ora and process.exit belong to src/cli/', async () => {
  const code = "import chalk from 'chalk';\nexport function stop(): void {\n  process.exit(chalk.level);\n}\n";
  assert.deepEqual(await ruleIds(code, 'src/relay/probe.ts'), ['no-restricted-imports', 'no-restricted-properties']);
  assert.deepEqual(await ruleIds(code, 'src/cli/probe.ts'), []);
});

test('the inspector page imports only the wire types', async () => {
  const code = "import { formatDuration } from '../../util/duration.js';\nexport const f = formatDuration;\n";
  assert.deepEqual(await ruleIds(code, 'src/inspector/page/probe.ts'), ['import-x/no-restricted-paths']);
  const wire = "import type { WireList } from '../wire.js';\nexport type L = WireList;\n";
  assert.deepEqual(await ruleIds(wire, 'src/inspector/page/probe.ts'), []);
});

test('a line over 140 characters in src/ is refused', async () => {
  assert.deepEqual(await ruleIds(`export const long = '${'x'.repeat(140)}';\n`, 'src/util/probe.ts'), ['@stylistic/max-len']);
});

function checkCycles(folder: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/check-cycles.mjs'), folder], { cwd: folder });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

test('check-cycles finds a cycle made of a type-only import and a lazy import(), and passes a clean tree', async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-cycles-');
  await mkdir(path.join(dir, 'commands'));
  await writeFile(path.join(dir, 'program.ts'), "export const load = () => import('./commands/send.js');\n");
  await writeFile(path.join(dir, 'commands/send.ts'), "import type { load } from '../program.js';\nexport type Load = typeof load;\n");
  await writeFile(path.join(dir, 'leaf.ts'), 'export const leaf = 1;\n');
  const found = await checkCycles(dir);
  assert.equal(found.code, 1);
  assert.match(found.stderr, /^import cycle among 2 files:\n {2}commands\/send\.ts -> program\.ts\n {2}program\.ts -> commands\/send\.ts\n/);
  // The fix the README describes: the shared piece moves down, the import goes one way.
  await writeFile(path.join(dir, 'commands/send.ts'), 'export type Load = () => Promise<unknown>;\n');
  assert.deepEqual(await checkCycles(dir), { code: 0, stderr: '' });
  // And this checkout's src/ is clean.
  assert.deepEqual(await checkCycles(path.join(REPO_ROOT, 'src')), { code: 0, stderr: '' });
});
