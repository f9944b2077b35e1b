import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = path.join(REPO_ROOT, 'bin/fe-webhooks.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  stdoutBytes: Buffer;
}

export interface CliRun {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string | Buffer;
  timeoutMs?: number;
  /** Run as this user (needs root): permission tests, which root would bypass. */
  user?: { uid: number; gid: number };
}

/** The environment a user would have, minus anything of ours that would leak into a test. */
export function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.FE_WEBHOOKS_SECRET;
  delete env.FE_WEBHOOKS_REDIS_URL;
  delete env.FORCE_COLOR;
  delete env.NO_COLOR;
  delete env.NODE_DEBUG;
  return { ...env, ...extra };
}

/**
 * An empty folder for a process a test gave no working folder: never the checkout, whose
 * files (a .fe-webhooksrc.json, a .fe-webhooks/ folder) would change what the CLI does,
 * and which the CLI must not write into. The caller removes it with `removeScratch`.
 */
export function scratchCwd(): string {
  return mkdtempSync(path.join(tmpdir(), 'fe-webhooks-cwd-'));
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Runs the real binary to completion, in `run.cwd` or a fresh empty folder. */
export function runCli(args: string[], run: CliRun = {}): Promise<CliResult> {
  const scratch = run.cwd === undefined ? scratchCwd() : undefined;
  return new Promise<CliResult>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: run.cwd ?? scratch,
      env: run.env ?? cleanEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
      ...(run.user ? { uid: run.user.uid, gid: run.user.gid } : {}),
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    const timer = setTimeout(() => child.kill('SIGKILL'), run.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const stdoutBytes = Buffer.concat(out);
      resolve({ code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes });
    });
    child.stdin.end(run.input ?? '');
  }).finally(() => {
    if (scratch !== undefined) removeScratch(scratch);
  });
}

/** A fresh temporary folder, removed when the test ends. */
export async function tempDir(t: TestContext, prefix = 'fe-webhooks-'): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Runs each case and checks the bad-input contract: exit 2, nothing on stdout, one line
 * on stderr matching the case's pattern, no stack trace.
 */
export async function expectUsageErrors(cases: ReadonlyArray<readonly [string[], RegExp]>, run: CliRun = {}): Promise<void> {
  for (const [args, message] of cases) {
    const result = await runCli(args, run);
    const label = args.join(' ');
    assert.equal(result.code, 2, `${label}: ${result.stderr}`);
    assert.equal(result.stdout, '', label);
    assert.match(result.stderr, message, label);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line for ${label}: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\n\s+at /, `no stack trace for ${label}`);
  }
}
