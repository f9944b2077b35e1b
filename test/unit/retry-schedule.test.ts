import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { FRONTENGINE_RETRY_DELAYS_MS } from '../../src/config/defaults.js';
import type { TunnelAnswer, TunnelRequest } from '../../src/tunnel/client.js';
import { RetrySchedule, decideAttempt, type RetryStatus } from '../../src/tunnel/retry-schedule.js';
import { tempDir } from '../helpers/cli.js';
import { nextTurn, waitUntilOnMockedTimers } from '../helpers/poll.js';

const answer = (status: number, extra: Partial<TunnelAnswer> = {}): TunnelAnswer => ({ status, headers: [], body: Buffer.alloc(0), ...extra });

test('decideAttempt: FrontEngine\'s rule, one attempt at a time', () => {
  const delays = FRONTENGINE_RETRY_DELAYS_MS;
  assert.deepEqual(decideAttempt(1, answer(204), delays, 1, 0), { kind: 'ok' });
  assert.deepEqual(decideAttempt(1, answer(500), delays, 1, 1_000), { kind: 'retry', dueAt: 61_000 });
  assert.deepEqual(decideAttempt(5, answer(504), delays, 0.001, 0), { kind: 'retry', dueAt: 43_200 });
  assert.deepEqual(decideAttempt(6, answer(500), delays, 1, 0), { kind: 'failed' });
  // A 3xx is not a success (FrontEngine wants a 2xx), and an unreachable app is no attempt at all.
  assert.equal(decideAttempt(1, answer(302), delays, 1, 0).kind, 'retry');
  assert.deepEqual(decideAttempt(6, answer(502, { forwardFailed: true }), delays, 1, 0), { kind: 'not-counted' });
  assert.deepEqual(decideAttempt(6, answer(503, { held: true }), delays, 1, 0), { kind: 'not-counted' });
});

test('RetrySchedule: a failed first attempt is journaled, survives a reopen, and runs with the attempt number on its capture record', { timeout: 20_000 }, async (t) => {
  // Mocked timers and clock: the schedule's real minute passes in no time, and the clock
  // each attempt ran at shows whether it kept the schedule. setImmediate is not mocked, so
  // the journal's file I/O runs for real in between.
  t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.UTC(2026, 11, 7, 1, 0, 0) });
  // Watches the (mocked) setTimeout, so the clock is moved exactly to when the schedule's timer is due.
  const armed = t.mock.method(globalThis, 'setTimeout');
  const dir = await tempDir(t);
  const file = path.join(dir, 'state', 'relay-retries-x.jsonl');
  const records: CaptureRecord[] = [];
  const requests: TunnelRequest[] = [];
  const ranAt: number[] = [];
  const statuses: RetryStatus[] = [];
  const status = 500;
  // The handler plays the intake: builds a record, lets the tunnel annotate it.
  const handler = async (request: TunnelRequest): Promise<TunnelAnswer> => {
    requests.push(request);
    ranAt.push(Date.now());
    const given = answer(status);
    const record = { id: `r${requests.length}`, responseStatus: given.status } as CaptureRecord;
    request.annotate?.(record, given);
    records.push(record);
    return given;
  };
  const event = { seq: 7, method: 'POST', path: '/hooks?x=1', rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from([0xff, 0x00, 0x7b]), receivedAt: new Date(0).toISOString() };
  const delaysMs = [60_000, 60_000];
  const first = await RetrySchedule.open({ file, channel: 'x', handler, delaysMs, scale: 1, onStatus: (s) => statuses.push(s) });
  const attempt = first.firstAttempt(event);
  const record = { id: 'r0' } as CaptureRecord;
  attempt.annotate(record, answer(500));
  assert.equal(record.attempt, 1);
  assert.equal(record.nextAttemptAt, new Date(Date.now() + 60_000).toISOString(), 'the next attempt a minute later');
  await attempt.settle(answer(500));
  assert.equal(first.has(7), true);
  await first.close();
  assert.match(await readFile(file, 'utf8'), /"seq":7,"attempts":1/);
  assert.equal(requests.length, 0, 'closed before it was due: nothing ran');

  // Due now (as after a long stop): the reopened schedule runs it at once, same bytes, next attempt number.
  const journal = (await readFile(file, 'utf8')).replace(/"dueAt":\d+/, `"dueAt":${Date.now() - 1}`);
  await writeFile(file, journal);
  const timersBefore = armed.mock.callCount();
  const second = await RetrySchedule.open({ file, channel: 'x', handler, delaysMs, scale: 1, onStatus: (s) => statuses.push(s) });
  t.after(() => second.close());
  assert.equal(second.has(7), true);
  await waitUntilOnMockedTimers('attempt 2', () => requests.length === 1);
  assert.ok(requests[0]?.body.equals(event.body));
  assert.equal(requests[0]?.path, '/hooks?x=1');
  assert.deepEqual(requests[0]?.source, { kind: 'relay', channel: 'x', seq: 7 });
  const dueAt = Date.parse(records[0]?.nextAttemptAt ?? '');
  assert.equal(dueAt, (ranAt[0] as number) + 60_000, 'attempt 3 is due a minute after attempt 2 failed');
  // Attempt 2 journaled, the schedule sets its timer for attempt 3.
  await waitUntilOnMockedTimers('the timer for attempt 3', () => armed.mock.callCount() > timersBefore);
  const waitMs = armed.mock.calls.at(-1)?.arguments[1] as number;
  t.mock.timers.tick(waitMs - 1);
  for (let i = 0; i < 20; i++) await nextTurn();
  assert.equal(requests.length, 1, 'not before it is due');
  t.mock.timers.tick(1);
  await waitUntilOnMockedTimers('attempt 3, the last', () => statuses.some((s) => s.state === 'retry-failed'));
  assert.equal(ranAt[1], dueAt, 'attempt 3 ran when it was due');
  assert.deepEqual(records.map((r) => [r.attempt, r.failed ?? false]), [[2, false], [3, true]]);
  assert.equal(second.has(7), false);
  await second.close();
  // Finished: a third open finds nothing to run.
  const third = await RetrySchedule.open({ file, channel: 'x', handler, delaysMs: [1, 1], scale: 1 });
  assert.equal(third.size, 0);
  await third.close();
  // Only how it ended stays, until a relay confirms it stored that (test/unit/retry-outcomes.test.ts).
  assert.equal((await readFile(file, 'utf8')).trim(), '{"seq":7,"done":"failed","status":500,"attempts":3}');
});
