import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { COMMANDS } from '../../src/cli/program.js';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { runCli, tempDir } from '../helpers/cli.js';

test('every command has --help with a description and at least one example', async () => {
  for (const { name, summary } of COMMANDS) {
    const help = await runCli([name, '--help']);
    assert.equal(help.code, 0, name);
    assert.ok(help.stdout.includes(summary), `${name} help shows its description`);
    assert.match(help.stdout, /Examples?:\n {2}\$ fe-webhooks /, `${name} help has an example`);
  }
  const overview = await runCli(['--help']);
  for (const { name } of COMMANDS) assert.match(overview.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
});

test('a mistyped command gets "did you mean"', async () => {
  const result = await runCli(['generat', 'MessageSent']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'generat'\n\(Did you mean generate\?\)/);
});

function complete(script: string, words: string[]): string[] {
  const bash = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _fe_webhooks; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', bash], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.split('\n').filter(Boolean);
}

test('bash completion loads and completes commands, flags and event names', async (t) => {
  const dir = await tempDir(t);
  const result = await runCli(['completion', 'bash']);
  assert.equal(result.code, 0, result.stderr);
  const script = path.join(dir, 'fe-webhooks.bash');
  await writeFile(script, result.stdout);
  assert.equal(spawnSync('bash', ['-n', script]).status, 0, 'bash -n accepts the script');
  const names = COMMANDS.map((c) => c.name);
  assert.deepEqual(complete(script, ['fe-webhooks', 'se']), names.filter((n) => n.startsWith('se')));
  assert.deepEqual(complete(script, ['fe-webhooks', 'ge']), ['generate']);
  assert.deepEqual(complete(script, ['fe-webhooks', 'generate', 'MessageB']), ['MessageBounced']);
  assert.deepEqual(complete(script, ['fe-webhooks', 'generate', '--s']), ['--set', '--seed']);
  assert.deepEqual(complete(script, ['fe-webhooks', 'generate', '--seed', '']), []);
  assert.deepEqual(complete(script, ['fe-webhooks', 'completion', 'z']), ['zsh']);
});

test('zsh and fish scripts name every command and event', async () => {
  for (const shell of ['zsh', 'fish']) {
    const result = await runCli(['completion', shell]);
    assert.equal(result.code, 0, result.stderr);
    for (const { name } of COMMANDS) assert.ok(result.stdout.includes(name), `${shell}: ${name}`);
    for (const event of EVENT_NAMES) assert.ok(result.stdout.includes(event), `${shell}: ${event}`);
  }
  const bad = await runCli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
});
