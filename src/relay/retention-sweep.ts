import { forEachLimited } from '../util/for-each-limited.js';
import { skipped } from '../util/debug.js';
import type { ChannelStore, EventLog } from './store.js';

/**
 * Logs swept at once. Starting every log's sweep in one tick took the event loop for
 * about a hundred milliseconds with 10,000 channels (each start is a stat and a few
 * promises); a few at a time keep every post answered within milliseconds meanwhile.
 */
const SWEEP_CONCURRENCY = 8;

export interface RetentionSweep {
  /** One pass over every open log (the timer's pass, run now: for tests and the bench). */
  runNow(): Promise<void>;
  stop(): void;
}

/**
 * The relay's one periodic timer for its channels: applies the age limit (and lets idle
 * logs drop their caches) on every open log, a few at a time. A pass still running when
 * the next is due is not doubled.
 */
export function startRetentionSweep(store: ChannelStore, everyMs: number): RetentionSweep {
  let running: Promise<void> | undefined;
  const runNow = (): Promise<void> => {
    const sweepOne = (log: EventLog): Promise<void> =>
      log.applyRetention(new Date()).then(() => undefined, skipped('a retention sweep (the next one tries again)'));
    running ??= forEachLimited(store.openLogs(), SWEEP_CONCURRENCY, sweepOne).finally(() => {
      running = undefined;
    });
    return running;
  };
  const timer = setInterval(() => void runNow(), everyMs);
  timer.unref();
  return { runNow, stop: () => clearInterval(timer) };
}
