import type { TestContext } from 'node:test';
/**
 * The one poll loop of the tests, for conditions no event announces ("all n seen", "the
 * process group is gone", "Redis has no key left"): asks every 20 ms, bounded in time,
 * and says what it waited for. `find` may be async (a question to a server). Its twin for
 * tests on mocked timers is waitUntilOnMockedTimers, below.
 */
export async function waitFor<T>(what: string, find: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** waitFor for a condition. */
export async function waitUntil(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  await waitFor(what, async () => ((await done()) ? true : undefined), timeoutMs);
}

/**
 * One turn of the event loop, through setImmediate (which mock.timers leaves alone unless
 * asked): the promise jobs queued now and any real I/O that completed get to run.
 */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * waitUntil for a test on mocked timers, whose setTimeout never fires by itself: asks once
 * per turn of the event loop, bounded in real time (performance.now, which the mock keeps).
 */
export async function waitUntilOnMockedTimers(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const started = performance.now();
  while (!done()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await nextTurn();
  }
}

/**
 * Mocked setTimeout and performance.now moving together (code that measures deadlines with
 * performance.now): `advance(ms)` moves both; `armed` counts the setTimeout calls.
 */
export function mockMonotonicClock(t: TestContext, startMs = 1_000) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let nowMs = startMs;
  t.mock.method(performance, 'now', () => nowMs);
  const armed = t.mock.method(globalThis, 'setTimeout');
  const advance = (ms: number): void => {
    nowMs += ms;
    t.mock.timers.tick(ms);
  };
  return { advance, armed };
}
