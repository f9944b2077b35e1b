import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForAnswer } from '../../src/relay/answer-waiters.js';
import { mockMonotonicClock, nextTurn } from '../helpers/poll.js';

test('answer waiters: answers resolve, late ones time out at their deadline (not before) on one shared timer', async (t) => {
  // Mocked timers and clock (the waiters measure time with performance.now): deadlines are
  // checked to the millisecond, with no waiting and whatever the machine's load.
  // Watches the (mocked) setTimeout: how many timers were armed.
  const { advance, armed } = mockMonotonicClock(t);
  const waiters = new Map<number, (answer: string | undefined) => void>();
  const settled: Array<[number, string | undefined]> = [];
  for (const [seq, timeoutMs] of [[1, 40], [2, 1_000], [3, 10]] as const) {
    void waitForAnswer(waiters, seq, timeoutMs).then((answer) => settled.push([seq, answer]));
  }
  waiters.get(2)?.('ok');
  waiters.delete(2);
  await nextTurn();
  assert.deepEqual(settled, [[2, 'ok']]);
  advance(9);
  await nextTurn();
  assert.deepEqual(settled, [[2, 'ok']], '#3 not before its 10 ms');
  advance(1);
  await nextTurn();
  assert.deepEqual(settled, [[2, 'ok'], [3, 'timeout']]);
  advance(29);
  await nextTurn();
  assert.equal(settled.length, 2, '#1 not before its 40 ms');
  advance(1);
  await nextTurn();
  assert.deepEqual(settled, [[2, 'ok'], [3, 'timeout'], [1, 'timeout']]);
  assert.equal(waiters.size, 0);
  // Armed for #1, re-armed earlier for #3, then for #1 again once #3 expired: nothing after.
  assert.deepEqual(armed.mock.calls.map((call) => call.arguments[1]), [40, 10, 30]);
});

test('answer waiters: a waiter answered or gone leaves no timer keeping the process (the relay) alive', async () => {
  const waiters = new Map<number, (answer: string | undefined) => void>();
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const answered = waitForAnswer(waiters, 1, 60_000);
  const gone = waitForAnswer(waiters, 2, 60_000);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore + 1, 'one timer for both');
  waiters.get(1)?.('ok');
  waiters.get(2)?.(undefined);
  assert.equal(await answered, 'ok');
  assert.equal(await gone, undefined);
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore);
});
