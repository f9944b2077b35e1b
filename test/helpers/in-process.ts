import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';
import { cleanEnv, type CliResult } from './cli.js';

/**
 * Runs the CLI in this process through `main(argv, io)`, from the TypeScript sources: no
 * build, no child process. For the fast tier (`npm run test:unit`); what only the real
 * binary shows (start-up, signals, exit codes of a crash) stays with runCli.
 */
export async function runMain(args: string[], run: { cwd: string; input?: string | Buffer; env?: NodeJS.ProcessEnv }): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => out.push(chunk));
  stderr.on('data', (chunk: Buffer) => err.push(chunk));
  const stdin = new PassThrough();
  stdin.end(run.input ?? '');
  const io: CliIO = { cwd: run.cwd, env: run.env ?? cleanEnv(), stdin, stdout, stderr };
  const code = await main(['node', 'fe-webhooks', ...args], io);
  const stdoutBytes = Buffer.concat(out);
  return { code, stdout: stdoutBytes.toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), stdoutBytes };
}
