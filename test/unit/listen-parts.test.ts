import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { forwardableRequestHeaders } from '../../src/intake/headers.js';
import { forwardUrl } from '../../src/intake/forward.js';
import { allowedHosts, isSameOriginRequest } from '../../src/inspector/origin.js';
import { RecentRequests } from '../../src/inspector/recent.js';

test('forwardUrl appends the request path to the target path and keeps both queries', () => {
  const target = new URL('http://localhost:3000/hooks?k=v');
  assert.equal(forwardUrl(target, '/').href, 'http://localhost:3000/hooks?k=v');
  assert.equal(forwardUrl(target, '/a/b?x=1').href, 'http://localhost:3000/hooks/a/b?k=v&x=1');
  assert.equal(forwardUrl(new URL('http://localhost:3000/'), '/in?q=%20').href, 'http://localhost:3000/in?q=%20');
  assert.equal(forwardUrl(new URL('http://localhost:3000/base/'), '/x').href, 'http://localhost:3000/base/x');
});

test('hop-by-hop headers and those named in Connection are dropped; order, case and repeats kept', () => {
  const raw = ['Host', 'a', 'X-A', '1', 'Connection', 'close, X-Secret-Hop', 'x-secret-hop', 'v', 'TE', 'trailers', 'x-a', '2', 'Transfer-Encoding', 'chunked'];
  assert.deepEqual(forwardableRequestHeaders(raw), ['X-A', '1', 'x-a', '2']);
});

test('the inspector window stays bounded by count and by body bytes', () => {
  const recent = new RecentRequests(3, 1000);
  const record = (id: string, bytes: number): CaptureRecord =>
    ({ id, body: 'x'.repeat(bytes), bodyEncoding: 'utf8', bodySize: bytes }) as CaptureRecord;
  for (let i = 0; i < 10; i++) recent.add(record(`r${i}`, 10));
  assert.deepEqual(recent.list().map((r) => r.id), ['r7', 'r8', 'r9']);
  recent.add(record('big', 990));
  assert.deepEqual(recent.list().map((r) => r.id), ['r9', 'big']);
  recent.add(record('huge', 5000));
  assert.deepEqual(recent.list().map((r) => r.id), ['huge'], 'one record alone is kept even over the byte budget');
  // Long runs: the window stays the newest few, found by id, across the queue's compactions.
  for (let i = 0; i < 5000; i++) recent.add(record(`n${i}`, 1));
  assert.deepEqual(recent.list().map((r) => r.id), ['n4997', 'n4998', 'n4999']);
  assert.equal(recent.size, 3);
  assert.equal(recent.get('n4998')?.id, 'n4998');
  assert.equal(recent.get('n4996'), undefined, 'gone from the window');
  recent.clear();
  assert.deepEqual(recent.list(), []);
  assert.equal(recent.get('n4999'), undefined);
});

test('the inspector window after a given id: what a reconnecting page missed', () => {
  const recent = new RecentRequests(3, 1000);
  for (const id of ['a', 'b', 'c', 'd']) recent.add({ id, body: '', bodyEncoding: 'utf8', bodySize: 0 } as unknown as CaptureRecord);
  const ids = (after: string | null): string[] => recent.after(after).map((r) => r.id);
  assert.deepEqual(ids('c'), ['d']);
  assert.deepEqual(ids('d'), []);
  assert.deepEqual(ids('a'), ['b', 'c', 'd'], 'gone from the window: all of it (the page skips what it has)');
  assert.deepEqual(ids(null), ['b', 'c', 'd']);
});

test('same-origin check: loopback Host of this port, and an Origin of its own if any', () => {
  const hosts = allowedHosts(7879);
  assert.equal(isSameOriginRequest({ host: '127.0.0.1:7879' }, hosts), true);
  assert.equal(isSameOriginRequest({ host: 'localhost:7879', origin: 'http://localhost:7879' }, hosts), true);
  assert.equal(isSameOriginRequest({ host: '127.0.0.1:7879', origin: 'http://evil.example' }, hosts), false);
  assert.equal(isSameOriginRequest({ host: '127.0.0.1:7879', origin: 'null' }, hosts), false);
  assert.equal(isSameOriginRequest({ host: '127.0.0.1:7879', origin: 'https://127.0.0.1:7879' }, hosts), false);
  assert.equal(isSameOriginRequest({ host: 'evil.example:7879' }, hosts), false);
  assert.equal(isSameOriginRequest({ host: '127.0.0.1:7878' }, hosts), false);
  assert.equal(isSameOriginRequest({}, hosts), false);
});
