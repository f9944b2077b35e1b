import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../helpers/cli.js';
import { APT_LINE, SYSTEM_PROGRAMS, needs } from '../helpers/system-programs.js';

// One list of the programs tests run: the helper's, which README, CONTRIBUTING and CI repeat.
test('README, CONTRIBUTING.md and .ci/run name the same programs as the tests need, with the one apt line', async () => {
  const programs = Object.keys(SYSTEM_PROGRAMS);
  for (const doc of ['README.md', 'CONTRIBUTING.md']) {
    assert.ok((await readFile(path.join(REPO_ROOT, doc), 'utf8')).includes(APT_LINE), `${doc} has: ${APT_LINE}`);
  }
  const ci = await readFile(path.join(REPO_ROOT, '.ci/run'), 'utf8');
  assert.deepEqual(/for program in ([^;]+); do/.exec(ci)?.[1]?.split(' '), programs);
});

test('needs(): nothing to skip when the programs are there; under CI never a skip', (t) => {
  assert.deepEqual(needs(), {});
  t.mock.method(process.stderr, 'write', () => true);
  const path = process.env.PATH;
  const ci = process.env.CI;
  t.after(() => {
    process.env.PATH = path;
    if (ci === undefined) delete process.env.CI;
    else process.env.CI = ci;
  });
  // A PATH where no program is.
  process.env.PATH = '/nonexistent';
  delete process.env.CI;
  assert.match(needs('fish').skip ?? '', /^needs fish, not installed \(apt-get install -y /);
  process.env.CI = 'true';
  assert.deepEqual(needs('fish'), {});
});
