import assert from 'node:assert/strict';
import { cp, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { composeBody } from '../../src/events/compose.js';
import { sign } from '../../src/signing/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { numbersAt, waitUntil } from '../helpers/event-stream.js';
import { Redis } from 'ioredis';
import { channelKeys } from '../../src/relay/redis-log.js';
import type { TunnelStatus } from '../../src/tunnel/client.js';
import { startListenCli, type RunningListen } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, forwardTo, openTestTunnel, post, startRelayProcess, type RelayProcess } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

// Operator mistakes around the tunnel (issue 15, items 1, 3, 6), with real processes:
// a relay, `listen --relay`, and apps.

const SECRET = 'relay-integrity-secret';

interface RelayReady {
  publicUrl: string;
  channel: string;
}

interface CaptureLine {
  body: string;
  redelivery?: true;
  source?: { seq: number };
}

/** Waits until the relay logged `count` listener subscriptions (so posts go live, not queued). */
async function subscriptions(relay: RelayProcess, count: number): Promise<void> {
  await waitUntil(`${count} listener subscription(s) at the relay`, () => relay.lines.filter((line) => line.includes('"listener-connected"')).length >= count);
}

/** Event n: a valid MessageSent (so verify passes it) with n in its bytes, signed. */
const signed = (n: number): { body: string; headers: Record<string, string> } => {
  const body = composeBody('MessageSent', { seed: n }).body.replace(/^\{/, `{"n":${n},`);
  return { body, headers: { 'x-webhook-signature': sign(body, SECRET) } };
};

async function captures(file: string): Promise<CaptureLine[]> {
  const text = await readFile(file, 'utf8');
  return text.trim() === '' ? [] : text.trim().split('\n').map((line) => JSON.parse(line) as CaptureLine);
}

/**
 * The operator's drill: a listener forwards #1–#5, the relay's folder is copied (relay
 * stopped), #6–#15 follow; then restore() puts the copy back and restarts the relay on
 * the same port, so its newest seq is #5 again while the listener's cursor says #15.
 */
async function backupDrill(t: TestContext) {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  const backup = path.join(dir, 'relay-data-old');
  const app = await startReceiver(t, { secret: SECRET });
  let relay = await startRelayProcess(t, dataDir);
  const port = String(relay.port);
  const args = ['--relay', relay.url, '--forward', app.url, '--secret', SECRET];
  const listen = await startListenCli(t, args, { cwd: dir });
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;
  const send = (n: number): Promise<{ status: number; text: string }> => post(publicUrl, signed(n).body, signed(n).headers);
  await subscriptions(relay, 1);
  for (let n = 1; n <= 5; n++) assert.equal((await send(n)).status, 200);
  await relay.kill('SIGTERM');
  await cp(dataDir, backup, { recursive: true });
  relay = await startRelayProcess(t, dataDir, ['--port', port]);
  await subscriptions(relay, 1);
  for (let n = 6; n <= 15; n++) assert.equal((await send(n)).status, 200);
  await app.waitFor(15);
  return {
    dir,
    app,
    args,
    listen,
    send,
    relay: () => relay,
    async restore(): Promise<void> {
      await relay.kill('SIGTERM');
      await rm(dataDir, { recursive: true });
      await cp(backup, dataDir, { recursive: true });
      relay = await startRelayProcess(t, dataDir, ['--port', port]);
    },
  };
}

test('a relay folder restored from an older copy under a listener with a newer cursor: said in one line, every new event delivered', async (t) => {
  const drill = await backupDrill(t);
  const { app, dir } = drill;
  await drill.restore();
  await subscriptions(drill.relay(), 1);
  const answers: number[] = [];
  for (let n = 16; n <= 25; n++) {
    const answer = await drill.send(n);
    answers.push(answer.status);
    assert.match(answer.text, /"received":\d+/, 'the app\'s own answer, never an empty one');
  }
  assert.deepEqual(answers, Array(10).fill(200), 'each of the ten senders got the app\'s 200');
  await app.waitFor(25);
  assert.deepEqual(numbersAt(app), Array.from({ length: 25 }, (_, i) => i + 1), 'the app got all 25, once each, in order');

  const stopped = await drill.listen.stop('SIGINT');
  const said = stopped.stderr.split('\n').filter((line) => /log for this channel is older/.test(line));
  assert.deepEqual(said, ["relay: the relay's log for this channel is older than this listener's cursor (#15 > #5); delivering from #6 again"]);
  const lines = await captures(path.join(dir, '.fe-webhooks/captures.jsonl'));
  assert.equal(lines.length, 25, 'a capture line for every delivery');
  assert.deepEqual(lines.slice(15).map((line) => line.source?.seq), [6, 7, 8, 9, 10, 11, 12, 13, 14, 15], 'the new #6–#15, delivered again');
  assert.ok(lines.every((line) => line.redelivery === undefined), 'new events are not redeliveries');

  // The cursor is tied to the restored log now: a restart delivers nothing twice.
  const again = await startListenCli(t, drill.args, { cwd: dir });
  await subscriptions(drill.relay(), 2);
  assert.equal((await drill.send(26)).status, 200);
  await app.waitFor(26);
  assert.equal(app.requests.length, 26);
  const last = await again.stop('SIGINT');
  assert.doesNotMatch(last.stderr, /older than this listener's cursor/);
});

test('a restored relay folder that took new events past the listener\'s cursor before it reconnected: found out by the event at the cursor', async (t) => {
  const drill = await backupDrill(t);
  const { app, dir } = drill;
  await drill.listen.stop('SIGINT');
  // Restored while no listener is connected; twenty new events arrive before it comes back,
  // so the relay's newest seq (#25) is past the listener's cursor (#15) again.
  await drill.restore();
  for (let n = 16; n <= 35; n++) assert.equal((await drill.send(n)).status, 202);
  const again = await startListenCli(t, drill.args, { cwd: dir });
  await app.waitFor(35, 20_000);
  assert.deepEqual(numbersAt(app), Array.from({ length: 35 }, (_, i) => i + 1), 'none of the twenty skipped, none twice');
  const stopped = await again.stop('SIGINT');
  const said = stopped.stderr.split('\n').filter((line) => /holds another event/.test(line));
  assert.deepEqual(said, ["relay: the relay's log for this channel holds another event at this listener's cursor #15 (restored from an older copy?); delivering from #6 again"]);
  const lines = await captures(path.join(dir, '.fe-webhooks/captures.jsonl'));
  assert.equal(lines.length, 35);
  assert.ok(lines.every((line) => line.redelivery === undefined));
});

/**
 * Two listeners on one channel: the first (a slow app, so events are in flight) is
 * replaced by the second mid-stream. `relays`: where each listener connects.
 */
async function takeoverDrill(t: TestContext, relays: [RelayProcess, RelayProcess]): Promise<void> {
  const [firstRelay, secondRelay] = relays;
  const channel = await createTestChannel(firstRelay.url);
  const firstApp = await startReceiver(t, { respond: async () => new Promise<number>((resolve) => setTimeout(() => resolve(200), 100)) });
  const secondApp = await startReceiver(t);
  const flags = ['--channel', channel.id, '--token', channel.token, '--no-save'];
  const first = await startListenCli(t, ['--relay', firstRelay.url, ...flags, '--forward', firstApp.url], { cwd: await tempDir(t) });
  await subscriptions(firstRelay, 1);
  // Three senders at a time; what each was told, by event.
  const told = new Map<number, number>();
  let next = 1;
  const streaming = Promise.all(
    Array.from({ length: 3 }, async () => {
      for (let n = next++; n <= 150; n = next++) told.set(n, (await post(`${firstRelay.url}/c/${channel.id}`, JSON.stringify({ event: 'MessageSent', n }))).status);
    }),
  );
  await firstApp.waitFor(10, 20_000);
  const second = await startListenCli(t, ['--relay', secondRelay.url, ...flags, '--forward', secondApp.url], { cwd: await tempDir(t) });
  const ended = await first.exited();
  assert.equal(ended.code, 1, ended.stderr);
  const errorLines = ended.stderr.split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(errorLines.length, 1, ended.stderr);
  assert.match(
    errorLines[0] as string,
    new RegExp(`^error: another listener subscribed to channel ${channel.id} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z from [\\d.:a-f]+:\\d+ and took it over; this listener stopped`),
  );
  assert.doesNotMatch(ended.stderr, /reconnecting/, 'no fight: the replaced listener does not come back');
  await streaming;
  const statuses = [...told.values()];
  assert.deepEqual(statuses.filter((status) => status !== 200 && status !== 202), [], 'every sender got the app\'s 200, or 202 (kept) while no listener held the channel');
  await waitUntil('all 150 at one app or the other', () => new Set([...numbersAt(firstApp), ...numbersAt(secondApp)]).size === 150, 30_000);
  const [atFirst, atSecond] = [numbersAt(firstApp), numbersAt(secondApp)];
  assert.deepEqual(atFirst.filter((n) => atSecond.includes(n)), [], 'no event reached both apps');
  assert.equal(atFirst.length + atSecond.length, 150, 'each event reached one app, once');
  assert.ok(atSecond.length > 0 && Math.min(...atSecond) > Math.max(...atFirst), 'after the takeover, events reach only the second app');
  // The first finished what it had begun and said so: what it never began is no redelivery.
  await waitUntil('a line per event at the second listener', () => second.lines.length >= atSecond.length);
  assert.deepEqual(second.lines.filter((line) => line.includes('"redelivery":true')), []);
  await second.stop('SIGINT');
}

test('a second listener on the channel takes it over: the first exits 1 saying when and from where, no event reaches both apps', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'relay-data'));
  await takeoverDrill(t, [relay, relay]);
});

test('Redis: a second listener on another instance takes the channel over the same way', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const [a, b] = await Promise.all([
    startRelayProcess(t, path.join(dir, 'a'), ['--redis', redis.url]),
    startRelayProcess(t, path.join(dir, 'b'), ['--redis', redis.url]),
  ]);
  await takeoverDrill(t, [a, b]);
});

test('a listener killed mid-stream: what the relay sends again is marked (redelivery) in the line and the capture, and verify counts it', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  // A little slow, so the relay has events out on the link when the listener dies.
  const app = await startReceiver(t, { secret: SECRET, respond: async () => new Promise<number>((resolve) => setTimeout(() => resolve(200), 20)) });
  const args = ['--relay', relay.url, '--forward', app.url, '--secret', SECRET];
  let listen: RunningListen = await startListenCli(t, args, { cwd: dir });
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;
  await subscriptions(relay, 1);
  const posting = (from: number, to: number): Promise<number[]> =>
    Promise.all(Array.from({ length: to - from + 1 }, (_, i) => post(publicUrl, signed(from + i).body, signed(from + i).headers).then((a) => a.status)));
  let kills = 0;
  for (const [from, to] of [[1, 60], [61, 120]] as const) {
    const sending = posting(from, to);
    await app.waitFor(from + 10, 20_000);
    await listen.stop('SIGKILL');
    kills++;
    const statuses = await sending;
    assert.ok(statuses.every((status) => status === 200 || status === 202), `every sender acknowledged: ${statuses.join(',')}`);
    listen = await startListenCli(t, args, { cwd: dir });
    await subscriptions(relay, kills + 1);
  }
  await waitUntil('all 120 at the app', () => new Set(numbersAt(app)).size === 120, 30_000);
  const stopped = await listen.stop('SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);

  const file = path.join(dir, '.fe-webhooks/captures.jsonl');
  const lines = await captures(file);
  const marked = lines.filter((line) => line.redelivery === true);
  // Marked: what this listener may have handed its app before the kill (the event being
  // forwarded, and one answered whose cursor save the kill beat), not the relay's whole window.
  assert.ok(marked.length >= 1 && marked.length <= 2 * kills, `${marked.length} marked after ${kills} kills`);
  // Every event the app got twice: its later delivery is marked.
  const seen = numbersAt(app);
  const twice = [...new Set(seen.filter((n, i) => seen.indexOf(n) !== i))];
  const markedNumbers = new Set(marked.map((line) => (JSON.parse(line.body) as { n: number }).n));
  for (const n of twice) assert.ok(markedNumbers.has(n), `#${n} reached the app twice; the second time is marked`);
  // The last listener's json lines say it too.
  const jsonMarked = listen.lines.filter((line) => line.includes('"redelivery":true')).length;
  assert.equal(jsonMarked, lines.slice(-listen.lines.length).filter((line) => line.redelivery === true).length);

  const verified = await runCli(['verify', file, '--secret', SECRET], { cwd: dir });
  assert.equal(verified.code, 0, verified.stdout.split("\n").filter((line) => !line.startsWith("✓")).join("\n"));
  assert.match(verified.stdout, new RegExp(`; ${marked.length} marked redelivery by the relay`));
  const redeliveryLines = verified.stdout.split('\n').filter((line) => line.includes('(redelivery)'));
  assert.equal(redeliveryLines.length, marked.length, 'each marked capture is marked in the report');
});

test('Redis: a channel log made anew under a listener\'s cursor has another identity; the listener says so and delivers it all', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  let relay = await startRelayProcess(t, path.join(dir, 'a'), ['--redis', redis.url]);
  const port = String(relay.port);
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  const resets: Array<Extract<TunnelStatus, { state: 'cursor-reset' }>> = [];
  const { tunnel } = openTestTunnel(t, relay.url, channel, {
    handler: forwardTo(app.url),
    onStatus: (status) => void (status.state === 'cursor-reset' && resets.push(status)),
  });
  await tunnel.ready;
  for (let n = 1; n <= 3; n++) assert.equal((await post(channel.url, JSON.stringify({ n }))).status, 200);
  await relay.kill('SIGTERM');
  // The log's keys go (an operator's cleanup); the channel and its token stay.
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());
  const keys = channelKeys(channel.id);
  const identity = await client.get(keys.logId);
  assert.match(identity ?? '', /^[A-Za-z0-9_-]{16}$/, 'the identity is kept in Redis beside the stream');
  await client.del(keys.logId, keys.stream, keys.seq, keys.acked, keys.pushed);
  relay = await startRelayProcess(t, path.join(dir, 'a'), ['--redis', redis.url, '--port', port]);
  await waitUntil('the listener back', () => relay.lines.some((line) => line.includes('"listener-connected"')));
  for (let n = 4; n <= 5; n++) assert.equal((await post(channel.url, JSON.stringify({ n }))).status, 200, 'the app answers the new #1 and #2');
  assert.deepEqual(numbersAt(app), [1, 2, 3, 4, 5], 'the new log\'s events were not taken for the old #1 and #2');
  assert.deepEqual(resets.map(({ reason, cursor, from }) => ({ reason, cursor, from })), [{ reason: 'other-log', cursor: 3, from: 1 }]);
  assert.notEqual(await client.get(keys.logId), identity, 'a new log, a new identity');
});
