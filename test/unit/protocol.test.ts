import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decodeListenerMessage,
  decodeRelayFrame,
  decodeRelayMessage,
  encodeAck,
  encodeAcksFrame,
  encodeEventsFrame,
  encodeMessage,
  isInvalid,
  PROTOCOL_VERSION,
} from '../../src/protocol/index.js';

test('messages built by one end are accepted by the other', () => {
  const subscribe = decodeListenerMessage(encodeMessage({ type: 'subscribe', channel: 'abcdefghijklmnopqrstuvwx', token: 't'.repeat(43), after: 7 }));
  assert.deepEqual(subscribe, { v: PROTOCOL_VERSION, type: 'subscribe', channel: 'abcdefghijklmnopqrstuvwx', token: 't'.repeat(43), after: 7 });
  const ack = decodeListenerMessage(encodeMessage({ type: 'ack', seq: 3, status: 200, final: true, headers: [['content-type', 'text/plain']], body: 'b2s=' }));
  assert.ok(!isInvalid(ack) && ack.type === 'ack' && ack.seq === 3);
  const event = decodeRelayMessage(
    encodeMessage({ type: 'event', seq: 1, method: 'POST', path: '/x?y=1', rawHeaders: ['A', 'b'], body: Buffer.from([0, 255]).toString('base64'), receivedAt: new Date().toISOString() }),
  );
  assert.ok(!isInvalid(event) && event.type === 'event' && Buffer.from(event.body, 'base64').equals(Buffer.from([0, 255])));
});

test('hostile frames are refused with a reason, never thrown', () => {
  const listenerFrames: unknown[] = [
    'not json',
    '[]',
    'null',
    '{"type":"subscribe"}',
    JSON.stringify({ v: 99, type: 'subscribe' }),
    JSON.stringify({ v: 1, type: 'subscribe', channel: '../../etc/passwd', token: 'x'.repeat(20) }),
    JSON.stringify({ v: 1, type: 'subscribe', channel: 'a'.repeat(24), token: 'short' }),
    JSON.stringify({ v: 1, type: 'subscribe', channel: 'a'.repeat(24), token: 'x'.repeat(20), after: -1 }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1e300, status: 200, final: true }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 42, final: true }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 200, final: 'yes' }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 200, final: true, headers: [['a']] }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 200, final: true, body: '%%%' }),
    JSON.stringify({ v: 1, type: 'ack', seq: 1, status: 200, final: true, body: 'A'.repeat(200_000) }),
    JSON.stringify({ v: 1, type: 'ping' }),
    JSON.stringify({ v: 1, type: '__proto__' }),
    Buffer.from([0xff, 0xfe, 0x00]),
  ];
  for (const frame of listenerFrames) {
    const result = decodeListenerMessage(frame as string);
    assert.ok(isInvalid(result), `accepted ${String(frame).slice(0, 60)}`);
  }
  assert.equal((decodeListenerMessage(JSON.stringify({ v: 2, type: 'ping', t: 1 })) as { code: string }).code, 'version');
  const relayFrames = [
    JSON.stringify({ v: 1, type: 'event', seq: 1, method: 'POST', path: 'no-slash', rawHeaders: [], body: '', receivedAt: new Date().toISOString() }),
    JSON.stringify({ v: 1, type: 'event', seq: 1, method: 'POST', path: '/', rawHeaders: ['odd'], body: '', receivedAt: new Date().toISOString() }),
    JSON.stringify({ v: 1, type: 'event', seq: 1, method: 'PO ST\r\n', path: '/', rawHeaders: [], body: '', receivedAt: new Date().toISOString() }),
    JSON.stringify({ v: 1, type: 'event', seq: 1, method: 'POST', path: '/', rawHeaders: [1, 2], body: '', receivedAt: 'x' }),
    JSON.stringify({ v: 1, type: 'error', code: 'whatever', message: 'm' }),
    JSON.stringify({ v: 1, type: 'gap', from: 'a', to: 2, reason: '' }),
  ];
  for (const frame of relayFrames) assert.ok(isInvalid(decodeRelayMessage(frame)), frame);
});

test('an events frame carries several events with their exact bytes, and a damaged one is refused', () => {
  const receivedAt = new Date().toISOString();
  const bodies = [Buffer.from('{\n  "pretty": "json"\n}'), Buffer.alloc(0), Buffer.from([0, 255, 0x80, 10])];
  const events = bodies.map((body, i) => ({ seq: 5 + i, method: 'POST', path: `/hook/${i}?q=1`, rawHeaders: ['Content-Type', 'application/json', 'X-Dup', 'a', 'X-Dup', 'b'], receivedAt, body }));
  const frame = encodeEventsFrame(events);
  const decoded = decodeRelayFrame(frame, true);
  assert.ok(!isInvalid(decoded) && decoded.type === 'events', JSON.stringify(decoded));
  assert.deepEqual(decoded.events.map((e) => e.seq), [5, 6, 7]);
  decoded.events.forEach((e, i) => {
    assert.ok(e.body.equals(bodies[i] as Buffer), `body ${i}`);
    assert.deepEqual(e.rawHeaders, events[i]?.rawHeaders);
    assert.equal(e.path, events[i]?.path);
  });
  const damaged = [
    frame.subarray(0, frame.length - 1),
    Buffer.concat([frame, Buffer.from('x')]),
    frame.subarray(0, 3),
    Buffer.concat([Buffer.from([0xff, 0xff, 0xff, 0xff]), frame.subarray(4)]),
    encodeEventsFrame([{ ...(events[1] as (typeof events)[number]), seq: 9 }, { ...(events[0] as (typeof events)[number]), seq: 8 }]),
    encodeEventsFrame([{ ...(events[0] as (typeof events)[number]), method: 'PO ST\r\n' }]),
  ];
  for (const bad of damaged) assert.ok(isInvalid(decodeRelayFrame(bad, true)));
});

test('acks travel several to a frame, each checked like a single ack', () => {
  const acks = decodeListenerMessage(JSON.stringify({ v: PROTOCOL_VERSION, type: 'acks', acks: [{ seq: 1, status: 200, final: true }, { seq: 2, status: 502, final: false, body: 'b2s=' }] }));
  assert.ok(!isInvalid(acks) && acks.type === 'acks' && acks.acks.length === 2);
  for (const bad of [[], [{ seq: 1, status: 42, final: true }], [{ seq: 1, status: 200, final: true }, 'x'], 'nope']) {
    assert.ok(isInvalid(decodeListenerMessage(JSON.stringify({ v: PROTOCOL_VERSION, type: 'acks', acks: bad }))), JSON.stringify(bad));
  }
});

test('binary acks carry status, flags, headers and the exact answer bytes; a damaged frame is refused', () => {
  const body = Buffer.from([0, 255, 10, 13, 0x7b]);
  const parts = [
    encodeAck(2 ** 40 + 3, 201, true, false, [['content-type', 'application/json; charset=utf-8']], body),
    encodeAck(4, 502, false, true, [], Buffer.alloc(0)),
  ];
  const frame = encodeAcksFrame(2, parts);
  const decoded = decodeListenerMessage(frame, true);
  assert.ok(!isInvalid(decoded) && decoded.type === 'acks', JSON.stringify(decoded));
  type Decoded = { seq: number; status: number; final: boolean; headers?: Array<[string, string]>; body?: string | Buffer; repeat?: true };
  const [first, second] = decoded.acks as Decoded[];
  const contentType = [['content-type', 'application/json; charset=utf-8']];
  const expected = { seq: 2 ** 40 + 3, status: 201, final: true, headers: contentType, body: undefined };
  assert.deepEqual({ ...first, body: undefined }, expected);
  assert.ok(Buffer.isBuffer(first?.body) && first.body.equals(body));
  assert.equal(second?.repeat, true);
  assert.equal(second?.final, false);
  // Every truncation, a byte too many, a wrong version, a zero seq or status, unknown flags: refused, never thrown.
  for (let cut = 0; cut < frame.length; cut++) assert.ok(isInvalid(decodeListenerMessage(frame.subarray(0, cut), true)), `cut at ${cut}`);
  assert.ok(isInvalid(decodeListenerMessage(Buffer.concat([frame, Buffer.from([0])]), true)));
  const damaged = (offset: number, value: number): Buffer => {
    const copy = Buffer.from(frame);
    copy[offset] = value;
    return copy;
  };
  assert.equal((decodeListenerMessage(damaged(0, 99), true) as { code: string }).code, 'version');
  assert.ok(isInvalid(decodeListenerMessage(encodeAcksFrame(1, [encodeAck(0, 200, true, false, [], Buffer.alloc(0))]), true)));
  assert.ok(isInvalid(decodeListenerMessage(encodeAcksFrame(1, [encodeAck(1, 42, true, false, [], Buffer.alloc(0))]), true)));
  assert.ok(isInvalid(decodeListenerMessage(damaged(3 + 8, 0x80), true)), 'unknown flags');
  assert.ok(isInvalid(decodeListenerMessage(encodeAcksFrame(0, []), true)));
  const tooBig = encodeAcksFrame(1, [encodeAck(1, 200, true, false, [], Buffer.alloc(64 * 1024 + 1))]);
  assert.ok(isInvalid(decodeListenerMessage(tooBig, true)), 'body over 64 KiB');
});
