import assert from 'node:assert/strict';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { memoryCursor } from '../../src/tunnel/cursor-file.js';
import { TunnelReplacedError, openTunnel, type Tunnel } from '../../src/tunnel/client.js';
import { tempDir } from '../helpers/cli.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, forwardTo, post, startRelayProcess, type RelayProcess } from '../helpers/relay.js';
import { numbersAt } from '../helpers/event-stream.js';
import { waitUntil } from '../helpers/poll.js';
import { needs } from '../helpers/system-programs.js';

const STREAM_TIMEOUT_MS = 20_000;


/** Redis and two relay instances (A, B) sharing it. */
async function cluster(t: TestContext): Promise<{ a: RelayProcess; b: RelayProcess; redis: Awaited<ReturnType<typeof startRedis>> }> {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const [a, b] = await Promise.all([
    startRelayProcess(t, path.join(dir, 'a'), ['--redis', redis.url]),
    startRelayProcess(t, path.join(dir, 'b'), ['--redis', redis.url]),
  ]);
  return { a, b, redis };
}

function tunnelTo(t: TestContext, urls: string[], channel: { id: string; token: string }, app: Receiver): Tunnel {
  const tunnel = openTunnel({
    relayUrl: new URL(urls[0] as string),
    fallbackUrls: urls.slice(1).map((url) => new URL(url)),
    channel: channel.id,
    token: channel.token,
    cursor: memoryCursor(),
    handler: forwardTo(app.url),
    reconnect: { initialMs: 50, maxMs: 300 },
  });
  t.after(() => tunnel.close());
  return tunnel;
}

test('a post to instance B reaches the listener on instance A, and B answers with the app\'s status', needs('redis-server'), async (t) => {
  const { a, b } = await cluster(t);
  const app = await startReceiver(t, {
    respond: (_request, _index, res) => {
      res.writeHead(201, { 'content-type': 'application/json' }).end('{"app":"answered"}');
    },
  });
  // Created on A, known on B: channels live in Redis.
  const channel = await createTestChannel(a.url);
  const onB = `${b.url}/c/${channel.id}/hooks`;
  const queued = await post(onB, '{"n":0}');
  assert.equal(queued.status, 202, 'no listener anywhere: queued');
  const tunnel = tunnelTo(t, [a.url], channel, app);
  await tunnel.ready;
  await waitUntil('the queued event', () => app.requests.length >= 1);
  const body = Buffer.from('{"n":1, "exact":  "bytes"}');
  const answered = await post(onB, body);
  assert.equal(answered.status, 201);
  assert.equal(answered.text, '{"app":"answered"}');
  assert.equal(app.requests.length, 2);
  assert.deepEqual(app.requests[1]?.body, body, 'byte-exact across instances');
  assert.equal(app.requests[1]?.url, '/hooks');
});

test('SIGKILL of the listener\'s instance mid-stream: the listener fails over and nothing acknowledged is lost', needs('redis-server'), async (t) => {
  const { a, b } = await cluster(t);
  const app = await startReceiver(t);
  const channel = await createTestChannel(a.url);
  const tunnel = tunnelTo(t, [a.url, b.url], channel, app);
  await tunnel.ready;
  const acknowledged = new Set<number>();
  let next = 1;
  const last = 300;
  const deadline = Date.now() + STREAM_TIMEOUT_MS;
  // Senders post to B (the instance that stays up) while the listener sits on A.
  const streaming = Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next <= last && Date.now() < deadline) {
        const n = next++;
        const answer = await post(`${b.url}/c/${channel.id}`, JSON.stringify({ n })).catch(() => undefined);
        if (answer && answer.status >= 200 && answer.status < 300) acknowledged.add(n);
      }
    }),
  );
  await waitUntil('80 deliveries through A', () => app.requests.length >= 80);
  await a.kill('SIGKILL');
  await streaming;
  assert.ok(acknowledged.size >= 100, `most posts acknowledged (${acknowledged.size})`);
  await waitUntil('every acknowledged event at the app', () => [...acknowledged].every((n) => numbersAt(app).includes(n)));
  // Every post was stored (acknowledged or 504 "kept"): all reach the app, in order, once each after dedup.
  await waitUntil('all 300', () => new Set(numbersAt(app)).size === last);
  const firsts = [...new Set(numbersAt(app))];
  assert.equal(firsts.length, last);
});

test('Redis stopped: 503 and one clear log line; Redis back: the relay resumes by itself, listener included', needs('redis-server'), async (t) => {
  const { a, b, redis } = await cluster(t);
  const app = await startReceiver(t);
  const channel = await createTestChannel(a.url);
  const tunnel = tunnelTo(t, [a.url], channel, app);
  await tunnel.ready;
  // Posts go to B, the listener is on A: the blocking watch must survive the outage.
  const onB = `${b.url}/c/${channel.id}`;
  assert.equal((await post(onB, '{"n":1}')).status, 200);
  await redis.stop();
  const refused = await post(onB, '{"n":2}');
  assert.equal(refused.status, 503, 'never a false acknowledgement');
  await waitUntil('the unreachable line', () => b.lines.some((line) => line.includes('unreachable') || line.includes('closed the connection')), 5_000);
  await redis.start();
  const stored = new Set<number>([1]);
  let n = 3;
  let status = 0;
  await waitUntil(
    'the app\'s 200 through B after Redis returned',
    async () => {
      status = (await post(onB, JSON.stringify({ n }))).status;
      // 504: stored, the answer was late; it is delivered all the same.
      if (status === 200 || status === 504) stored.add(n);
      n++;
      return status === 200;
    },
    15_000,
  );
  await waitUntil('the "is back" line', () => b.lines.some((line) => line.includes('is back')), 5_000);
  // The event stored before the outage survived it (AOF, fsync always), the refused one never existed.
  await waitUntil('every stored event at the app', () => [...stored].every((m) => numbersAt(app).includes(m)), 10_000);
  assert.ok(!numbersAt(app).includes(2), 'the refused event was never stored');
});

test('retention on Redis: MAXLEN keeps the newest events and a listener is told about the gap', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const relay = await startRelayProcess(t, path.join(dir, 'r'), ['--redis', redis.url, '--retain-events', '5']);
  const channel = await createTestChannel(relay.url);
  for (let n = 1; n <= 10; n++) assert.equal((await post(channel.url, JSON.stringify({ n }))).status, 202);
  const app = await startReceiver(t);
  const gaps: Array<{ from: number; to: number }> = [];
  const tunnel = openTunnel({
    relayUrl: new URL(relay.url),
    channel: channel.id,
    token: channel.token,
    cursor: memoryCursor(),
    handler: forwardTo(app.url),
    onStatus: (status) => status.state === 'gap' && gaps.push({ from: status.from, to: status.to }),
  });
  t.after(() => tunnel.close());
  await waitUntil('the five kept events', () => app.requests.length >= 5, 10_000);
  assert.deepEqual(numbersAt(app), [6, 7, 8, 9, 10]);
  assert.deepEqual(gaps, [{ from: 1, to: 5 }]);
});

test('one listener per channel across instances: subscribing on B replaces the listener on A', needs('redis-server'), async (t) => {
  const { a, b } = await cluster(t);
  const app = await startReceiver(t);
  const channel = await createTestChannel(a.url);
  const reasons: string[] = [];
  const first = openTunnel({
    relayUrl: new URL(a.url),
    channel: channel.id,
    token: channel.token,
    cursor: memoryCursor(),
    handler: forwardTo(app.url),
    reconnect: { initialMs: 50, maxMs: 50 },
    onStatus: (status) => status.state === 'reconnecting' && reasons.push(status.reason),
  });
  t.after(() => first.close());
  await first.ready;
  const second = tunnelTo(t, [b.url], channel, app);
  await second.ready;
  // The newest subscription wins: the first stops for good, saying so, and does not fight back.
  await assert.rejects(first.done, (error: Error) => error instanceof TunnelReplacedError && /another listener subscribed to channel .* at \d{4}-/.test(error.message));
  assert.deepEqual(reasons, []);
  // Posts to A now reach the second listener, through B.
  assert.equal((await post(`${a.url}/c/${channel.id}`, '{"n":7}')).status, 200);
  assert.deepEqual(numbersAt(app), [7]);
});

test('a listener with no cursor of its own resumes on another instance from the acked cursor in Redis', needs('redis-server'), async (t) => {
  const { a, b } = await cluster(t);
  const app = await startReceiver(t);
  const channel = await createTestChannel(a.url);
  const first = tunnelTo(t, [a.url], channel, app);
  await first.ready;
  for (let n = 1; n <= 3; n++) assert.equal((await post(`${a.url}/c/${channel.id}`, JSON.stringify({ n }))).status, 200);
  await first.close();
  for (let n = 4; n <= 5; n++) assert.equal((await post(`${a.url}/c/${channel.id}`, JSON.stringify({ n }))).status, 202);
  // A fresh memory cursor: only the relay knows where delivery stopped.
  const second = tunnelTo(t, [b.url], channel, app);
  await second.ready;
  await waitUntil('events 4 and 5', () => app.requests.length >= 5, 10_000);
  assert.deepEqual(numbersAt(app), [1, 2, 3, 4, 5]);
});
