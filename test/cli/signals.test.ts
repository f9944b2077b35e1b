import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { test, type TestContext } from 'node:test';
import { BIN, cleanEnv, tempDir } from '../helpers/cli.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';
import { captureRecord, capturesText, writeCaptures } from '../helpers/verify-captures.js';

/**
 * Issue 17.1: under a pty that reports 0 columns the load-mode spinner cleared lines
 * forever (100% CPU, deaf to Ctrl-C and SIGTERM). These run the real CLI under
 * util-linux `script` (a real pty) and send real signals to the real process.
 */

const HAS_SCRIPT = spawnSync('script', ['--version']).status === 0;
/** How long a stop may take: a graceful one is quick; the CLI's own deadline is 8 s. */
const STOP_BOUND_MS = 12_000;

interface Running {
  child: ChildProcess;
  output(): string;
  /** Resolves when the output matches. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(t: TestContext, command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Running {
  const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? cleanEnv(), stdio: ['pipe', 'pipe', 'pipe'] });
  let text = '';
  const listeners = new Set<() => void>();
  const append = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    for (const wake of listeners) wake();
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          if (!pattern.test(text)) return;
          listeners.delete(check);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`));
        }, timeoutMs);
        listeners.add(check);
        check();
      }),
  };
}

/** Resolves with how the process ended; fails the test if it does not end within the bound. */
async function endsWithin(running: Running, boundMs = STOP_BOUND_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${boundMs} ms after the signal; output:\n${running.output().slice(-2000)}`)), boundMs);
  });
  try {
    return await Promise.race([running.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The CLI inside a real pty of `columns` columns; the pty's shell prints its pid, then becomes the CLI (exec). */
function underPty(t: TestContext, columns: number, cliArgs: string[]): Running & { pid(): Promise<number> } {
  const quoted = [process.execPath, BIN, ...cliArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  const line = `stty cols ${columns} rows 24; echo "pid=$$"; exec ${quoted}`;
  // TERM set and no NO_COLOR: a terminal where the spinner would show.
  const running = start(t, 'script', ['-qec', line, '/dev/null'], { env: cleanEnv({ TERM: 'xterm-256color' }) });
  // The CLI itself, not just `script`: a CLI stuck in a busy loop would outlive its pty.
  t.after(() => {
    const pid = Number(/pid=(\d+)/.exec(running.output())?.[1]);
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone, as it should be.
      }
    }
  });
  return {
    ...running,
    pid: async () => {
      await running.waitFor(/pid=\d+/);
      return Number(/pid=(\d+)/.exec(running.output())?.[1]);
    },
  };
}

test('load mode on a pty that reports 0 columns shows no spinner, finishes and prints its summary', { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, async (t) => {
  const receiver = await startReceiver(t);
  const zero = underPty(t, 0, ['send', 'MessageSent', '--url', receiver.url, '--count', '5']);
  const ended = await endsWithin(zero, 30_000);
  assert.equal(ended.code, 0, zero.output());
  assert.match(zero.output(), /sent +5/);
  assert.doesNotMatch(zero.output(), /\x1b\[1A|sent 0\/5/, 'no spinner and no line clearing');
  assert.ok(zero.output().length < 4_000, `a few lines, not a flood: ${zero.output().length} bytes`);

  // The same on a terminal with a width: the spinner is there (so the check above means something).
  const wide = underPty(t, 80, ['send', 'MessageSent', '--url', receiver.url, '--count', '5']);
  assert.equal((await endsWithin(wide, 30_000)).code, 0, wide.output());
  assert.match(wide.output(), /sent \d\/5/, 'the spinner shows where the width is known');
});

for (const [columns, signal] of [
  [0, 'SIGTERM'],
  [0, 'SIGINT'],
  [80, 'SIGINT'],
  [80, 'SIGTERM'],
] as const) {
  test(`load mode on a pty of ${columns} columns stops on ${signal} with requests hanging, and prints its summary`, { skip: !HAS_SCRIPT && 'util-linux script is not installed' }, async (t) => {
    const receiver = await startHangingReceiver(t);
    const running = underPty(t, columns, ['send', 'MessageSent', '--url', receiver.url, '--count', '1000', '--concurrency', '4', '--timeout', '60s']);
    const pid = await running.pid();
    await receiver.waitFor(4);
    process.kill(pid, signal);
    const ended = await endsWithin(running);
    assert.equal(ended.code, 130, running.output());
    const output = stripVTControlCharacters(running.output());
    assert.match(output, /sent +4\b/);
    assert.match(output, /failed +4 \(interrupted 4\)/);
    assert.match(output, /Interrupted after 4 of 1000 deliveries/);
  });
}

/** A long-running command, and when it is well under way. */
interface LongRunner {
  name: string;
  args: (dir: string, hanging: string) => Promise<string[]>;
  /** Under way: a pattern in its output, or a request count at the hanging endpoint. */
  underWay: RegExp | number;
  /** Written to its stdin, which then stays open. */
  input?: () => string;
}

const RUNNERS: LongRunner[] = [
  { name: 'listen', args: async () => ['listen', '--port', '0', '--no-save', '--json'], underWay: /"type":"ready"/ },
  { name: 'relay', args: async (dir) => ['relay', '--port', '0', '--data-dir', path.join(dir, 'relay'), '--json'], underWay: /"type":"ready"/ },
  { name: 'send --count', args: async (_, url) => ['send', 'MessageSent', '--url', url, '--count', '50', '--concurrency', '2', '--timeout', '60s'], underWay: 2 },
  { name: 'send --retry', args: async (_, url) => ['send', 'MessageSent', '--url', url, '--retry', '--timeout', '60s'], underWay: 1 },
  { name: 'check', args: async (_, url) => ['check', url, '--timeout', '60s'], underWay: 1 },
  {
    name: 'replay',
    args: async (dir, url) => {
      const file = path.join(dir, 'captures.jsonl');
      await writeCaptures(file, [captureRecord({ event: 'MessageSent' })]);
      return ['replay', '--from', file, '--to', url];
    },
    underWay: 1,
  },
  // Reading captures from a stdin that stays open: its first verdict is out, then it waits.
  {
    name: 'verify -',
    args: async () => ['verify', '-', '--secret', 'test-secret'],
    input: () => capturesText([captureRecord({ event: 'MessageSent', secret: 'test-secret' })]),
    underWay: /✓ MessageSent/,
  },
];

for (const runner of RUNNERS) {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    test(`${runner.name} stops on ${signal}`, async (t) => {
      const dir = await tempDir(t);
      const receiver = await startHangingReceiver(t);
      const running = start(t, process.execPath, [BIN, ...(await runner.args(dir, receiver.url))], { cwd: dir });
      if (runner.input) running.child.stdin?.write(runner.input());
      if (typeof runner.underWay === 'number') await receiver.waitFor(runner.underWay);
      else await running.waitFor(runner.underWay);
      running.child.kill(signal);
      const ended = await endsWithin(running);
      // Ctrl-C is never a success; SIGTERM may be (a service told to stop, as relay is by systemd).
      if (signal === 'SIGINT') assert.ok(ended.code === 130 || ended.signal === 'SIGINT', `${runner.name} on Ctrl-C: ${JSON.stringify(ended)}`);
      assert.doesNotMatch(running.output(), /crashed|\n\s+at /, running.output());
    });
  }
}

/** listen forwarding a request to an app that never answers: its graceful stop would wait for the app. */
async function listenStuckOnAForward(t: TestContext): Promise<Running> {
  const dir = await tempDir(t);
  const app = await startHangingReceiver(t);
  const running = start(t, process.execPath, [BIN, 'listen', '--port', '0', '--no-save', '--json', '--forward', app.url, '--timeout', '60s'], { cwd: dir });
  await running.waitFor(/"type":"ready"/);
  const url = (JSON.parse(running.output().split('\n')[0] as string) as { url: string }).url;
  const request = new AbortController();
  t.after(() => request.abort());
  fetch(url, { method: 'POST', body: '{}', signal: request.signal }).catch(() => undefined);
  await app.waitFor(1);
  return running;
}

test('a graceful stop that hangs is cut short: a second signal ends it at once', async (t) => {
  const running = await listenStuckOnAForward(t);
  running.child.kill('SIGINT');
  // The first signal was taken (listen is finishing the forward); the second is not waited on.
  const early = await Promise.race([running.exited, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 500))]);
  assert.equal(early, undefined, 'still finishing the forward after the first signal');
  running.child.kill('SIGINT');
  const ended = await endsWithin(running, 3_000);
  assert.ok(ended.signal === 'SIGINT' || ended.code !== 0, JSON.stringify(ended));
});

test('a graceful stop that hangs is cut short: one SIGTERM ends it within the 8 s deadline', async (t) => {
  const running = await listenStuckOnAForward(t);
  running.child.kill('SIGTERM');
  const ended = await endsWithin(running, STOP_BOUND_MS + 5_000);
  assert.equal(ended.code, 143);
  assert.match(running.output(), /Still stopping after 8 s: exiting now\./);
});
