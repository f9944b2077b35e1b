import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { DuplicateTracker, FirstSeen, hexPrefixHash, stringHash } from '../../src/verify/duplicates.js';
import type { Verdict } from '../../src/verify/types.js';

const verdict = (location: string, extra: Partial<Verdict> = {}): Verdict => ({ location, ok: true, reasons: [], notes: [], ...extra });

test('FirstSeen: colliding hashes still tell keys apart, and growing keeps every first label', () => {
  const constant = new FirstSeen(() => 0);
  assert.equal(constant.firstLabel('a', 'first a'), undefined);
  assert.equal(constant.firstLabel('b', 'first b'), undefined);
  assert.equal(constant.firstLabel('b', 'again b'), 'first b');
  assert.equal(constant.firstLabel('a', 'again a'), 'first a');

  // Past the initial 4,096 slots, several times over; digests share prefixes only by chance.
  const table = new FirstSeen(hexPrefixHash);
  const digest = (i: number): string => createHmac('sha256', 'k').update(String(i)).digest('hex');
  for (let i = 0; i < 20_000; i++) assert.equal(table.firstLabel(digest(i), `#${i}`), undefined);
  for (let i = 0; i < 20_000; i += 997) assert.equal(table.firstLabel(digest(i), 'later'), `#${i}`);
  // Same first seven digits, different digest: not a duplicate.
  const twin = `${digest(5).slice(0, 7)}${'0'.repeat(57)}`;
  assert.equal(table.firstLabel(twin, 'twin'), undefined);
  assert.equal(table.firstLabel(twin, 'twin again'), 'twin');
});

test('hashes: hex digits map to 0-15, FNV-1a is unsigned 32-bit', () => {
  assert.equal(hexPrefixHash('0123456789abcdef'), 0x0123456);
  assert.equal(hexPrefixHash('fffffff'), 0xfffffff);
  assert.equal(stringHash(''), 0x811c9dc5);
  assert.equal(stringHash('a'), 0xe40c292c);
});

test('DuplicateTracker: same bytes are a redelivery; same event + message_id with other bytes is not', () => {
  const tracker = new DuplicateTracker();
  const first = verdict('f:1', { id: 'req_1', event: 'MessageSent', messageId: '<m1@x>' });
  assert.equal(tracker.observe(first, 'aa11'), false);
  const again = verdict('f:2', { event: 'MessageSent', messageId: '<m1@x>' });
  assert.equal(tracker.observe(again, 'aa11'), true);
  assert.equal(again.exactDuplicateOf, 'req_1');
  const click = verdict('f:3', { event: 'MessageSent', messageId: '<m1@x>' });
  assert.equal(tracker.observe(click, 'bb22'), false);
  assert.equal(click.samePairAs, 'req_1');
  assert.equal(click.exactDuplicateOf, undefined);
  const otherEvent = verdict('f:4', { event: 'MessageDelayed', messageId: '<m1@x>' });
  tracker.observe(otherEvent, 'cc33');
  assert.equal(otherEvent.samePairAs, undefined);
  assert.deepEqual([tracker.exactDuplicates, tracker.repeatedPairs], [1, 1]);
});
