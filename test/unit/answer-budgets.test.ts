import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AnswerBudgets } from '../../src/tunnel/answer-budgets.js';
import { mockMonotonicClock } from '../helpers/poll.js';

test('answer budgets: each live delivery is released at its own deadline (not before), settled ones never, on one timer', (t) => {
  // Mocked timers and clock: deadlines to the millisecond, whatever the machine's load.
  // Watches the (mocked) setTimeout: how many timers were armed.
  const { advance, armed } = mockMonotonicClock(t);
  const budgets = new AnswerBudgets(100);
  const expired: string[] = [];
  const release = (name: string) => (): void => void expired.push(name);
  const a = budgets.start(release('a'));
  advance(30);
  const b = budgets.start(release('b'));
  advance(30);
  budgets.start(release('c'));
  // b answered in time: it is never released as late, even behind a slow a.
  budgets.settle(b);
  advance(39);
  assert.deepEqual(expired, [], 'a not before its 100 ms');
  advance(1);
  assert.deepEqual(expired, ['a']);
  assert.equal(a.settled, true);
  advance(59);
  assert.deepEqual(expired, ['a'], 'c not before its 100 ms');
  advance(1);
  assert.deepEqual(expired, ['a', 'c']);
  // One timer for three deliveries: armed at the first start, re-armed for c, none after.
  assert.equal(armed.mock.callCount(), 2);
  advance(1_000);
  assert.deepEqual(expired, ['a', 'c']);
  // Settled in order, as deliveries mostly finish: nothing waits for a timer.
  const d = budgets.start(release('d'));
  budgets.settle(d);
  advance(200);
  assert.deepEqual(expired, ['a', 'c']);
});
