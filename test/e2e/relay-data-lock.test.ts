import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { BIN, cleanEnv, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

const LOCK = 'relay.lock';

/** A relay that must refuse to start: it exits on its own (bounded by runCli's timeout). */
function startRefusedRelay(dataDir: string): Promise<CliResult> {
  return runCli(['relay', '--port', '0', '--data-dir', dataDir], { timeoutMs: 20_000 });
}

function assertRefusedBy(result: CliResult, dataDir: string, pid: number): void {
  assert.equal(result.code, 2, result.stderr);
  assert.equal(result.stdout, '');
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line: ${result.stderr}`);
  assert.ok(result.stderr.includes(dataDir), `names the folder: ${result.stderr}`);
  assert.match(result.stderr, new RegExp(`PID ${pid}\\b`));
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack');
}

/** The PID of a process that has exited: nothing runs under it now (until the PID is reused). */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid as number;
}

async function lockHolder(dataDir: string): Promise<{ pid: number; host: string; startTime?: string }> {
  return JSON.parse(await readFile(path.join(dataDir, LOCK), 'utf8')) as { pid: number; host: string; startTime?: string };
}

test('a second relay on the same data folder exits 2 with one line naming the folder and the holder\'s PID', async (t) => {
  const dataDir = path.join(await tempDir(t), 'relay-data');
  const first = await startRelayProcess(t, dataDir);
  const holder = await lockHolder(dataDir);
  assert.equal(holder.pid, first.child.pid);
  assert.equal(holder.host, hostname());
  assertRefusedBy(await startRefusedRelay(dataDir), dataDir, first.child.pid as number);
  // The first relay is untouched and still answers.
  const channel = await createTestChannel(first.url);
  assert.equal((await post(`${first.url}/c/${channel.id}`, '{}')).status, 202);
  // A clean stop gives the folder back: no lock left, and the next relay says nothing about taking over.
  assert.equal(await first.kill('SIGTERM'), 0);
  await assert.rejects(access(path.join(dataDir, LOCK)), { code: 'ENOENT' });
  const next = await startRelayProcess(t, dataDir);
  assert.ok(!next.lines.some((line) => line.includes('took over')), next.lines.join('\n'));
});

test('after kill -9 the next relay takes the lock over and delivers every event the dead one answered 202', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  const first = await startRelayProcess(t, dataDir);
  const channel = await createTestChannel(first.url);
  const bodies = Array.from({ length: 12 }, (_, n) => JSON.stringify({ event: 'MessageSent', n }));
  const statuses: number[] = [];
  for (const body of bodies) statuses.push((await post(`${first.url}/c/${channel.id}`, body)).status);
  assert.deepEqual(statuses, bodies.map(() => 202));
  assert.equal(await first.kill('SIGKILL'), null);
  // The dead relay's lock is still there, naming it.
  assert.equal((await lockHolder(dataDir)).pid, first.child.pid);

  const second = await startRelayProcess(t, dataDir);
  assert.equal((await lockHolder(dataDir)).pid, second.child.pid);
  const takeover = second.lines.map((line) => JSON.parse(line) as { type: string; message?: string }).find((entry) => entry.message?.includes('took over'));
  assert.ok(takeover, `says it took over: ${second.lines.join('\n')}`);
  assert.match(takeover.message as string, new RegExp(`PID ${first.child.pid}, which is no longer running`));
  // And it holds the lock as firmly as the first one did.
  assertRefusedBy(await startRefusedRelay(dataDir), dataDir, second.child.pid as number);

  const app = await startReceiver(t);
  const listen = await startListenCli(t, ['--relay', second.url, '--channel', channel.id, '--token', channel.token, '--forward', app.url, '--no-save'], { cwd: dir });
  const received = await app.waitFor(bodies.length, 20_000);
  assert.deepEqual(received.map((r) => r.body.toString()), bodies, 'every stored event, once, in order');
  await listen.waitForLines(bodies.length, 20_000);
  assert.equal(app.requests.length, bodies.length);
});

test('a lock whose PID now belongs to another process (PID reuse) is taken over; a live holder\'s or another host\'s is not', async (t) => {
  const dataDir = path.join(await tempDir(t), 'relay-data');
  await mkdir(dataDir, { recursive: true });
  const lockFile = path.join(dataDir, LOCK);
  // This test process is alive, but it is not the process that wrote the lock: its start time differs.
  const myStart = (await readFile(`/proc/${process.pid}/stat`, 'utf8').catch(() => undefined))?.split(') ')[1]?.split(' ')[19];
  if (myStart !== undefined) {
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), startTime: String(Number(myStart) + 1) }));
    const relay = await startRelayProcess(t, dataDir);
    assert.equal((await lockHolder(dataDir)).pid, relay.child.pid);
    assert.equal(await relay.kill('SIGTERM'), 0);
    // The same PID with its real start time is the live holder: refused.
    await writeFile(lockFile, JSON.stringify({ pid: process.pid, host: hostname(), startTime: myStart }));
    assertRefusedBy(await startRefusedRelay(dataDir), dataDir, process.pid);
  }
  // A relay on another host (shared storage) cannot be checked from here: refused, with what to do.
  const pid = await deadPid();
  await writeFile(lockFile, JSON.stringify({ pid, host: 'other-host.example', startTime: '1' }));
  const other = await startRefusedRelay(dataDir);
  assertRefusedBy(other, dataDir, pid);
  assert.match(other.stderr, /other-host\.example.*delete .*relay\.lock/);
  // An unreadable lock was not written by a live relay (locks appear whole): taken over.
  await writeFile(lockFile, '{"pid":');
  const relay = await startRelayProcess(t, dataDir);
  assert.equal((await lockHolder(dataDir)).pid, relay.child.pid);
});

test('relays starting together on a dead relay\'s lock: exactly one takes it, the others exit 2 naming it', async (t) => {
  const dataDir = path.join(await tempDir(t), 'relay-data');
  await mkdir(dataDir, { recursive: true });
  await writeFile(path.join(dataDir, LOCK), JSON.stringify({ pid: await deadPid(), host: hostname() }));
  const cwd = await tempDir(t);
  const starters = Array.from({ length: 3 }, () => {
    const child = spawn(process.execPath, [BIN, 'relay', '--port', '0', '--json', '--data-dir', dataDir], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    t.after(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // Ready (a line on stdout) or gone, whichever comes first.
    const outcome = new Promise<'ready' | number | null>((resolve) => {
      child.stdout.on('data', () => stdout.includes('"type":"ready"') && resolve('ready'));
      void exited.then(resolve);
    });
    return { child, outcome, stderr: () => stderr };
  });
  const outcomes = await Promise.all(starters.map((s) => s.outcome));
  const winners = starters.filter((_, i) => outcomes[i] === 'ready');
  assert.equal(winners.length, 1, `outcomes: ${outcomes.join(', ')}; ${starters.map((s) => s.stderr()).join(' | ')}`);
  const winner = winners[0] as (typeof starters)[number];
  assert.equal((await lockHolder(dataDir)).pid, winner.child.pid);
  for (const [i, starter] of starters.entries()) {
    if (starter === winner) continue;
    assert.equal(outcomes[i], 2, starter.stderr());
    assert.match(starter.stderr(), new RegExp(`PID ${winner.child.pid}\\b`));
  }
});

test('Redis mode takes no lock: two relays with the same --data-dir share one Redis and both serve', needs('redis-server'), async (t: TestContext) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const dataDir = path.join(dir, 'relay-data');
  const [a, b] = await Promise.all([startRelayProcess(t, dataDir, ['--redis', redis.url]), startRelayProcess(t, dataDir, ['--redis', redis.url])]);
  const channel = await createTestChannel(a.url);
  assert.equal((await post(`${b.url}/c/${channel.id}`, '{"n":1}')).status, 202);
  assert.equal((await post(`${a.url}/c/${channel.id}`, '{"n":2}')).status, 202);
  await assert.rejects(access(path.join(dataDir, LOCK)), { code: 'ENOENT' });
});
