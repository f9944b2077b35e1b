/**
 * The one poll loop of the tests, for conditions no event announces ("all n seen", "the
 * process group is gone", "Redis has no key left"): asks every 20 ms, bounded in time,
 * and says what it waited for. `find` may be async (a question to a server).
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
