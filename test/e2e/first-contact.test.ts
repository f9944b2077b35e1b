import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT, tempDir } from '../helpers/cli.js';
import { fencedBlocks } from '../helpers/readme.js';
import { runShell, type ShellResult } from '../helpers/shell.js';

/**
 * Issue 22, first contact: on a fresh clone, the README's install commands, its main
 * job and its test command work exactly as written, and npm prints no warning a new
 * user would have to wonder about (npm 11: install scripts not covered by allowScripts).
 *
 * The clone is of the last commit. Global installs (`npm link`) go to a prefix inside
 * the temporary folder (npm_config_prefix). The nested `npm test` runs a few test files
 * (FE_WEBHOOKS_TEST_PATHS), not the whole suite again and never this file: set
 * FE_WEBHOOKS_FIRST_CONTACT_FULL=1 to run everything there (minutes more).
 */

const NESTED = process.env.FE_WEBHOOKS_FIRST_CONTACT_NESTED === '1';
/** A git checkout to clone (not an unpacked tarball). */
const CLONABLE = existsSync(path.join(REPO_ROOT, '.git'));
const NESTED_TESTS = 'test/unit/signing.test.ts test/cli/foundation.test.ts';

type Step = ShellResult;

/** A shell block's commands, without their trailing comments. */
function commands(block: { body: string[] }): string[] {
  return block.body.map((l) => l.replace(/\s+#.*$/, '').trim()).filter((l) => l !== '' && !l.startsWith('#'));
}

function npmWarnings(steps: readonly Step[]): string[] {
  return steps.flatMap((s) => `${s.stdout}\n${s.stderr}`.split('\n').filter((l) => /^npm warn/i.test(l)).map((l) => `${s.line}: ${l}`));
}

test('a fresh clone: the README\'s install, main job (--help) and test commands work as written, with no npm warning', { skip: (NESTED && 'the nested run inside the clone') || (!CLONABLE && 'not a git checkout'), timeout: 900_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-first-contact-');
  const clone = path.join(dir, 'fe-webhooks');
  const prefix = path.join(dir, 'prefix');
  await mkdir(prefix);
  const cloned = await runShell(`git clone --quiet ${JSON.stringify(REPO_ROOT)} ${JSON.stringify(clone)}`, { cwd: dir, env: process.env, timeoutMs: 60_000 });
  assert.equal(cloned.code, 0, cloned.stderr);

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    // Global installs land in the temporary folder; its bin/ comes first on PATH.
    npm_config_prefix: prefix,
    PATH: `${path.join(prefix, 'bin')}:${process.env.PATH ?? ''}`,
    // The packages come from the cache the outer `npm ci` filled, when they are there.
    npm_config_prefer_offline: 'true',
    FE_WEBHOOKS_FIRST_CONTACT_NESTED: '1',
    ...(process.env.FE_WEBHOOKS_FIRST_CONTACT_FULL === '1' ? {} : { FE_WEBHOOKS_TEST_PATHS: NESTED_TESTS }),
  };
  // What the outer run set must not leak into the clone's: its npm scripts' settings, and
  // the test runner's marker (which makes a nested `node --test` report to a parent, not print).
  for (const key of Object.keys(env)) if (key.startsWith('npm_') && key !== 'npm_config_prefix' && key !== 'npm_config_prefer_offline') delete env[key];
  delete env.NODE_TEST_CONTEXT;

  const readme = await readFile(path.join(clone, 'README.md'), 'utf8');
  const [install, tests] = fencedBlocks(readme, 'sh');
  assert.ok(install && tests, 'the README opens with an install block and a test block');
  const installLines = commands(install);
  assert.ok(installLines.some((l) => l.startsWith('npm ')), `install commands: ${installLines.join('; ')}`);
  const mainJob = installLines.find((l) => l.startsWith('fe-webhooks '));
  assert.equal(mainJob, 'fe-webhooks listen --forward localhost:3000', 'the main job follows the install');
  assert.deepEqual(commands(tests), ['npm test']);

  const steps: Step[] = [];
  for (const line of installLines) {
    // The main job, asked for its help: it must be on PATH and run, but not serve.
    const step = await runShell(line === mainJob ? `${line} --help` : line, { cwd: clone, env, timeoutMs: 600_000 });
    steps.push(step);
    assert.equal(step.code, 0, `$ ${step.line}\n${step.stdout}\n${step.stderr}`);
  }
  const help = steps.at(-1) as Step;
  assert.match(help.stdout, /^Usage: fe-webhooks listen /m, 'fe-webhooks on PATH is the clone');

  const tested = await runShell('npm test', { cwd: clone, env, timeoutMs: 600_000 });
  steps.push(tested);
  assert.equal(tested.code, 0, `$ npm test\n${tested.stdout.slice(-4000)}\n${tested.stderr.slice(-4000)}`);
  assert.match(tested.stdout, /ℹ pass [1-9]/);

  // The CI recipe's install line in another project: a devDependency on the packed tarball.
  const app = path.join(dir, 'app');
  await mkdir(path.join(app, 'vendor'), { recursive: true });
  await writeFile(path.join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', private: true }, null, 2)}\n`);
  steps.push(await runShell('npm pack --pack-destination ../app/vendor', { cwd: clone, env, timeoutMs: 120_000 }));
  const tarball = /vendor\/(fe-webhooks-[\d.]+\.tgz)/.exec(readme)?.[1];
  assert.ok(tarball, 'the README names the tarball');
  for (const [line, cwd] of [
    [`npm install --save-dev ./vendor/${tarball}`, app],
    ['rm -rf node_modules && npm ci', app],
    ['npx --no-install fe-webhooks listen --help', app],
  ] as const) {
    const step = await runShell(line, { cwd, env, timeoutMs: 300_000 });
    steps.push(step);
    assert.equal(step.code, 0, `$ ${line}\n${step.stdout}\n${step.stderr}`);
  }
  assert.match((steps.at(-1) as Step).stdout, /^Usage: fe-webhooks listen /m);

  assert.deepEqual(npmWarnings(steps), [], 'npm printed no warning');
});
