import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { FRONTENGINE_RETRY_DELAYS_MS } from '../../src/config/defaults.js';
import type { TunnelAnswer, TunnelRequest } from '../../src/tunnel/client.js';
import { RetrySchedule, decideAttempt, type RetryStatus } from '../../src/tunnel/retry-schedule.js';
import { tempDir } from '../helpers/cli.js';
import { waitUntil } from '../helpers/event-stream.js';

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

test('RetrySchedule: a failed first attempt is journaled, survives a reopen, and runs with the attempt number on its capture record', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'state', 'relay-retries-x.jsonl');
  const records: CaptureRecord[] = [];
  const requests: TunnelRequest[] = [];
  const statuses: RetryStatus[] = [];
  const status = 500;
  // The handler plays the intake: builds a record, lets the tunnel annotate it.
  const handler = async (request: TunnelRequest): Promise<TunnelAnswer> => {
    requests.push(request);
    const given = answer(status);
    const record = { id: `r${requests.length}`, responseStatus: given.status } as CaptureRecord;
    request.annotate?.(record, given);
    records.push(record);
    return given;
  };
  const event = { seq: 7, method: 'POST', path: '/hooks?x=1', rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from([0xff, 0x00, 0x7b]), receivedAt: new Date(0).toISOString() };
  // Long waits: nothing runs before the reopen.
  const first = await RetrySchedule.open({ file, channel: 'x', handler, delaysMs: [60_000, 60_000], scale: 1, onStatus: (s) => statuses.push(s) });
  const attempt = first.firstAttempt(event);
  const record = { id: 'r0' } as CaptureRecord;
  attempt.annotate(record, answer(500));
  assert.equal(record.attempt, 1);
  assert.ok(record.nextAttemptAt !== undefined && Date.parse(record.nextAttemptAt) > Date.now() + 50_000);
  await attempt.settle(answer(500));
  assert.equal(first.has(7), true);
  await first.close();
  assert.match(await readFile(file, 'utf8'), /"seq":7,"attempts":1/);

  // Due now (as after a long stop): the reopened schedule runs it at once, same bytes, next attempt number.
  const journal = (await readFile(file, 'utf8')).replace(/"dueAt":\d+/, `"dueAt":${Date.now() - 1}`);
  await writeFile(file, journal);
  const second = await RetrySchedule.open({ file, channel: 'x', handler, delaysMs: [60_000, 60_000], scale: 0.0001, onStatus: (s) => statuses.push(s) });
  t.after(() => second.close());
  assert.equal(second.has(7), true);
  await waitUntil('attempt 2', () => requests.length === 1);
  assert.ok(requests[0]?.body.equals(event.body));
  assert.equal(requests[0]?.path, '/hooks?x=1');
  assert.deepEqual(requests[0]?.source, { kind: 'relay', channel: 'x', seq: 7 });
  await waitUntil('attempt 3, the last', () => statuses.some((s) => s.state === 'retry-failed'));
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
