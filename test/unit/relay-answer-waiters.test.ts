import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitForAnswer } from '../../src/relay/answer-waiters.js';

test('answer waiters: answers resolve, late ones time out on one shared timer, none is left armed', async () => {
  const waiters = new Map<number, (answer: string | undefined) => void>();
  const timersBefore = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const slow = waitForAnswer(waiters, 1, 40);
  const answered = waitForAnswer(waiters, 2, 1_000);
  const quick = waitForAnswer(waiters, 3, 10);
  waiters.get(2)?.('ok');
  waiters.delete(2);
  assert.equal(await answered, 'ok');
  assert.equal(await quick, 'timeout');
  assert.equal(await slow, 'timeout');
  assert.equal(waiters.size, 0);
  const gone = waitForAnswer(waiters, 4, 60_000);
  waiters.get(4)?.(undefined);
  assert.equal(await gone, undefined);
  // Nobody waits any more: no timer keeps the process (the relay) alive.
  assert.equal(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, timersBefore);
});
