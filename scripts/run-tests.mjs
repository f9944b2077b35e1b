#!/usr/bin/env node
// Runs every test/**/*.test.ts with Node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs, so the files are listed here.
// `npm test -- test/unit` narrows the run to files under the given paths; so does
// FE_WEBHOOKS_TEST_PATHS (space-separated) when none are given, for test/e2e/first-contact.test.ts,
// which runs the README's `npm test` as written inside a fresh clone.
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

function findTests(dir) {
  if (statSync(dir).isFile()) return [dir];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : findTests(full);
    return entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

const fromEnv = (process.env.FE_WEBHOOKS_TEST_PATHS ?? '').split(/\s+/).filter(Boolean);
const roots = process.argv.slice(2).length > 0 ? process.argv.slice(2) : fromEnv.length > 0 ? fromEnv : ['test'];
const files = roots.flatMap(findTests).sort();
if (files.length === 0) {
  console.error(`No test files under ${roots.join(', ')}`);
  process.exit(1);
}
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=spec', ...files], { stdio: 'inherit' });
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
