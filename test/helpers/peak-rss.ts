import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BIN, cleanEnv } from './cli.js';

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The most memory the process ever held (VmHWM), in bytes. */
  peakRssBytes: number;
}

/** The process's high-water mark of resident memory, or 0 once it is gone. */
function highWaterMark(pid: number): number {
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * Runs the real CLI and reads its peak resident memory from /proc while it runs (VmHWM
 * only grows, so the last reading before it exits is its peak, give or take the last
 * 20 ms). stdout is kept only at its end: a big report would otherwise fill the test.
 */
export function runCliMeasured(args: string[], options: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak = 0;
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString('utf8')).slice(-4096)));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const poll = setInterval(() => (peak = Math.max(peak, highWaterMark(child.pid as number))), 20);
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearInterval(poll);
      clearTimeout(timer);
      resolve({ code, stdout, stderr, peakRssBytes: peak });
    });
  });
}
