import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { BIN, cleanEnv, removeScratch, scratchCwd } from './cli.js';

export interface ListenReady {
  type: 'ready';
  url: string;
  inspectorUrl: string;
  forward: string | null;
  captures: string | null;
  signingSecret?: string;
}

export interface RunningListen {
  child: ChildProcess;
  ready: ListenReady;
  /** stdout lines after the ready line, as they arrive. */
  lines: string[];
  /** Resolves once `count` lines have followed the ready line. */
  waitForLines(count: number, timeoutMs?: number): Promise<string[]>;
  /** Waits for the exit (after a signal sent some other way). */
  exited(): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Sends a signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; stdout: string; stderr: string }>;
}

/**
 * Starts `fe-webhooks listen --json --port 0 ...` and waits for its ready line. Killed
 * when the test ends if it is still running.
 */
export async function startListenCli(t: TestContext, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningListen> {
  const scratch = options.cwd === undefined ? scratchCwd() : undefined;
  if (scratch !== undefined) t.after(() => removeScratch(scratch));
  const child = spawn(process.execPath, [BIN, 'listen', '--json', '--port', '0', ...args], {
    cwd: options.cwd ?? scratch,
    env: options.env ?? cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const lines: string[] = [];
  const wakers = new Set<() => void>();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  // Only the unfinished tail is kept aside: complete lines are appended once, so long
  // runs stay linear in their output.
  let partialLine = '';
  // Decoded by the stream, so a character split across two chunks stays whole.
  child.stdout?.setEncoding('utf8');
  child.stdout?.on('data', (text: string) => {
    stdout += text;
    const pieces = (partialLine + text).split('\n');
    partialLine = pieces.pop() ?? '';
    for (const line of pieces) lines.push(line);
    for (const wake of wakers) wake();
  });
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.on('exit', () => {
    for (const wake of wakers) wake();
  });

  async function waitForStdoutLines(count: number, timeoutMs: number): Promise<string[]> {
    const deadline = Date.now() + timeoutMs;
    while (lines.length < count) {
      if (child.exitCode !== null) throw new Error(`listen exited with ${child.exitCode}: ${stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${count} lines from listen; stderr: ${stderr}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, left);
        function done(): void {
          clearTimeout(timer);
          wakers.delete(done);
          resolve();
        }
        wakers.add(done);
      });
    }
    return lines.slice(0, count);
  }

  const [readyLine] = await waitForStdoutLines(1, 15_000);
  const ready = JSON.parse(readyLine as string) as ListenReady;
  return {
    child,
    ready,
    get lines() {
      return lines.slice(1);
    },
    async waitForLines(count, timeoutMs = 10_000) {
      return (await waitForStdoutLines(count + 1, timeoutMs)).slice(1);
    },
    async exited() {
      const code = await exited;
      return { code, stdout, stderr };
    },
    async stop(signal = 'SIGINT') {
      child.kill(signal);
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}
