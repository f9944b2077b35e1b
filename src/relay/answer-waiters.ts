/**
 * Senders waiting for the app's answer to one stored event, by seq: the local delivery
 * and the cross-instance (Redis) path both park a sender here until the answer comes or
 * FrontEngine's budget runs out.
 */
export function waitForAnswer<A>(waiters: Map<number, (answer: A | undefined) => void>, seq: number, timeoutMs: number): Promise<A | undefined | 'timeout'> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      waiters.delete(seq);
      resolve('timeout');
    }, timeoutMs);
    waiters.set(seq, (answer) => {
      clearTimeout(timer);
      resolve(answer);
    });
  });
}
