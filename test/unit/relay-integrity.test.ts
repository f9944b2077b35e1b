import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { test, type TestContext } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { requestJson, requestLine } from '../../src/cli/listen-printer.js';
import type { CliIO } from '../../src/cli/io.js';
import { decodeEventsFrame } from '../../src/protocol/events-frame.js';
import { decodeListenerMessage, decodeRelayMessage, encodeEventsFrame, encodeMessage, isInvalid } from '../../src/protocol/index.js';
import { ChannelDelivery, type SubscribeWish } from '../../src/relay/delivery.js';
import { FileEventLog } from '../../src/relay/file-log.js';
import { openCursorFile } from '../../src/tunnel/cursor-file.js';
import { ForwardedTracker } from '../../src/tunnel/forwarded.js';
import { jsonReporter } from '../../src/verify/reporters/json.js';
import { textReporter } from '../../src/verify/reporters/text.js';
import { verifyRequests } from '../../src/verify/run.js';
import type { VerifySummary } from '../../src/verify/types.js';
import { tempDir } from '../helpers/cli.js';
import { waitUntil } from '../helpers/poll.js';
import { captureRecord, sampleBody, writeCaptures } from '../helpers/verify-captures.js';

const RETENTION = { maxEvents: 1000, maxAgeMs: 86_400_000 };

test('a channel log keeps its identity across reopening; a folder without one gets a new one, and so does a log made anew', async (t) => {
  const dir = await tempDir(t);
  const first = await FileEventLog.open('c', dir, RETENTION);
  assert.match(first.id, /^[A-Za-z0-9_-]{16}$/);
  await first.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{}'), receivedAt: new Date() });
  first.notePushed(1);
  await first.close();
  const again = await FileEventLog.open('c', dir, RETENTION);
  assert.equal(again.id, first.id, 'kept with the log');
  assert.equal(again.pushed(), 1, 'what went out to a listener survives a restart');
  await again.close();
  const other = await FileEventLog.open('c', await tempDir(t), RETENTION);
  assert.notEqual(other.id, first.id);
  await other.close();
});

test('the cursor file: an old one (no identity) is read; reset ties it to a log and may move it back', async (t) => {
  const file = path.join(await tempDir(t), 'cursor');
  await writeFile(file, `${'2667'.padStart(20, ' ')}\n`);
  const old = await openCursorFile(file);
  assert.deepEqual([old.lastForwarded, old.log], [2667, undefined]);
  assert.equal(old.begun, undefined, 'an old cursor does not know what its listener began');
  old.reset(2624, 'abcdefgh12345678', undefined);
  old.begin(2631);
  old.save(2630, '2026-12-06T23:00:00.000Z');
  old.close();
  const at = '2026-12-06T23:00:00.000Z'.padEnd(32, ' ');
  assert.equal(await readFile(file, 'utf8'), `${'2630'.padStart(20, ' ')}\n${at}\n${'2631'.padStart(20, ' ')}\nabcdefgh12345678\n`);
  const reopened = await openCursorFile(file);
  assert.deepEqual([reopened.lastForwarded, reopened.lastForwardedAt, reopened.begun, reopened.log], [2630, '2026-12-06T23:00:00.000Z', 2631, 'abcdefgh12345678']);
  reopened.close();
});

test('the tracker after a reset: old seqs are forgotten and a delivery begun before it is never counted', async (t) => {
  const cursor = await openCursorFile(path.join(await tempDir(t), 'cursor'));
  t.after(() => cursor.close());
  const tracker = new ForwardedTracker(cursor);
  tracker.startAt(0);
  for (const seq of [1, 2, 3]) {
    tracker.begin(seq);
    tracker.finish(seq, true);
  }
  const before = tracker.generation;
  tracker.begin(4);
  tracker.reset(1, 'newlogid12345678');
  assert.equal(tracker.forwarded(2), false, '#2 names another event now');
  assert.equal(tracker.inProgress(4), false, 'the relay\'s new #4 is not the one in progress');
  tracker.finish(4, true, before);
  assert.equal(tracker.forwarded(4), false);
  assert.deepEqual([cursor.lastForwarded, cursor.log], [1, 'newlogid12345678']);
});

test('protocol: log identities, replaced, repeat acks and redelivery marks pass; bad ones are refused', () => {
  const subscribe = decodeListenerMessage(encodeMessage({ type: 'subscribe', channel: 'a'.repeat(24), token: 't'.repeat(43), after: 5, log: 'abcdefgh12345678' }));
  assert.ok(!isInvalid(subscribe) && subscribe.type === 'subscribe' && subscribe.log === 'abcdefgh12345678');
  assert.ok(isInvalid(decodeListenerMessage(encodeMessage({ type: 'subscribe', channel: 'a'.repeat(24), token: 't'.repeat(43), log: '../x' } as never))));
  const replaced = decodeRelayMessage(encodeMessage({ type: 'replaced', at: '2026-12-06T23:00:00.000Z', by: '127.0.0.1:5000' }));
  assert.ok(!isInvalid(replaced) && replaced.type === 'replaced');
  assert.ok(isInvalid(decodeRelayMessage(encodeMessage({ type: 'replaced', at: 'x' }))));
  assert.ok(isInvalid(decodeRelayMessage(encodeMessage({ type: 'replaced', at: '2026-12-06T23:00:00.000Z', by: '\u001b[31mred' }))));
  assert.ok(isInvalid(decodeListenerMessage(JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 200, final: true, repeat: 'yes' }))));
  assert.ok(!isInvalid(decodeListenerMessage(encodeMessage({ type: 'released', begun: 12 }))));
  assert.ok(isInvalid(decodeListenerMessage(JSON.stringify({ v: 1, type: 'released', begun: -1 }))));
  const event = { seq: 7, method: 'POST', path: '/', rawHeaders: [], receivedAt: new Date().toISOString(), body: Buffer.from('{}') };
  const frame = decodeEventsFrame(encodeEventsFrame([event, { ...event, seq: 8, redelivery: true }]));
  assert.ok(!isInvalid(frame));
  assert.deepEqual(frame.events.map((e) => e.redelivery), [undefined, true]);
});

function io(): CliIO {
  return { cwd: '/', env: {}, stdin: new PassThrough(), stdout: new PassThrough(), stderr: new PassThrough() };
}

test('listen marks a redelivery in its line and its json line, and not otherwise', () => {
  const record = captureRecord({ body: sampleBody('MessageSent', 1), secret: null, extra: { responseStatus: 200, redelivery: true } });
  assert.match(requestLine(record, io()), /<-- 200 {2}\(redelivery\)$/);
  assert.equal(requestJson(record).redelivery, true);
  const plain: CaptureRecord = { ...record };
  delete plain.redelivery;
  assert.doesNotMatch(requestLine(plain, io()), /redelivery/);
  assert.equal('redelivery' in requestJson(plain), false);
});

test('verify counts captures marked redelivery, with or without the first delivery\'s capture', async (t) => {
  const file = path.join(await tempDir(t), 'c.jsonl');
  const body = sampleBody('MessageSent', 3);
  const lonely = sampleBody('MessageSent', 4);
  const first = captureRecord({ body, secret: 's' });
  // The listener was killed before it wrote #4's first capture: only the marked one is there.
  await writeCaptures(file, [first, captureRecord({ body, secret: 's', extra: { redelivery: true } }), captureRecord({ body: lonely, secret: 's', extra: { redelivery: true } })]);
  let text = '';
  const summary: VerifySummary = await verifyRequests({ inputs: [{ kind: 'file', path: file }], secrets: ['s'], cwd: '/', reporter: textReporter(1), write: (chunk) => void (text += chunk) });
  assert.equal(summary.markedRedeliveries, 2);
  assert.equal(summary.exactDuplicates, 1);
  assert.match(text, /duplicates: 1 exact \(keyed by the exact body bytes\); 0 repeated .*; 2 marked redelivery by the relay/);
  assert.equal(text.split('\n').filter((line) => line.includes('(redelivery)')).length, 2);
  let json = '';
  await verifyRequests({ inputs: [{ kind: 'file', path: file }], secrets: ['s'], cwd: '/', reporter: jsonReporter(), write: (chunk) => void (json += chunk) });
  const document = JSON.parse(json) as { verdicts: Array<{ redelivery?: boolean; exactDuplicateOf?: string }>; summary: { markedRedeliveries: number } };
  assert.deepEqual(document.verdicts.map((v) => v.redelivery ?? false), [false, true, true]);
  assert.equal(document.verdicts[1]?.exactDuplicateOf, first.id);
  assert.equal(document.summary.markedRedeliveries, 2);
});

/** A listener link that records what the relay sends it (the delivery's only view of a socket). */
function recordingLink() {
  const frames: Array<string | Buffer> = [];
  const closes: number[] = [];
  return {
    frames,
    closes,
    texts: () => frames.filter((f): f is string => typeof f === 'string').map((f) => JSON.parse(f) as { type: string }),
    events: () => frames.filter((f): f is Buffer => Buffer.isBuffer(f)).flatMap((f) => {
      const decoded = decodeEventsFrame(f);
      return isInvalid(decoded) ? [] : decoded.events;
    }),
    send: (frame: string | Buffer) => void frames.push(frame),
    close: (code: number) => void closes.push(code),
  };
}

async function logWith(t: TestContext, count: number): Promise<FileEventLog> {
  const log = await FileEventLog.open('c', await tempDir(t), RETENTION);
  t.after(() => log.close());
  for (let n = 1; n <= count; n++) await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from(`{"n":${n}}`), receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, n)) });
  return log;
}

test('where a subscription starts: the cursor in its own log up to the head; else the head, or the relay\'s own cursor', async (t) => {
  const log = await logWith(t, 5);
  await log.ack(2);
  const startOf = async (wish: SubscribeWish): Promise<number> => {
    let start = -1;
    const delivery = new ChannelDelivery(log);
    await delivery.attach(recordingLink(), wish, { at: new Date() }, (after) => void (start = after));
    delivery.detach(undefined);
    return start;
  };
  const at4 = new Date(Date.UTC(2026, 0, 1, 0, 0, 4)).toISOString();
  assert.equal(await startOf({ after: 4, log: log.id, at: at4 }), 4, 'trusted');
  assert.equal(await startOf({ after: 5, log: 'someotherlog1234' }), 4, 'another log: the relay\'s own cursor (moved to 4 by the trusted one)');
  assert.equal(await startOf({ after: 9, log: log.id }), 5, 'past the head: an older copy, new after its head');
  assert.equal(await startOf({ after: 9 }), 5, 'an old cursor without identity: the same head rule');
  assert.equal(await startOf({ after: 5, log: log.id, at: '2026-06-01T00:00:00.000Z' }), 4, 'another event under #5: from the relay\'s cursor');
});

test('an ack for an event forwarded on an earlier connection never reaches a waiting sender as a 2xx', async (t) => {
  const log = await logWith(t, 0);
  const delivery = new ChannelDelivery(log);
  const link = recordingLink();
  await delivery.attach(link, {}, { at: new Date() }, () => undefined);
  const seq = await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{}'), receivedAt: new Date() });
  const answer = delivery.waitForAnswer(seq, 5_000);
  delivery.appended();
  await waitUntil('the event on the link', () => link.events().length === 1);
  delivery.acknowledged(link, [{ seq, status: 200, final: true, headers: [], repeat: true }]);
  const got = await answer;
  assert.ok(got !== undefined && got !== 'timeout');
  assert.equal(got.status, 502);
  assert.match(got.body.toString(), /answer is not known/);
  assert.equal(log.acked(), seq, 'the cursor still moves');
});

test('takeover: the replaced link is told, finishes its event, and only then the newer one starts; what it left goes out marked', async (t) => {
  const log = await logWith(t, 3);
  const delivery = new ChannelDelivery(log);
  const old = recordingLink();
  await delivery.attach(old, {}, { at: new Date() }, () => undefined);
  await waitUntil('three events on the old link', () => old.events().length === 3);
  assert.deepEqual(old.events().map((e) => e.seq), [1, 2, 3]);
  let started: number | undefined;
  const newer = recordingLink();
  const attaching = delivery.attach(newer, {}, { at: new Date('2026-12-06T23:00:00Z'), by: '127.0.0.1:4000' }, (after) => void (started = after));
  await waitUntil('the old link told it is replaced', () => old.texts().some((m) => m.type === 'replaced'));
  assert.deepEqual(old.texts().filter((m) => m.type === 'replaced'), [{ v: 1, type: 'replaced', at: '2026-12-06T23:00:00.000Z', by: '127.0.0.1:4000' }]);
  assert.equal(started, undefined, 'nothing for the newer listener while the old one may still forward');
  assert.equal(delivery.connected, true, 'senders wait for the newer listener meanwhile');
  delivery.acknowledged(old, [{ seq: 1, status: 200, final: true }]);
  // The old listener forwarded #1 and dropped #2 and #3; it closes.
  delivery.detach(old);
  assert.equal(await attaching, true);
  await waitUntil('two events on the newer link', () => newer.events().length >= 2);
  assert.equal(started, 1);
  assert.deepEqual(newer.events().map((e) => [e.seq, e.redelivery ?? false]), [[2, true], [3, true]]);
  assert.equal(newer.events().length, 2, 'nothing the old one acknowledged');
});

test('takeover: a listener still waiting for the replaced one to finish is itself replaced by a third at once', async (t) => {
  const log = await logWith(t, 2);
  const delivery = new ChannelDelivery(log);
  const old = recordingLink();
  await delivery.attach(old, {}, { at: new Date() }, () => undefined);
  await waitUntil('two events on the old link', () => old.events().length === 2);
  const second = recordingLink();
  const secondAttach = delivery.attach(second, {}, { at: new Date() }, () => assert.fail('the second never starts'));
  await waitUntil('the old link told it is replaced', () => old.texts().some((m) => m.type === 'replaced'));
  const third = recordingLink();
  let thirdStart: number | undefined;
  const thirdAttach = delivery.attach(third, {}, { at: new Date('2026-12-06T23:30:00Z') }, (after) => void (thirdStart = after));
  assert.deepEqual(second.texts().map((m) => m.type), ['replaced']);
  assert.deepEqual(second.closes, [4409]);
  delivery.detach(second);
  delivery.detach(old);
  assert.equal(await secondAttach, false);
  assert.equal(await thirdAttach, true);
  assert.equal(thirdStart, 0);
  await waitUntil('two events on the third link', () => third.events().length >= 2);
  assert.deepEqual(third.events().map((e) => e.seq), [1, 2]);
});
