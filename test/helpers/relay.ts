import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { TestContext } from 'node:test';
import { request } from 'undici';
import { memoryCursor } from '../../src/tunnel/cursor-file.js';
import { openTunnel, type Tunnel, type TunnelAnswer, type TunnelOptions, type TunnelRequest, type TunnelStatus } from '../../src/tunnel/client.js';
import { BIN, cleanEnv, removeScratch, scratchCwd } from './cli.js';

export interface RelayProcess {
  url: string;
  port: number;
  child: ChildProcess;
  /** Every stdout line after the ready line (--json log entries). */
  lines: string[];
  stderr(): string;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * Spawns `fe-webhooks relay --json` and waits for its ready line; killed when the test ends.
 * With `openFilesLimit`, it runs under `ulimit -n` (soft and hard), as a service would.
 */
export async function startRelayProcess(t: TestContext, dataDir: string, args: string[] = [], limits: { openFilesLimit?: number } = {}): Promise<RelayProcess> {
  const cwd = scratchCwd();
  t.after(() => removeScratch(cwd));
  const command = [process.execPath, BIN, 'relay', '--port', '0', '--data-dir', dataDir, '--json', ...args];
  // exec: the child's PID is the relay's own (tests read /proc/<pid>/fd).
  const [file, ...argv] = limits.openFilesLimit === undefined ? command : ['bash', '-c', `ulimit -n ${limits.openFilesLimit} && exec "$@"`, 'relay', ...command];
  const child = spawn(file as string, argv, {
    cwd,
    env: cleanEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // Even when the test process dies early, no relay outlives it.
  const reap = (): void => void child.kill('SIGKILL');
  process.once('exit', reap);
  t.after(async () => {
    process.off('exit', reap);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines: string[] = [];
  const reader = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay not ready in ${READY_TIMEOUT_MS} ms: ${stderr}`)), READY_TIMEOUT_MS);
    child.once('exit', (code) => reject(new Error(`relay exited ${code}: ${stderr}`)));
    reader.on('line', (line) => {
      const value = JSON.parse(line) as { type: string; url: string; port: number };
      if (value.type === 'ready') {
        clearTimeout(timer);
        resolve(value);
      } else lines.push(line);
    });
  });
  return {
    ...ready,
    child,
    lines,
    stderr: () => stderr,
    async kill(signal = 'SIGKILL') {
      child.kill(signal);
      return exited;
    },
  };
}

/** POST /channels on a relay. */
export async function createTestChannel(relayUrl: string): Promise<{ id: string; token: string; url: string }> {
  const response = await request(`${relayUrl}/channels`, { method: 'POST' });
  if (response.statusCode !== 201) throw new Error(`POST /channels → ${response.statusCode}`);
  return (await response.body.json()) as { id: string; token: string; url: string };
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'host', 'upgrade', 'te', 'trailer', 'content-length']);

/** The simplest tunnel handler: forwards byte-exact to an app, answers with its answer. */
export function forwardTo(appUrl: string): (request: TunnelRequest) => Promise<TunnelAnswer> {
  return async (incoming) => {
    const headers: string[] = [];
    for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has((incoming.rawHeaders[i] as string).toLowerCase())) headers.push(incoming.rawHeaders[i] as string, incoming.rawHeaders[i + 1] as string);
    }
    try {
      const response = await request(`${appUrl}${incoming.path}`, {
        method: incoming.method as 'POST',
        headers,
        body: incoming.body,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const type = response.headers['content-type'];
      return { status: response.statusCode, headers: typeof type === 'string' ? [['content-type', type]] : [], body };
    } catch {
      return { status: 502, headers: [], body: Buffer.alloc(0), forwardFailed: true };
    }
  };
}

/** POSTs raw bytes to a URL and returns status and body text. */
export async function post(url: string, body: Buffer | string, headers: Record<string, string> = {}): Promise<{ status: number; text: string; headers: Record<string, unknown> }> {
  const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: response.statusCode, text: await response.body.text(), headers: response.headers };
}

/** An in-process tunnel with quick backoffs and a memory cursor; closed when the test ends. */
export function openTestTunnel(
  t: TestContext,
  relayUrl: string,
  channel: { id: string; token: string },
  options: Partial<TunnelOptions> & Pick<TunnelOptions, 'handler'>,
): { tunnel: Tunnel; statuses: TunnelStatus[] } {
  const statuses: TunnelStatus[] = [];
  const tunnel = openTunnel({
    relayUrl: new URL(relayUrl),
    channel: channel.id,
    token: channel.token,
    cursor: memoryCursor(),
    reconnect: { initialMs: 50, maxMs: 300 },
    appRetry: { initialMs: 20, maxMs: 100 },
    ...options,
    onStatus: (status) => {
      statuses.push(status);
      options.onStatus?.(status);
    },
  });
  t.after(() => tunnel.close());
  return { tunnel, statuses };
}
