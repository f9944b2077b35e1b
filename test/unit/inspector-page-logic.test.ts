import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lineDiff } from '../../src/inspector/page/diff.js';
import { deliveryStates, eventGroup, filtersFromQuery, filtersToQuery, matches, statusClass, EMPTY_FILTERS } from '../../src/inspector/page/filters.js';
import { bodyPreview } from '../../src/inspector/responses.js';
import type { WireRequest } from '../../src/inspector/wire.js';

const KNOWN = new Set(['MessageSent', 'MessageBounced']);

function request(extra: Partial<WireRequest> = {}): WireRequest {
  return { id: 'req_1', receivedAt: '2026-01-01T00:00:00Z', method: 'POST', path: '/hooks?x=1', headers: { 'x-trace': 'Abc' }, body: '{"event":"MessageSent","note":"Needle"}', bodyEncoding: 'utf8', bodySize: 38, signature: 'valid', ...extra };
}

test('filters: event groups, status classes, delivery states, search, and their URL form', () => {
  assert.equal(eventGroup(request({ event: 'MessageSent' }), KNOWN), 'MessageSent');
  assert.equal(eventGroup(request({ event: '<b>made up</b>' }), KNOWN), 'other');
  assert.equal(eventGroup(request(), KNOWN), 'none');
  assert.equal(statusClass(request({ responseStatus: 404 })), '4xx');
  assert.equal(statusClass(request()), 'none');
  assert.deepEqual(deliveryStates(request({ forward: { target: 't', status: 500, latencyMs: 1 }, redelivery: true })), ['forwarded', 'redelivery']);
  assert.deepEqual(deliveryStates(request({ forward: { target: 't', latencyMs: 1, error: 'refused' } })), ['failed']);
  assert.deepEqual(deliveryStates(request({ delivery: 'queued' })), ['queued']);
  const filters = { ...EMPTY_FILTERS, q: 'needle', status: '2xx' };
  assert.equal(matches(request({ responseStatus: 200 }), filters, KNOWN), true);
  assert.equal(matches(request({ responseStatus: 500 }), filters, KNOWN), false, 'filters combine');
  assert.equal(matches(request({ responseStatus: 200 }), { ...filters, q: 'x-trace: abc' }, KNOWN), true, 'headers, case-insensitively');
  assert.equal(matches(request({ responseStatus: 200 }), { ...filters, q: 'absent' }, KNOWN), false);
  assert.equal(filtersToQuery(filters), '?q=needle&status=2xx');
  assert.deepEqual(filtersFromQuery('?q=needle&status=2xx&bogus=1'), filters);
  assert.equal(filtersToQuery(EMPTY_FILTERS), '');
});

test('lineDiff keeps common lines and marks the rest; a huge input still diffs, line by line', () => {
  assert.deepEqual(lineDiff(['a', 'b', 'c'], ['a', 'x', 'c']), [
    { kind: ' ', text: 'a' },
    { kind: '-', text: 'b' },
    { kind: '+', text: 'x' },
    { kind: ' ', text: 'c' },
  ]);
  assert.deepEqual(lineDiff([], ['n']), [{ kind: '+', text: 'n' }]);
  const big = Array.from({ length: 5000 }, (_, i) => `line ${i}`);
  const changed = big.map((line, i) => (i === 10 ? 'changed' : line));
  const diff = lineDiff(big, changed);
  assert.deepEqual(diff.filter((line) => line.kind !== ' '), [{ kind: '-', text: 'line 10' }, { kind: '+', text: 'changed' }]);
});

test('bodyPreview never cuts a UTF-8 character in two', () => {
  const bytes = Buffer.from('ab€€€', 'utf8'); // 2 + 3×3 bytes
  const preview = bodyPreview(bytes, 4);
  assert.deepEqual(preview, { body: 'ab', bodyEncoding: 'utf8', bodySize: 11, bodyTruncated: true });
  assert.deepEqual(bodyPreview(bytes, 11), { body: 'ab€€€', bodyEncoding: 'utf8', bodySize: 11 });
  assert.equal(bodyPreview(Buffer.from([0xff, 0xfe, 0xfd]), 2).bodyEncoding, 'base64');
});
