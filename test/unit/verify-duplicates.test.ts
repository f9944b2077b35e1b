import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { DuplicateTracker, hexKey, KeyTable, pairHash, type RepeatKeys } from '../../src/verify/duplicates.js';

const digest = (i: number): string => createHmac('sha256', 'k').update(String(i)).digest('hex');

function keysOf(bytes: string, pair?: [string, string]): RepeatKeys {
  const { hi, lo } = hexKey(bytes);
  const keys: RepeatKeys = { hasBytes: true, bytesHi: hi, bytesLo: lo, hasPair: false, pairHi: 0, pairLo: 0 };
  if (pair) {
    const out = { hi: 0, lo: 0 };
    pairHash(pair[0], pair[1], out);
    Object.assign(keys, { hasPair: true, pairHi: out.hi, pairLo: out.lo });
  }
  return keys;
}

test('KeyTable: colliding slots still tell keys apart, and growing keeps every first label', () => {
  const table = new KeyTable();
  // Same low half (same slot before mixing), different high half: two keys.
  assert.equal(table.firstOrAdd(1, 7, 0), -1);
  assert.equal(table.firstOrAdd(2, 7, 1), -1);
  assert.equal(table.firstOrAdd(2, 7, 9), 1);
  assert.equal(table.firstOrAdd(1, 7, 9), 0);
  // Past the initial 65,536 slots, several times over.
  const many = new KeyTable();
  for (let i = 0; i < 200_000; i++) {
    const { hi, lo } = hexKey(digest(i));
    assert.equal(many.firstOrAdd(hi, lo, i), -1);
  }
  for (let i = 0; i < 200_000; i += 997) {
    const { hi, lo } = hexKey(digest(i));
    assert.equal(many.firstOrAdd(hi, lo, -5), i);
  }
});

test('hexKey reads the first 16 hex digits as two signed 32-bit halves; pairHash keeps event and id apart', () => {
  assert.deepEqual(hexKey('0123456789abcdef0000'), { hi: 0x01234567, lo: 0x89abcdef | 0 });
  assert.deepEqual(hexKey('ffffffffffffffff'), { hi: -1, lo: -1 });
  const a = { hi: 0, lo: 0 };
  const b = { hi: 0, lo: 0 };
  pairHash('ab', 'c', a);
  pairHash('a', 'bc', b);
  assert.notDeepEqual(a, b);
  pairHash('ab', 'c', b);
  assert.deepEqual(a, b);
});

test('DuplicateTracker: same bytes are a redelivery; same event + message_id with other bytes is not', () => {
  const tracker = new DuplicateTracker();
  assert.equal(tracker.observe(keysOf(digest(1), ['MessageSent', '<m1@x>']), 'req_1'), undefined);
  assert.deepEqual(tracker.observe(keysOf(digest(1), ['MessageSent', '<m1@x>']), 'f:2'), { exactDuplicateOf: 'req_1' });
  assert.deepEqual(tracker.observe(keysOf(digest(2), ['MessageSent', '<m1@x>']), 'f:3'), { samePairAs: 'req_1' });
  assert.equal(tracker.observe(keysOf(digest(3), ['MessageDelayed', '<m1@x>']), 'f:4'), undefined);
  // Labels as UTF-8 bytes (from a worker thread) are the same labels.
  const label = Buffer.from('xxréq_ü5yy');
  assert.equal(tracker.observeEncoded(keysOf(digest(5)), label, 2, label.length - 2), undefined);
  assert.deepEqual(tracker.observe(keysOf(digest(5)), 'f:6'), { exactDuplicateOf: 'réq_ü5' });
  // An exact duplicate keeps no label of its own: later repeats still name the first.
  assert.deepEqual(tracker.observe(keysOf(digest(5)), 'f:7'), { exactDuplicateOf: 'réq_ü5' });
  assert.deepEqual([tracker.exactDuplicates, tracker.repeatedPairs], [3, 1]);
});
