import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { deliver, type DeliveryOutcome } from './deliver.js';
import { latencyPercentiles, type LatencyPercentiles } from './stats.js';

export interface LoadRequest {
  body: Buffer | string;
  headers: Record<string, string>;
}

export interface LoadOptions {
  url: URL;
  count: number;
  concurrency: number;
  /** Requests per second over all connections; unlimited when absent. */
  ratePerSec?: number;
  timeoutMs: number;
  /** A pool with `concurrency` connections to the URL's origin. */
  dispatcher: Dispatcher;
  /** The `index`th request: a fresh, signed event. Called just before it is sent. */
  makeRequest: (index: number) => LoadRequest;
  /** Stops starting new requests; those in flight finish (within timeoutMs). */
  signal?: AbortSignal;
  /** Told after each delivery. */
  onDelivery?: (index: number, outcome: DeliveryOutcome) => void;
}

export interface LoadSummary {
  sent: number;
  ok: number;
  failed: number;
  durationMs: number;
  rps: number;
  latencyMs: LatencyPercentiles;
  /** Deliveries that broke FrontEngine's 5 s rule (answered late or not at all in time). */
  over5s: number;
  /** Why the failed ones failed: an error kind or `HTTP <status>`, with counts. */
  failures: Record<string, number>;
}

function failureKey(outcome: DeliveryOutcome): string {
  return outcome.error?.kind ?? `HTTP ${outcome.status ?? '?'}`;
}

/**
 * Sends `count` requests with at most `concurrency` in flight (one per pooled
 * connection, so the server sees exactly that many connections), optionally paced to
 * `ratePerSec`. Each worker sends its next request the moment its last one is answered.
 */
export async function runLoad(options: LoadOptions): Promise<LoadSummary> {
  const latencies = new Float64Array(options.count);
  const failures: Record<string, number> = {};
  let next = 0;
  let sent = 0;
  let ok = 0;
  let over5s = 0;
  const intervalMs = options.ratePerSec ? 1000 / options.ratePerSec : 0;
  const started = performance.now();

  const worker = async (): Promise<void> => {
    while (next < options.count && !options.signal?.aborted) {
      const index = next++;
      if (intervalMs > 0) {
        // Request i is due at start + i/R: pacing by schedule, not by sleeping a fixed gap, keeps the rate exact.
        const waitMs = started + index * intervalMs - performance.now();
        if (waitMs > 1) await sleep(waitMs);
      }
      const request = options.makeRequest(index);
      const outcome = await deliver({
        url: options.url,
        body: request.body,
        headers: request.headers,
        timeoutMs: options.timeoutMs,
        // No per-request signal: an abort listener per request costs more than the request's
        // own bookkeeping, and the workers check the signal between requests anyway.
        dispatcher: options.dispatcher,
      });
      latencies[sent++] = outcome.latencyMs;
      if (outcome.ok) ok++;
      else {
        const key = failureKey(outcome);
        failures[key] = (failures[key] ?? 0) + 1;
      }
      if (outcome.latencyMs >= FRONTENGINE_TIMEOUT_MS) over5s++;
      options.onDelivery?.(index, outcome);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, options.count));
  await Promise.all(Array.from({ length: workers }, worker));
  const durationMs = performance.now() - started;
  return {
    sent,
    ok,
    failed: sent - ok,
    durationMs: Math.round(durationMs),
    rps: durationMs > 0 ? Math.round((sent / durationMs) * 1000 * 10) / 10 : 0,
    latencyMs: latencyPercentiles(latencies.subarray(0, sent)),
    over5s,
    failures,
  };
}
