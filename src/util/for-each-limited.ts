/**
 * Runs `work` on every item with at most `limit` running at once: a list of 10,000
 * channels neither takes 10,000 descriptors nor queues 10,000 operations in one tick
 * (which stalls the event loop), and each item's wait overlaps with the others'.
 * Rejects with the first failure (items already started still finish on their own).
 */
export async function forEachLimited<T>(items: Iterable<T>, limit: number, work: (item: T) => Promise<void>): Promise<void> {
  const list = [...items];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < list.length) await work(list[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, list.length)) }, worker));
}
