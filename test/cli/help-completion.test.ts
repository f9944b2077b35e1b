import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { COMMANDS } from '../../src/cli/program.js';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { assertQuotesBalanced, bashCompletions, fishCompletions, zshCompletions } from '../helpers/shell-completion.js';
import { needs } from '../helpers/system-programs.js';

test('the overview lists every command', async () => {
  const overview = await runCli(['--help']);
  assert.equal(overview.code, 0);
  for (const { name } of COMMANDS) assert.match(overview.stdout, new RegExp(`^  ${name}\\b`, 'm'), name);
});

test('a mistyped command gets "did you mean"', async () => {
  const result = await runCli(['generat', 'MessageSent']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /unknown command 'generat'\n\(Did you mean generate\?\)/);
});

/** Each shell's script, written to a file. */
async function scripts(t: TestContext): Promise<{ dir: string; bash: string; zsh: string; fish: string }> {
  const dir = await tempDir(t);
  const files = { dir, bash: '', zsh: '', fish: '' };
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const result = await runCli(['completion', shell]);
    assert.equal(result.code, 0, result.stderr);
    files[shell] = path.join(dir, `fe-webhooks.${shell}`);
    await writeFile(files[shell], result.stdout);
  }
  return files;
}

const COMMAND_NAMES = COMMANDS.map((c) => c.name);

/**
 * What every shell must offer for these command lines (the last word is being completed).
 * `captures` has subcommands; `--set` takes a JSON path (no file names); `--reporter` has choices.
 */
const EXPECTED: Array<[line: string, matches: string[]]> = [
  ['fe-webhooks se', COMMAND_NAMES.filter((n) => n.startsWith('se'))],
  ['fe-webhooks ge', ['generate']],
  ['fe-webhooks generate MessageB', ['MessageBounced']],
  ['fe-webhooks generate --s', ['--seed', '--set']],
  ['fe-webhooks generate --set ', []],
  ['fe-webhooks generate --seed ', []],
  ['fe-webhooks send --t', ['--time-scale', '--timeout']],
  ['fe-webhooks verify --reporter ', ['json', 'junit', 'text']],
  ['fe-webhooks check --reporter j', ['json', 'junit']],
  ['fe-webhooks verify --expect SendLimitA', ['SendLimitApproaching']],
  ['fe-webhooks captures ', ['export']],
  ['fe-webhooks captures export --', ['--from', '--har', '--output']],
  ['fe-webhooks completion z', ['zsh']],
];

/** bash, zsh and fish differ in what they add (bash: --help; zsh/fish: descriptions): compare the candidates only. */
const withoutHelp = (matches: string[]): string[] => matches.filter((m) => m !== '--help').sort();

test('bash completion loads in bash and completes commands, subcommands, flags, choices and event names', async (t) => {
  const { bash } = await scripts(t);
  assert.equal(spawnSync('bash', ['-n', bash]).status, 0, 'bash -n accepts the script');
  for (const [line, matches] of EXPECTED) {
    const words = line.split(' ');
    assert.deepEqual(withoutHelp(bashCompletions(bash, words)), [...matches].sort(), line);
  }
  // No fallback to file names when a flag's value has no completion (--set takes a JSON path).
  const registered = spawnSync('bash', ['-c', `source ${JSON.stringify(bash)}; complete -p fe-webhooks`], { encoding: 'utf8' });
  assert.equal(registered.stdout.trim(), 'complete -F _fe_webhooks fe-webhooks');
});

test('zsh completion loads in a real interactive zsh and completes the same', needs('zsh'), async (t) => {
  const { dir, zsh } = await scripts(t);
  assert.equal(spawnSync('zsh', ['-n', zsh]).status, 0, 'zsh -n accepts the script');
  for (const [line, matches] of EXPECTED) assert.deepEqual(zshCompletions(zsh, line, dir), [...matches].sort(), line);
});

test('fish completion loads in fish and completes the same', needs('fish'), async (t) => {
  const { fish } = await scripts(t);
  assert.equal(spawnSync('fish', ['--no-execute', fish]).status, 0, 'fish -n accepts the script');
  for (const [line, matches] of EXPECTED) assert.deepEqual(fishCompletions(fish, line), [...matches].sort(), line);
});

test('every script names every command and event, and its quoting is sound even where its shell is missing', async (t) => {
  const files = await scripts(t);
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    const text = await readFile(files[shell], 'utf8');
    for (const name of COMMAND_NAMES) assert.ok(text.includes(name), `${shell}: ${name}`);
    for (const event of EVENT_NAMES) assert.ok(text.includes(event), `${shell}: ${event}`);
    // POSIX quoting for bash and zsh (fish's own rules let \' in single quotes).
    if (shell !== 'fish') assertQuotesBalanced(text);
  }
  // A description with a quote (FrontEngine's) is where the zsh script used to break.
  assert.match(await readFile(files.zsh, 'utf8'), /FrontEngine'\\''s/);
  const bad = await runCli(['completion', 'tcsh']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /Allowed choices are bash, zsh, fish/);
});
