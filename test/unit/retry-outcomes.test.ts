import assert from 'node:assert/strict';
import { appendFile, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { WebSocketServer } from 'ws';
import { decodeListenerMessage, decodeRelayMessage, encodeMessage, isInvalid, PROTOCOL_VERSION, type OutcomeNotice } from '../../src/protocol/index.js';
import { FileChannelStore } from '../../src/relay/file-store.js';
import type { EventLog } from '../../src/relay/store.js';
import type { TunnelAnswer } from '../../src/tunnel/client.js';
import { openTunnel } from '../../src/tunnel/client.js';
import { memoryCursor } from '../../src/tunnel/cursor-file.js';
import { OutcomeNotices } from '../../src/tunnel/outcome-notices.js';
import { RetrySchedule } from '../../src/tunnel/retry-schedule.js';
import { tempDir } from '../helpers/cli.js';
import { waitUntil } from '../helpers/poll.js';

const CHANNEL = 'chan_outcomesoutcomes00';

test('outcome notices: built by the listener, read by the relay (unknown fields dropped); hostile ones refused', () => {
  const notice: OutcomeNotice = { seq: 4, state: 'retrying', status: 500, attempts: 2, nextAttemptAt: new Date(0).toISOString() };
  const decoded = decodeListenerMessage(JSON.stringify({ v: PROTOCOL_VERSION, type: 'outcomes', outcomes: [{ ...notice, extra: 'dropped' }] }));
  assert.deepEqual(decoded, { v: PROTOCOL_VERSION, type: 'outcomes', outcomes: [notice] });
  const noted = decodeRelayMessage(encodeMessage({ type: 'outcomes-noted', outcomes: [{ seq: 4, state: 'failed', attempts: 6 }] }));
  assert.deepEqual(noted, { v: PROTOCOL_VERSION, type: 'outcomes-noted', outcomes: [{ seq: 4, state: 'failed', attempts: 6 }] });
  const subscribed = decodeRelayMessage(encodeMessage({ type: 'subscribed', channel: CHANNEL, after: 0, head: 0, outcomes: true }));
  assert.ok(!isInvalid(subscribed) && subscribed.type === 'subscribed' && subscribed.outcomes === true);

  const hostile: unknown[] = [
    [],
    'nope',
    [{ seq: 0, state: 'failed' }],
    [{ seq: 1, state: 'lost' }],
    [{ seq: 1, state: 'failed', status: 42 }],
    [{ seq: 1, state: 'failed', attempts: 0 }],
    [{ seq: 1, state: 'failed', attempts: 1e9 }],
    [{ seq: 1, state: 'retrying', nextAttemptAt: 'soon' }],
    [{ seq: 1, state: 'retrying', nextAttemptAt: 'x'.repeat(100) }],
    [null],
    Array.from({ length: 1_001 }, (_, i) => ({ seq: i + 1, state: 'failed' })),
  ];
  for (const outcomes of hostile) {
    assert.ok(isInvalid(decodeListenerMessage(JSON.stringify({ v: 1, type: 'outcomes', outcomes }))), JSON.stringify(outcomes).slice(0, 80));
  }
  // The relay's confirmation carries seq, state and attempts only: those are checked the same way.
  for (const outcomes of hostile.filter((list) => !JSON.stringify(list).match(/status|nextAttemptAt/))) {
    assert.ok(isInvalid(decodeRelayMessage(JSON.stringify({ v: 1, type: 'outcomes-noted', outcomes }))), JSON.stringify(outcomes).slice(0, 80));
  }
  assert.ok(isInvalid(decodeRelayMessage(JSON.stringify({ v: 1, type: 'subscribed', channel: CHANNEL, after: 0, head: 0, outcomes: 'yes' }))));
});

test('OutcomeNotices: nothing goes to a relay that does not keep outcomes; the rest is repeated until the relay confirms that very notice', () => {
  const confirmed: OutcomeNotice[] = [];
  const notices = new OutcomeNotices((notice) => confirmed.push(notice));
  const sent: OutcomeNotice[][] = [];
  const send = (frame: string): void => {
    const message = decodeListenerMessage(frame);
    assert.ok(!isInvalid(message) && message.type === 'outcomes');
    sent.push(message.outcomes);
  };
  notices.note({ seq: 1, state: 'retrying', attempts: 1, status: 500 });
  notices.attach(undefined);
  assert.equal(sent.length, 0, 'an older relay is never sent one (it would close the link)');
  notices.attach(send);
  assert.deepEqual(sent, [[{ seq: 1, state: 'retrying', attempts: 1, status: 500 }]]);
  notices.note({ seq: 1, state: 'retrying', attempts: 2, status: 503 });
  notices.note({ seq: 2, state: 'failed', attempts: 6, status: 500 });
  // The confirmation of attempt 1 comes after attempt 2 went out: attempt 2 still waits.
  notices.noted([{ seq: 1, state: 'retrying', attempts: 1 }]);
  assert.equal(notices.size, 2);
  notices.noted([{ seq: 2, state: 'failed', attempts: 6 }]);
  assert.deepEqual(confirmed, [{ seq: 2, state: 'failed', attempts: 6, status: 500 }]);
  notices.detach();
  notices.note({ seq: 3, state: 'delivered', attempts: 2, status: 200 });
  sent.length = 0;
  notices.attach(send);
  assert.deepEqual(sent, [[{ seq: 1, state: 'retrying', attempts: 2, status: 503 }, { seq: 3, state: 'delivered', attempts: 2, status: 200 }]]);
  // A notice the relay would refuse (a damaged journal) is not sent at all.
  notices.note({ seq: 4, state: 'failed', attempts: 0 });
  assert.equal(notices.size, 2);
});

test('RetrySchedule: each state is noticed; a finished schedule stays in the journal until the relay confirmed it, then is forgotten', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'relay-retries-x.jsonl');
  const handler = async (): Promise<TunnelAnswer> => ({ status: 500, headers: [], body: Buffer.alloc(0) });
  const event = { seq: 9, method: 'POST', path: '/h', rawHeaders: [], body: Buffer.from('{}'), receivedAt: new Date(0).toISOString() };
  const open = (scale: number): Promise<RetrySchedule> => RetrySchedule.open({ file, channel: 'x', handler, delaysMs: [10, 10], scale });

  const first = await open(1);
  const sent: OutcomeNotice[] = [];
  first.outcomes.attach((frame) => sent.push(...(decodeListenerMessage(frame) as { outcomes: OutcomeNotice[] }).outcomes));
  await first.firstAttempt(event).settle({ status: 500, headers: [], body: Buffer.alloc(0) });
  assert.deepEqual(sent.map((n) => [n.state, n.attempts, n.status]), [['retrying', 1, 500]]);
  await waitUntil('the schedule runs out', () => sent.some((n) => n.state === 'failed'));
  assert.deepEqual(sent.map((n) => [n.state, n.attempts]), [['retrying', 1], ['retrying', 2], ['failed', 3]]);
  await first.close();

  // Not confirmed (the relay was away): a restarted listener still has it to tell.
  const second = await open(1);
  assert.equal(second.size, 0, 'nothing left to run');
  const again: OutcomeNotice[] = [];
  second.outcomes.attach((frame) => again.push(...(decodeListenerMessage(frame) as { outcomes: OutcomeNotice[] }).outcomes));
  assert.deepEqual(again, [{ seq: 9, state: 'failed', attempts: 3, status: 500 }]);
  second.outcomes.noted([{ seq: 9, state: 'failed', attempts: 3 }]);
  await second.close();
  assert.match(await readFile(file, 'utf8'), /"reported":true/);

  // Foreign lines (hand edits, another tool) are skipped, never a crash.
  await appendFile(file, 'null\n5\n"text"\n{"done":"ok"}\n[]\n');
  const third = await open(1);
  t.after(() => third.close());
  assert.equal(third.outcomes.size, 0, 'confirmed: not told again');
  assert.equal((await readFile(file, 'utf8')).trim(), '', 'and compacted away');
});

async function openLog(t: TestContext, dataDir: string, maxEvents = 1_000): Promise<{ store: FileChannelStore; log: EventLog }> {
  const store = await FileChannelStore.open({ dataDir, retention: { maxEvents, maxAgeMs: 86_400_000 } });
  t.after(() => store.close());
  if (!(await store.channel(CHANNEL))) await store.createChannel({ id: CHANNEL, tokenHash: 'cd'.repeat(32), createdAt: new Date().toISOString() });
  return { store, log: (await store.log(CHANNEL)) as EventLog };
}

test('the file store keeps outcomes with the cursor, durably: a crash right after (no close) keeps them; events it does not hold are ignored', async (t) => {
  const dataDir = await tempDir(t);
  const { log } = await openLog(t, dataDir, 3);
  for (let n = 1; n <= 3; n++) await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from(`{"n":${n}}`), receivedAt: new Date() });
  await log.noteOutcomes([
    { seq: 1, state: 'retrying', attempts: 1, status: 500 },
    { seq: 2, state: 'failed', attempts: 6, status: 500 },
    { seq: 9, state: 'failed' },
  ]);
  await log.noteOutcomes([{ seq: 1, state: 'delivered', attempts: 2, status: 200 }]);
  assert.deepEqual([...(await log.outcomes(0)).values()].map((o) => [o.seq, o.state]), [[1, 'delivered'], [2, 'failed']]);
  assert.deepEqual([...(await log.outcomes(1)).keys()], [2]);
  // What a crash leaves: the state file as noteOutcomes resolved (the store is never closed).
  const state = JSON.parse(await readFile(path.join(dataDir, 'channels', CHANNEL, 'state.json'), 'utf8')) as { outcomes: OutcomeNotice[] };
  assert.deepEqual(state.outcomes.map((o) => [o.seq, o.state, o.attempts]), [[1, 'delivered', 2], [2, 'failed', 6]]);

  // Retention drops #1 and #2: their outcomes go with them.
  await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{"n":4}'), receivedAt: new Date() });
  await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{"n":5}'), receivedAt: new Date() });
  await waitUntil('retention', () => log.first() === 3);
  assert.equal((await log.outcomes(0)).size, 0);
});

test('a reopened file store has the outcomes back', async (t) => {
  const dataDir = await tempDir(t);
  const first = await openLog(t, dataDir);
  await first.log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{}'), receivedAt: new Date() });
  await first.log.ack(1);
  await first.log.noteOutcomes([{ seq: 1, state: 'failed', attempts: 6, status: 502 }]);
  await first.store.close();
  const again = await openLog(t, dataDir);
  assert.equal(again.log.acked(), 1);
  assert.deepEqual([...(await again.log.outcomes(0)).values()], [{ seq: 1, state: 'failed', attempts: 6, status: 502 }]);
});

/**
 * A relay as old or as new as wanted, speaking the real protocol over a real WebSocket:
 * it subscribes the listener, sends one stored event, and records every frame it gets.
 */
async function relayThatAnnounces(t: TestContext, outcomes: boolean): Promise<{ url: URL; frames: Array<{ type: string; outcomes?: OutcomeNotice[] }> }> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.after(() => new Promise<void>((resolve) => {
    for (const client of wss.clients) client.terminate();
    wss.close(() => resolve());
  }));
  await new Promise((resolve) => wss.once('listening', resolve));
  const frames: Array<{ type: string; outcomes?: OutcomeNotice[] }> = [];
  wss.on('connection', (ws) => {
    ws.on('message', (data: Buffer) => {
      const message = decodeListenerMessage(data);
      assert.ok(!isInvalid(message), 'every frame the listener sends is one this relay reads');
      if (message.type === 'ping' || message.type === 'pong') return;
      frames.push(message);
      if (message.type !== 'subscribe') return;
      ws.send(encodeMessage({ type: 'subscribed', channel: CHANNEL, after: 0, head: 1, ...(outcomes ? { outcomes: true } : {}) }));
      const body = Buffer.from('{"event":"MessageSent"}').toString('base64');
      ws.send(encodeMessage({ type: 'event', seq: 1, method: 'POST', path: '/', rawHeaders: [], body, receivedAt: new Date().toISOString() }));
    });
  });
  return { url: new URL(`http://127.0.0.1:${(wss.address() as { port: number }).port}`), frames };
}

for (const announces of [false, true]) {
  test(`a stored event the app refuses, with a relay that ${announces ? 'keeps outcomes: told retrying before the ack' : 'does not keep outcomes (older): never sent one'}`, async (t) => {
    const dir = await tempDir(t);
    const relay = await relayThatAnnounces(t, announces);
    const handler = async (): Promise<TunnelAnswer> => ({ status: 500, headers: [], body: Buffer.alloc(0) });
    const retries = await RetrySchedule.open({ file: path.join(dir, 'journal.jsonl'), channel: CHANNEL, handler, delaysMs: [3_600_000], scale: 1 });
    t.after(() => retries.close());
    const tunnel = openTunnel({ relayUrl: relay.url, channel: CHANNEL, token: 't'.repeat(43), cursor: memoryCursor(), handler, retries });
    t.after(() => tunnel.close());
    await waitUntil('the ack', () => relay.frames.some((frame) => frame.type === 'acks'));
    const types = relay.frames.map((frame) => frame.type);
    if (!announces) {
      assert.deepEqual(types, ['subscribe', 'acks']);
      assert.equal(retries.outcomes.size, 1, 'kept for a relay that keeps outcomes');
      return;
    }
    assert.deepEqual(types, ['subscribe', 'outcomes', 'acks']);
    assert.deepEqual(relay.frames[1]?.outcomes?.map((o) => [o.seq, o.state, o.attempts, o.status]), [[1, 'retrying', 1, 500]]);
  });
}
