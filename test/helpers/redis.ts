import { spawn, type ChildProcess } from 'node:child_process';
import type { TestContext } from 'node:test';
import { deadPort } from './ports.js';
import { programPath } from './system-programs.js';

const READY_TIMEOUT_MS = 10_000;

export interface RedisServer {
  url: string;
  port: number;
  /** Stops it (SIGTERM: Redis flushes the AOF) and waits for the exit. */
  stop(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  start(): Promise<void>;
}


/**
 * A real redis-server on 127.0.0.1 with the durability the relay promises (AOF, fsync
 * on every write), its files in `dir`; killed when the test ends.
 */
export async function startRedis(t: TestContext, dir: string): Promise<RedisServer> {
  const port = await deadPort();
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  const reap = (): void => void child?.kill('SIGKILL');
  process.once('exit', reap);
  const start = async (): Promise<void> => {
    const proc = spawn(programPath('redis-server'), ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    let output = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server not ready in ${READY_TIMEOUT_MS} ms: ${output}`)), READY_TIMEOUT_MS);
      proc.once('exit', (code) => reject(new Error(`redis-server exited ${code}: ${output}`)));
      proc.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
  };
  const stop = async (): Promise<void> => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  };
  t.after(async () => {
    process.off('exit', reap);
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await start();
  return { url: `redis://127.0.0.1:${port}`, port, stop, start };
}
