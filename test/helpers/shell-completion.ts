import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * What a completion script offers, asked of the real shell: bash through its completion
 * variables, fish through `complete -C`, zsh through an interactive zsh in a pseudo-
 * terminal (zpty) where Tab is pressed and every match that reaches compadd is recorded.
 * The shells run in the script's own folder, never the checkout: a completion that falls
 * back to file names then offers the script's file, wherever the suite runs.
 */

/** The matches bash's completion function puts in COMPREPLY for these words (the last one is being completed). */
export function bashCompletions(script: string, words: string[]): string[] {
  const line = `source ${JSON.stringify(script)}; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _fe_webhooks; printf '%s\\n' "\${COMPREPLY[@]}"`;
  const result = spawnSync('bash', ['-c', line], { encoding: 'utf8', cwd: path.dirname(script) });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '');
  return result.stdout.split('\n').filter(Boolean);
}

/** What fish offers for a command line (`complete -C`), candidates only. */
export function fishCompletions(script: string, line: string): string[] {
  const result = spawnSync('fish', ['--no-config', '-c', `source ${fishQuote(script)}; and complete -C ${fishQuote(line)}`], {
    encoding: 'utf8',
    cwd: path.dirname(script),
  });
  assert.equal(result.status, 0, result.stderr);
  assert.equal(result.stderr, '', 'the script loads without a complaint');
  return [...new Set(result.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0] as string))].sort();
}

function fishQuote(text: string): string {
  return `'${text.replace(/[\\']/g, (m) => `\\${m}`)}'`;
}

/** Tab pressed in a real interactive zsh: see zsh-complete.zsh. */
const ZSH_HARNESS = path.join(path.dirname(fileURLToPath(import.meta.url)), 'zsh-complete.zsh');

export function zshCompletions(script: string, line: string, dir: string): string[] {
  const hits = path.join(dir, 'zsh-hits');
  rmSync(hits, { force: true });
  rmSync(`${hits}.err`, { force: true });
  const result = spawnSync('zsh', ['-f', ZSH_HARNESS, script, line, hits], { encoding: 'utf8', timeout: 30_000, cwd: path.dirname(script) });
  assert.equal(result.status, 0, `zsh completed "${line}": ${result.stderr}`);
  assert.equal(readIfThere(`${hits}.err`), '', 'sourcing the script printed nothing on stderr');
  const text = readIfThere(hits);
  return [...new Set(text.split('\n').filter((l) => l.startsWith('<hit>')).map((l) => l.slice('<hit>'.length)))].sort();
}

function readIfThere(file: string): string {
  return existsSync(file) ? readFileSync(file, 'utf8') : '';
}

/**
 * Without the shell at hand: the script's quoting, checked strictly as POSIX single and
 * double quotes nest (what broke zsh: `\'` inside single quotes ends the word there).
 * Every line outside a continuation must end outside any quote.
 */
export function assertQuotesBalanced(script: string): void {
  script.split('\n').forEach((line, index) => {
    let quote: "'" | '"' | undefined;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (quote === "'") {
        if (c === "'") quote = undefined;
      } else if (quote === '"') {
        if (c === '\\') i++;
        else if (c === '"') quote = undefined;
      } else if (c === '\\') i++;
      else if (c === '#' && (i === 0 || /\s/.test(line[i - 1] as string))) break;
      else if (c === "'" || c === '"') quote = c;
    }
    assert.equal(quote, undefined, `line ${index + 1} ends inside ${quote} quotes: ${line}`);
  });
}
