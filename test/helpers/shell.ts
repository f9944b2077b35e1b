import { spawn } from 'node:child_process';
import { cleanEnv } from './cli.js';

export interface ShellResult {
  line: string;
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A bash command line (for `ulimit`, `&&`, npm) run to completion; killed after `timeoutMs`. */
export function runShell(line: string, options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<ShellResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', line], { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ line, code, stdout, stderr });
    });
  });
}
