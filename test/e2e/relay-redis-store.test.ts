import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { RedisChannelStore } from '../../src/relay/redis-store.js';
import type { DroppedRange, EventLog, NewEvent } from '../../src/relay/store.js';
import { tempDir } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { needs } from '../helpers/system-programs.js';

const event = (n: number, receivedAt = new Date()): NewEvent => ({
  method: 'POST',
  path: `/hooks?n=${n}`,
  rawHeaders: ['Content-Type', 'application/json', 'X-N', String(n)],
  body: Buffer.from([n & 0xff, 0x00, 0xff, 0x7b]),
  receivedAt,
});

async function open(t: TestContext, url: string, maxAgeMs = 60_000, onDropped?: (range: DroppedRange) => void): Promise<RedisChannelStore> {
  const store = await RedisChannelStore.open({ url, retention: { maxEvents: 1000, maxAgeMs }, ...(onDropped ? { onDropped } : {}) });
  t.after(() => store.close());
  return store;
}

async function readAll(log: EventLog, after = 0): Promise<Array<{ seq: number; n: string; body: Buffer }>> {
  const events = [];
  for await (const stored of log.read(after)) events.push({ seq: stored.seq, n: stored.rawHeaders[3] as string, body: stored.body });
  return events;
}

test('two stores appending to one channel at once: seqs 1..N, each once, in stream order, bytes exact', needs('redis-server'), async (t) => {
  const redis = await startRedis(t, await tempDir(t));
  const [one, two] = [await open(t, redis.url), await open(t, redis.url)];
  await one.createChannel({ id: 'shared-channel-1', tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() });
  const [logOne, logTwo] = [await one.log('shared-channel-1'), await two.log('shared-channel-1')];
  assert.ok(logOne && logTwo);
  const seqs = await Promise.all(Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? logOne : logTwo).append(event(i))));
  assert.deepEqual([...seqs].sort((x, y) => x - y), Array.from({ length: 200 }, (_, i) => i + 1));
  const stored = await readAll(logTwo);
  assert.deepEqual(stored.map((e) => e.seq), Array.from({ length: 200 }, (_, i) => i + 1));
  // The seq each append got is the one its event carries.
  for (const [i, seq] of seqs.entries()) assert.equal(stored[seq - 1]?.n, String(i));
  assert.deepEqual(stored[0]?.body.subarray(1), Buffer.from([0x00, 0xff, 0x7b]));
  assert.equal(await two.log('no-such-channel'), undefined);
});

test('acked cursor is shared and never moves back; age retention trims with MINID and says what it dropped', needs('redis-server'), async (t) => {
  const redis = await startRedis(t, await tempDir(t));
  const dropped: DroppedRange[] = [];
  const one = await open(t, redis.url, 60_000, (range) => dropped.push(range));
  const two = await open(t, redis.url);
  await one.createChannel({ id: 'aging-channel-1', tokenHash: 'cd'.repeat(32), createdAt: new Date().toISOString() });
  const log = await one.log('aging-channel-1');
  assert.ok(log);
  const hourAgo = new Date(Date.now() - 3_600_000);
  for (let n = 1; n <= 3; n++) await log.append(event(n, hourAgo));
  for (let n = 4; n <= 5; n++) await log.append(event(n));
  await log.ack(4);
  await log.ack(2);
  // The other instance sees the cursor when a listener subscribes there (channel() refreshes).
  const other = await two.log('aging-channel-1');
  await two.channel('aging-channel-1');
  assert.equal(other?.acked(), 4);
  assert.equal(other?.head(), 5);
  const range = await log.applyRetention(new Date());
  assert.deepEqual(range && { from: range.from, to: range.to }, { from: 1, to: 3 });
  assert.equal(dropped.length, 1);
  assert.equal(log.first(), 4);
  assert.deepEqual((await readAll(log)).map((e) => e.seq), [4, 5]);
  assert.equal(await log.applyRetention(new Date()), undefined, 'nothing more to drop');
});
