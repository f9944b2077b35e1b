import type { Receiver } from './receiver.js';
import { post } from './relay.js';

/**
 * Numbered events for loss/duplicate drills: event n is `{"event":"MessageSent","n":n}`,
 * so the app's log says exactly which arrived, how often and in what order.
 */

/** Posts events n = from..to, `concurrency` at a time, until `stopWhen()` or `timeoutMs`; returns the n answered 2xx/202. */
export async function postStream(url: string, from: number, to: number, concurrency: number, stopWhen?: () => boolean, timeoutMs = 20_000): Promise<Set<number>> {
  const acknowledged = new Set<number>();
  let next = from;
  const deadline = Date.now() + timeoutMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next <= to && Date.now() < deadline && !stopWhen?.()) {
        const n = next++;
        const answer = await post(url, JSON.stringify({ event: 'MessageSent', n })).catch(() => undefined);
        if (answer && answer.status >= 200 && answer.status < 300) acknowledged.add(n);
      }
    }),
  );
  return acknowledged;
}

/** The n of every event the app received, in arrival order. */
export function numbersAt(app: Receiver): number[] {
  return app.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n);
}

export { waitUntil } from './poll.js';
