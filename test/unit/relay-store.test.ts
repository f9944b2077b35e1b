import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, symlink, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { FileChannelStore, type FileChannelStoreOptions } from '../../src/relay/file-store.js';
import type { DroppedRange, EventLog, NewEvent, StoredEvent } from '../../src/relay/store.js';
import { tempDir } from '../helpers/cli.js';

const CHANNEL = 'chan_aaaaaaaaaaaaaaaaaaaa';

function event(n: number, body: Buffer = Buffer.from(`{"n":${n}}`)): NewEvent {
  return { method: 'POST', path: `/hooks?n=${n}`, rawHeaders: ['Content-Type', 'application/json', 'X-N', String(n)], body, receivedAt: new Date() };
}

async function openStore(t: TestContext, dataDir: string, extra: Partial<FileChannelStoreOptions> = {}): Promise<{ store: FileChannelStore; log: EventLog }> {
  const store = await FileChannelStore.open({ dataDir, retention: { maxEvents: 1_000_000, maxAgeMs: 86_400_000 }, ...extra });
  t.after(() => store.close());
  if (!(await store.channel(CHANNEL))) await store.createChannel({ id: CHANNEL, tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() });
  return { store, log: (await store.log(CHANNEL)) as EventLog };
}

async function readAll(log: EventLog, after: number): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const stored of log.read(after)) events.push(stored);
  return events;
}

test('append gives consecutive seqs; a reopened store has the same head, cursor and bytes', async (t) => {
  const dataDir = await tempDir(t);
  const first = await openStore(t, dataDir);
  const binary = Buffer.from([0, 0xff, 0xfe, 0x0a, 0x0d]);
  const seqs = await Promise.all([event(1), event(2, binary), event(3)].map((e) => first.log.append(e)));
  assert.deepEqual(seqs, [1, 2, 3]);
  await first.log.ack(2);
  await first.store.close();
  const again = await openStore(t, dataDir);
  assert.equal(again.log.head(), 3);
  assert.equal(again.log.acked(), 2);
  const events = await readAll(again.log, 1);
  assert.deepEqual(events.map((e) => e.seq), [2, 3]);
  assert.ok((events[0] as StoredEvent).body.equals(binary));
  assert.equal((events[1] as StoredEvent).path, '/hooks?n=3');
  assert.deepEqual((events[1] as StoredEvent).rawHeaders, ['Content-Type', 'application/json', 'X-N', '3']);
});

test('a torn last line (crash mid-write) is cut off on restart and the next append follows on', async (t) => {
  const dataDir = await tempDir(t);
  const first = await openStore(t, dataDir);
  for (let n = 1; n <= 3; n++) await first.log.append(event(n));
  await first.store.close();
  const segment = path.join(dataDir, 'channels', CHANNEL, '0000000000000001.jsonl');
  await appendFile(segment, '{"seq":4,"receivedAt":"2026-');
  const again = await openStore(t, dataDir);
  assert.equal(again.log.head(), 3);
  assert.equal(await again.log.append(event(4)), 4);
  assert.deepEqual((await readAll(again.log, 0)).map((e) => e.seq), [1, 2, 3, 4]);
  assert.ok((await readFile(segment, 'utf8')).split('\n').every((line) => line === '' || JSON.parse(line)));
});

test('retention by count drops the oldest first, reports it, and deletes whole old segments', async (t) => {
  const dataDir = await tempDir(t);
  const dropped: DroppedRange[] = [];
  const { log } = await openStore(t, dataDir, {
    retention: { maxEvents: 5, maxAgeMs: 86_400_000 },
    onDropped: (range) => dropped.push(range),
    tuning: { segmentMaxEvents: 3 },
  });
  for (let n = 1; n <= 12; n++) await log.append(event(n));
  assert.equal(log.first(), 8);
  assert.deepEqual((await readAll(log, 0)).map((e) => e.seq), [8, 9, 10, 11, 12]);
  assert.equal(dropped[0]?.from, 1);
  assert.equal(dropped.at(-1)?.to, 7);
  assert.match(dropped[0]?.reason ?? '', /more than 5 events/);
  const files = (await readdir(path.join(dataDir, 'channels', CHANNEL))).filter((f) => f.endsWith('.jsonl'));
  assert.deepEqual(files.sort(), ['0000000000000007.jsonl', '0000000000000010.jsonl']);
});

test('retention by age drops segments whose newest event is too old', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openStore(t, dataDir, { retention: { maxEvents: 100, maxAgeMs: 60_000 }, tuning: { segmentMaxEvents: 2 } });
  for (let n = 1; n <= 5; n++) await log.append(event(n));
  const old = new Date(Date.now() - 3_600_000);
  await utimes(path.join(dataDir, 'channels', CHANNEL, '0000000000000001.jsonl'), old, old);
  const range = await log.applyRetention(new Date());
  assert.deepEqual(range && { from: range.from, to: range.to }, { from: 1, to: 2 });
  assert.deepEqual((await readAll(log, 0)).map((e) => e.seq), [3, 4, 5]);
});

test('a full disk rejects the append and burns no seq; storage recovers when space is back', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openStore(t, dataDir);
  const segment = path.join(dataDir, 'channels', CHANNEL, '0000000000000001.jsonl');
  await symlink('/dev/full', segment);
  await assert.rejects(log.append(event(1)), /ENOSPC|no space/i);
  assert.equal(log.head(), 0);
  await unlink(segment);
  assert.equal(await log.append(event(2)), 1);
  assert.deepEqual((await readAll(log, 0)).map((e) => e.path), ['/hooks?n=2']);
});

test('an appended event is readable (written) before it is durable, and its seq is said first', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openStore(t, dataDir);
  const order: string[] = [];
  let readableAtWrite: number[] = [];
  const durable = log.append(event(1), (seq) => {
    order.push(`written ${seq}`);
    assert.equal(log.head(), seq);
    // Readable by the listener's sender loop now, while the sync runs.
    void readAll(log, 0).then((events) => (readableAtWrite = events.map((e) => e.seq)));
  });
  order.push(`durable ${await durable}`);
  assert.deepEqual(order, ['written 1', 'durable 1']);
  assert.deepEqual(readableAtWrite, [1]);
});

test('a sync that fails after the write rejects the append but never hands its seq to another event', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openStore(t, dataDir);
  // Writes to /dev/null succeed and its fdatasync fails (EINVAL): readable, never durable.
  await symlink('/dev/null', path.join(dataDir, 'channels', CHANNEL, '0000000000000001.jsonl'));
  const said: number[] = [];
  await assert.rejects(log.append(event(1), (seq) => said.push(seq)), /EINVAL|invalid/i);
  await assert.rejects(log.append(event(2), (seq) => said.push(seq)), /EINVAL|invalid/i);
  // A listener may have been sent #1 already: #2 is another number.
  assert.deepEqual(said, [1, 2]);
  assert.equal(log.head(), 2);
});

test('reading a long backlog streams across segments in order', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openStore(t, dataDir, { tuning: { segmentMaxEvents: 100 } });
  const batch: Array<Promise<number>> = [];
  for (let n = 1; n <= 1500; n++) batch.push(log.append(event(n)));
  await Promise.all(batch);
  let expected = 701;
  for await (const stored of log.read(700)) assert.equal(stored.seq, expected++);
  assert.equal(expected, 1501);
});
