// The module, not a named import: its setTimeout is looked up at each wait, which lets
// node:test's mock.timers run the real schedule (minutes, hours) in no time in tests.
import timers from 'node:timers/promises';
import type { DeliveryOutcome } from './deliver.js';

export interface RetryOptions {
  /** Waits before each retry; FrontEngine's are FRONTENGINE_RETRY_DELAYS_MS. */
  delaysMs: readonly number[];
  /** Multiplies every wait: 0.001 turns 1 min into 60 ms. */
  timeScale: number;
  signal?: AbortSignal;
  /** Told before each wait, so the CLI can say "retry 2 in 5 min". */
  onWait?: (nextAttempt: number, waitMs: number) => void;
  /** Told after each attempt, in order. */
  onAttempt?: (attempt: number, outcome: DeliveryOutcome) => void;
}

export interface RetryResult {
  attempts: DeliveryOutcome[];
  /** The last attempt got a 2xx in time. */
  ok: boolean;
}

/**
 * Sends, and after a failed attempt (non-2xx or no answer in time) waits and sends again
 * on the schedule, as FrontEngine does: at most 1 + delaysMs.length attempts, then "failed".
 * `send` must re-send the same bytes each time (a retry is the same delivery).
 */
export async function deliverWithRetry(send: () => Promise<DeliveryOutcome>, options: RetryOptions): Promise<RetryResult> {
  const attempts: DeliveryOutcome[] = [];
  for (let attempt = 1; ; attempt++) {
    const outcome = await send();
    attempts.push(outcome);
    options.onAttempt?.(attempt, outcome);
    const delay = options.delaysMs[attempt - 1];
    if (outcome.ok || delay === undefined || options.signal?.aborted) return { attempts, ok: outcome.ok };
    const waitMs = delay * options.timeScale;
    options.onWait?.(attempt + 1, waitMs);
    try {
      await timers.setTimeout(waitMs, undefined, { signal: options.signal });
    } catch {
      return { attempts, ok: false };
    }
  }
}
