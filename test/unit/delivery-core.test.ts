import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DeliveryOutcome } from '../../src/delivery/deliver.js';
import { createHttp1Pool } from '../../src/delivery/http1/pool.js';
import { forgedRequests, tamper } from '../../src/delivery/forgery.js';
import { runLoad } from '../../src/delivery/load.js';
import { parseHeaderLine, signedHeaders } from '../../src/delivery/request.js';
import { deliverWithRetry } from '../../src/delivery/retry.js';
import { uniqueBodies } from '../../src/delivery/unique-bodies.js';
import { latencyPercentiles } from '../../src/delivery/stats.js';
import { UserError } from '../../src/errors.js';
import { composeBody } from '../../src/events/compose.js';
import { validateEvent } from '../../src/events/validate.js';
import { sign, verify } from '../../src/signing/index.js';
import { nextTurn } from '../helpers/poll.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'whsec_unit_test_secret';

test('signedHeaders signs the exact bytes; user headers replace defaults case-insensitively', () => {
  const body = Buffer.from('{"event":"MessageSent"}\n');
  const headers = signedHeaders(body, { userAgent: 'fe-webhooks/9.9.9', secret: SECRET, extraHeaders: [['content-type', 'text/plain'], ['X-Extra', 'a']] });
  assert.deepEqual(headers, {
    'User-Agent': 'fe-webhooks/9.9.9',
    'X-Webhook-Signature': sign(body, SECRET),
    'content-type': 'text/plain',
    'X-Extra': 'a',
  });
  assert.equal(signedHeaders(body, { userAgent: 'x' })['X-Webhook-Signature'], undefined);
});

test('parseHeaderLine accepts "Name: value" and rejects the rest with a UserError', () => {
  assert.deepEqual(parseHeaderLine('X-Tenant:  acme corp '), ['X-Tenant', 'acme corp']);
  assert.deepEqual(parseHeaderLine('Authorization: Bearer a:b'), ['Authorization', 'Bearer a:b']);
  for (const bad of ['NoColon', ': value', 'Bad Name: x', 'X-A: one\r\nX-B: two']) {
    assert.throws(() => parseHeaderLine(bad), UserError, bad);
  }
});

test('forgeries: none verifies with the real secret, the tampered body is still JSON of the same event', () => {
  const body = Buffer.from(composeBody('MessageBounced', { compact: true }).body);
  const [wrong, tampered, missing] = forgedRequests(body, { userAgent: 'x', secret: SECRET });
  assert.ok(wrong && tampered && missing);
  assert.deepEqual(wrong.body, body);
  assert.equal(verify(wrong.body, wrong.headers['X-Webhook-Signature'], SECRET), false);
  assert.notDeepEqual(tampered.body, body);
  assert.equal(tampered.headers['X-Webhook-Signature'], sign(body, SECRET), 'the genuine signature, over other bytes');
  assert.equal(verify(tampered.body, tampered.headers['X-Webhook-Signature'], SECRET), false);
  assert.equal(JSON.parse(tampered.body.toString()).event, 'MessageBounced');
  assert.equal(missing.headers['X-Webhook-Signature'], undefined);
  assert.deepEqual(tamper(Buffer.from('{}')), Buffer.from('{} '));
});

test('deliverWithRetry waits the schedule (scaled), stops on success, and gives up after the last retry', { timeout: 10_000 }, async (t) => {
  // Mocked timers: FrontEngine's real waits (1 min, 5 min) pass in no time, and an attempt
  // made before its wait is over would show.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const outcome = (ok: boolean): DeliveryOutcome => ({ ok, status: ok ? 200 : 503, latencyMs: 1 });
  const waits: number[] = [];
  let calls = 0;
  const succeeding = deliverWithRetry(async () => outcome(++calls === 3), {
    delaysMs: [60_000, 300_000, 1_800_000],
    timeScale: 1,
    onWait: (_next, waitMs) => waits.push(waitMs),
  });
  await nextTurn();
  assert.deepEqual([calls, waits], [1, [60_000]]);
  t.mock.timers.tick(59_999);
  await nextTurn();
  assert.equal(calls, 1, 'not before the minute is over');
  t.mock.timers.tick(1);
  await nextTurn();
  assert.deepEqual([calls, waits], [2, [60_000, 300_000]]);
  t.mock.timers.tick(299_999);
  await nextTurn();
  assert.equal(calls, 2, 'not before the five minutes are over');
  t.mock.timers.tick(1);
  const succeeded = await succeeding;
  assert.equal(succeeded.ok, true);
  assert.equal(succeeded.attempts.length, 3, 'no attempt after the 2xx');

  const scaledWaits: number[] = [];
  let scaledCalls = 0;
  const scaled = deliverWithRetry(async () => outcome(++scaledCalls === 2), {
    delaysMs: [60_000],
    timeScale: 0.001,
    onWait: (_next, waitMs) => scaledWaits.push(waitMs),
  });
  await nextTurn();
  t.mock.timers.tick(59);
  await nextTurn();
  assert.equal(scaledCalls, 1, '--time-scale 0.001 makes 1 min 60 ms, not less');
  t.mock.timers.tick(1);
  assert.equal((await scaled).ok, true);
  assert.deepEqual(scaledWaits, [60]);

  const attempts: number[] = [];
  const failing = deliverWithRetry(async () => outcome(false), { delaysMs: [1_000, 1_000], timeScale: 1, onAttempt: (n) => attempts.push(n) });
  for (let i = 0; i < 2; i++) {
    await nextTurn();
    t.mock.timers.tick(1_000);
  }
  const failed = await failing;
  assert.equal(failed.ok, false);
  assert.deepEqual(attempts, [1, 2, 3]);
});

test('latencyPercentiles uses nearest rank', () => {
  const samples = Float64Array.from({ length: 100 }, (_, i) => 100 - i);
  assert.deepEqual(latencyPercentiles(samples), { p50: 50, p95: 95, p99: 99, max: 100 });
  assert.deepEqual(latencyPercentiles(new Float64Array(0)), { p50: 0, p95: 0, p99: 0, max: 0 });
});

test('runLoad sends count requests with at most `concurrency` in flight, paced by the rate', async (t) => {
  let inFlight = 0;
  let maxInFlight = 0;
  const receiver = await startReceiver(t, {
    respond: async (_request, index) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight--;
      return index % 10 === 9 ? 500 : 200;
    },
  });
  const url = new URL(`${receiver.url}/load`);
  const pool = createHttp1Pool(url, 3, { insecure: false });
  t.after(() => pool.close());
  const summary = await runLoad({
    url,
    count: 40,
    concurrency: 3,
    ratePerSec: 200,
    timeoutMs: 2_000,
    pool,
    makeRequest: (index) => ({ body: `{"n":${index}}`, headers: {} }),
  });
  assert.equal(summary.sent, 40);
  assert.equal(summary.ok, 36);
  assert.equal(summary.failed, 4);
  assert.deepEqual(summary.failures, { 'HTTP 500': 4 });
  assert.ok(maxInFlight <= 3, `max in flight ${maxInFlight}`);
  // 40 requests at 200/s: the last is due 195 ms after the first.
  assert.ok(summary.durationMs >= 190, `duration ${summary.durationMs}`);
  assert.ok(summary.latencyMs.p50 <= summary.latencyMs.p99 && summary.latencyMs.p99 <= summary.latencyMs.max);
  assert.equal(summary.over5s, 0);
  assert.deepEqual(new Set(receiver.requests.map((r) => r.body.toString())).size, 40);
});

test('uniqueBodies: fresh ids and tokens per serial, valid events, user-set fields kept', () => {
  const overrides = [{ path: ['payload', 'message', 'subject'], value: 'Pinned' }];
  const next = uniqueBodies('MessageLinkClicked', { overrides, partial: { payload: { message: { id: 42 } } } });
  const bodies = Array.from({ length: 50 }, (_, serial) => next(serial));
  assert.equal(new Set(bodies).size, 50);
  const tokens = new Set<string>();
  for (const body of bodies) {
    const document = JSON.parse(body);
    assert.deepEqual(validateEvent(document).violations, []);
    assert.equal(document.payload.message.subject, 'Pinned');
    assert.equal(document.payload.message.id, 42, 'a value from --data is the user\'s');
    assert.equal(document.payload.token, document.payload.message.token, 'a click carries its message\'s token');
    assert.match(document.payload.token, /^[a-z0-9]{12}$/);
    tokens.add(document.payload.token);
    assert.equal(body, JSON.stringify(document), 'compact, as composeBody prints it');
  }
  assert.equal(tokens.size, 50);
  const sent = uniqueBodies('MessageBounced');
  const ids = Array.from({ length: 40 }, (_, serial) => JSON.parse(sent(serial)).payload).flatMap((p) => [p.original_message.id, p.bounce.id]);
  assert.equal(new Set(ids).size, 80, 'numeric ids never collide, within a body or across templates');
  const server = uniqueBodies('SendLimitApproaching');
  assert.deepEqual(validateEvent(JSON.parse(server(0))).violations, []);
});

test('tampering keeps every body valid JSON, whatever its first digit', () => {
  for (const digit of '0123456789') {
    const body = Buffer.from(`{"event":"MessageBounced","payload":{"original_message":{"id":${digit === '0' ? '0' : `${digit}2341703`}}}}`);
    assert.doesNotThrow(() => JSON.parse(tamper(body).toString()), digit);
    assert.notDeepEqual(tamper(body), body);
  }
});

test('uniqueBodies: timestamps follow the clock (a soak test stays fresh), keeping their distances; a pinned or seeded clock stays', (t) => {
  const start = Date.UTC(2026, 5, 1, 12, 0, 0);
  t.mock.timers.enable({ apis: ['Date'], now: start });
  const next = uniqueBodies('MessageSent');
  const first = JSON.parse(next(0)).payload;
  assert.equal(first.timestamp, start / 1000);
  const gap = first.timestamp - first.message.timestamp;
  assert.ok(gap >= 2 && gap <= 30, `the message went out before it was reported sent (${gap} s)`);
  t.mock.timers.tick(3_600_000 + 400);
  for (const serial of [1, 8, 9]) {
    const later = JSON.parse(next(serial));
    assert.equal(later.payload.timestamp, start / 1000 + 3600, 'an hour later, dated an hour later');
    assert.ok(later.payload.timestamp - later.payload.message.timestamp >= 2);
    assert.deepEqual(validateEvent(later).violations, []);
  }
  const pinned = uniqueBodies('MessageSent', { overrides: [{ path: ['payload', 'timestamp'], value: 7 }] });
  t.mock.timers.tick(5_000);
  assert.equal(JSON.parse(pinned(3)).payload.timestamp, 7, 'a timestamp the user set is theirs');
  const seeded = uniqueBodies('MessageSent', { seed: 1 });
  t.mock.timers.tick(5_000);
  assert.equal(JSON.parse(seeded(2)).payload.timestamp, Date.parse('2026-03-30T14:00:00Z') / 1000, 'a seeded run keeps its fixed clock');
});
