/**
 * The one poll loop of the tests, for conditions no event announces ("all n seen", "the
 * process group is gone"): asks every 20 ms, bounded in time, and says what it waited for.
 */
export async function waitFor<T>(what: string, find: () => T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** waitFor for a condition. */
export async function waitUntil(what: string, done: () => boolean, timeoutMs = 20_000): Promise<void> {
  await waitFor(what, () => (done() ? true : undefined), timeoutMs);
}
