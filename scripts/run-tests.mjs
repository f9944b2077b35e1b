#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// `npm test -- test/unit` narrows the run to files under the given paths; so does
// FE_WEBHOOKS_TEST_PATHS (space-separated) when none are given, for test/e2e/first-contact.test.ts,
// which runs the README's `npm test` as written inside a fresh clone.
// --in-process runs the files in one Node process instead of one each (`npm run test:unit`:
// the fast tier, whose files share no global state, pays tsx and Node's start-up once).
// Prints the run's wall time at the end, which CI keeps an eye on.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

function findTests(dir) {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const args = process.argv.slice(2);
const inProcess = args.includes('--in-process');
const given = args.filter((arg) => arg !== '--in-process');
const fromEnv = (process.env.FE_WEBHOOKS_TEST_PATHS ?? '').split(/\s+/).filter(Boolean);
const roots = given.length > 0 ? given : fromEnv.length > 0 ? fromEnv : ['test'];
const files = roots.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`No test files under ${roots.join(', ')}`);
  process.exit(1);
}
const started = performance.now();
const importAll = `for (const file of ${JSON.stringify(files.map((file) => pathToFileURL(path.resolve(file)).href))}) await import(file);`;
const child = spawn(
  process.execPath,
  inProcess
    ? ['--import', 'tsx', '--test-reporter=spec', '--input-type=module', '--eval', importAll]
    : ['--import', 'tsx', '--test', '--test-reporter=spec', ...files],
  { stdio: 'inherit' },
);
child.on('exit', (code, signal) => {
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const where = inProcess ? ', in one process' : '';
  console.log(`\ntest wall time: ${seconds} s for ${files.length} file${files.length === 1 ? '' : 's'}${where}`);
  process.exit(signal ? 1 : (code ?? 1));
});
