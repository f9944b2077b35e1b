import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { captureRecord, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'write-errors-secret';

/** Runs the CLI with stdout going to `stdout` (a file descriptor); collects stderr. */
function runWithStdout(args: string[], stdout: number, cwd: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', stdout, 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

/** A captures file whose text report (~100 KB) outgrows a pipe's 64 KiB buffer. */
async function bigCaptures(dir: string): Promise<string> {
  const file = path.join(dir, 'captures.jsonl');
  await writeCaptures(file, Array.from({ length: 1500 }, (_, seed) => captureRecord({ event: 'MessageSent', seed, secret: SECRET })));
  return file;
}

test('stdout on a full disk (/dev/full): one line on stderr, exit 1, no stack trace', async (t) => {
  const dir = await tempDir(t);
  const file = await bigCaptures(dir);
  for (const args of [['generate', 'MessageSent'], ['events'], ['verify', file, '--secret', SECRET]]) {
    const full = openSync('/dev/full', 'w');
    const result = await runWithStdout(args, full, dir).finally(() => closeSync(full));
    const label = args.join(' ');
    assert.equal(result.code, 1, `${label}: ${result.stderr}`);
    assert.equal(result.stderr, 'error: cannot write to standard output: ENOSPC: no space left on device, write\n', label);
  }
});

test('stdout piped into a reader that stops early (| head): quiet exit 0, as ripgrep does', async (t) => {
  const dir = await tempDir(t);
  const file = await bigCaptures(dir);
  const child = spawn(process.execPath, [BIN, 'verify', file, '--secret', SECRET], { cwd: dir, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  const code = await new Promise<number | null>((resolve) => {
    // Read the first chunk, then close the pipe as `head -1` does: the writer is blocked on a
    // full pipe by then, so its next write meets EPIPE.
    child.stdout.once('data', () => child.stdout.destroy());
    child.on('close', (exitCode) => resolve(exitCode));
  });
  clearTimeout(timer);
  assert.equal(code, 0, stderr);
  assert.equal(stderr, '', 'nothing on stderr');
});

test('environment faults are classified by their code: a path the user gave is exit 2, the machine is exit 1, anything else a bug', async () => {
  const { environmentFault } = await import('../../src/cli/environment-fault.js');
  const fault = (code: string, syscall = 'open'): unknown => Object.assign(new Error(`${code}: something, ${syscall}`), { code, syscall });
  assert.deepEqual(environmentFault(fault('EACCES')), { exitCode: 2, message: 'EACCES: something, open' });
  assert.equal(environmentFault(fault('EISDIR'))?.exitCode, 2);
  for (const code of ['ENOSPC', 'EMFILE', 'EIO', 'EPIPE', 'EDQUOT']) assert.equal(environmentFault(fault(code, 'write'))?.exitCode, 1, code);
  assert.equal(environmentFault(new TypeError('x is not a function')), undefined, 'a bug stays a bug');
  assert.equal(environmentFault(Object.assign(new Error('x'), { code: 'ERR_INVALID_ARG_TYPE' })), undefined, "Node's argument errors are bugs");
});
