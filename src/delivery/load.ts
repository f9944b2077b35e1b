import { performance } from 'node:perf_hooks';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import type { DeliveryError, DeliveryOutcome } from './deliver.js';
import { classifyDeliveryError } from './failure.js';
import type { ExchangeHandler } from './http1/connection.js';
import type { Http1Pool } from './http1/pool.js';
import type { Http1Request } from './http1/request-writer.js';
import { latencyPercentiles, type LatencyPercentiles } from './stats.js';

/** The body's exact bytes (a string is sent as UTF-8) and its headers, an object or a flat `[name, value, …]` list. */
export type LoadRequest = Http1Request;

export interface LoadOptions {
  url: URL;
  count: number;
  concurrency: number;
  /** Requests per second over all connections; unlimited when absent. */
  ratePerSec?: number;
  timeoutMs: number;
  /**
   * `concurrency` (or more) keep-alive connections to `url` (createHttp1Pool: load mode's
   * own HTTP/1.1 client, not undici); runLoad enforces `timeoutMs` itself, connecting included.
   */
  pool: Http1Pool;
  /** The `index`th request: a fresh, signed event. Called just before it is sent. */
  makeRequest: (index: number) => LoadRequest;
  /** Stops the run at once: nothing new starts, and requests in flight are abandoned (counted as `interrupted`). */
  signal?: AbortSignal;
  /** Told after each delivery (the outcome object is only built when this is given). */
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
  /** Why the failed ones failed, by cause (an error kind, a system error code, or `HTTP <status>`), with counts. */
  failures: Record<string, number>;
  /** One message per cause of `failures` (the first one seen), in words a user acts on. */
  failureReasons: Record<string, string>;
}

/** The name a failure is counted under: its kind, an unclassified error's code, or the status it got. */
function failureCause(error: DeliveryError | undefined, status: number | undefined): string {
  if (error === undefined) return `HTTP ${status ?? '?'}`;
  return error.kind === 'other' && error.code !== undefined ? error.code : error.kind;
}

/** The deadline check runs this often (at most), so a timeout is reported at most this late. */
const TIMEOUT_SWEEP_MAX_MS = 100;
/** …and at least 20 times per timeout, so a short --timeout is still honoured closely. */
const TIMEOUT_SWEEPS_PER_TIMEOUT = 20;

class DeliveryTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`timed out after ${timeoutMs} ms`);
  }
}

class DeliveryInterrupted extends Error {
  constructor() {
    super('stopped before the answer came');
  }
}

/** One request in flight: the pool's callbacks, with no promise, no stream and no per-request timer. */
class Exchange implements ExchangeHandler {
  status: number | undefined;
  settled = false;

  constructor(
    private readonly run: LoadRun,
    readonly slot: number,
    readonly index: number,
    readonly startedAt: number,
  ) {}

  onResponse(status: number): void {
    this.status = status;
    this.run.settle(this, undefined);
  }

  onFailure(error: Error): void {
    this.run.settle(this, error);
  }

  timeOut(): void {
    this.abandon(new DeliveryTimeout(this.run.timeoutMs));
  }

  interrupt(): void {
    this.abandon(new DeliveryInterrupted());
  }

  private abandon(error: Error): void {
    // The socket is dropped (the slot's next request opens a fresh one); nothing more is heard from it.
    this.run.options.pool.cancel(this.slot);
    this.run.settle(this, error);
  }
}

/**
 * `concurrency` slots; each sends its next request from the callback that ends its last
 * one (no await in between), so a connection carries its next request at once.
 */
class LoadRun {
  readonly timeoutMs: number;
  private readonly latencies: Float64Array;
  private readonly failures: Record<string, number> = {};
  private readonly failureReasons: Record<string, string> = {};
  private readonly inFlight: Array<Exchange | undefined>;
  private readonly intervalMs: number;
  private readonly started = performance.now();
  private readonly sweep: NodeJS.Timeout;
  /** Slots waiting for their turn under --rate: ended at once when the run is stopped. */
  private readonly paced = new Map<number, NodeJS.Timeout>();
  private next = 0;
  private sent = 0;
  private ok = 0;
  private over5s = 0;
  private activeSlots: number;
  private dispatching = false;

  constructor(
    readonly options: LoadOptions,
    private readonly resolve: (summary: LoadSummary) => void,
  ) {
    this.timeoutMs = options.timeoutMs;
    this.latencies = new Float64Array(options.count);
    this.intervalMs = options.ratePerSec ? 1000 / options.ratePerSec : 0;
    this.activeSlots = Math.max(1, Math.min(options.concurrency, options.count));
    this.inFlight = new Array<Exchange | undefined>(this.activeSlots).fill(undefined);
    // One timer for every deadline: a setTimeout per request costs more than the request's bookkeeping.
    const sweepMs = Math.max(1, Math.min(TIMEOUT_SWEEP_MAX_MS, options.timeoutMs / TIMEOUT_SWEEPS_PER_TIMEOUT));
    this.sweep = setInterval(() => this.expire(), sweepMs);
    // Stopping means now: a request in flight to an endpoint that hangs is not waited for.
    options.signal?.addEventListener('abort', () => this.stop(), { once: true });
  }

  start(): void {
    for (let slot = 0; slot < this.activeSlots; slot++) this.startNext(slot);
  }

  private startNext(slot: number): void {
    if (this.next >= this.options.count || this.options.signal?.aborted) {
      this.endSlot();
      return;
    }
    const index = this.next++;
    if (this.intervalMs > 0) {
      // Request i is due at start + i/R: pacing by schedule, not by sleeping a fixed gap, keeps the rate exact.
      const waitMs = this.started + index * this.intervalMs - performance.now();
      if (waitMs > 1) {
        const timer = setTimeout(() => {
          this.paced.delete(slot);
          this.send(slot, index);
        }, waitMs);
        this.paced.set(slot, timer);
        return;
      }
    }
    this.send(slot, index);
  }

  private send(slot: number, index: number): void {
    const { pool, makeRequest } = this.options;
    const exchange = new Exchange(this, slot, index, performance.now());
    this.inFlight[slot] = exchange;
    this.dispatching = true;
    try {
      pool.send(slot, makeRequest(index), exchange);
    } catch (error) {
      this.settle(exchange, error as Error);
    } finally {
      this.dispatching = false;
    }
  }

  settle(exchange: Exchange, error: Error | undefined): void {
    if (exchange.settled) return;
    exchange.settled = true;
    const latencyMs = performance.now() - exchange.startedAt;
    this.inFlight[exchange.slot] = undefined;
    this.latencies[this.sent++] = latencyMs;
    const ok = error === undefined && exchange.status !== undefined && exchange.status >= 200 && exchange.status < 300;
    let deliveryError: DeliveryError | undefined;
    if (ok) this.ok++;
    else {
      if (error instanceof DeliveryTimeout) deliveryError = { kind: 'timeout', message: error.message };
      else if (error instanceof DeliveryInterrupted) deliveryError = { kind: 'interrupted', message: error.message };
      else if (error !== undefined) deliveryError = classifyDeliveryError(error, this.options.url);
      const cause = failureCause(deliveryError, exchange.status);
      this.failures[cause] = (this.failures[cause] ?? 0) + 1;
      this.failureReasons[cause] ??= deliveryError?.message ?? `answered ${exchange.status ?? 'nothing'}`;
    }
    if (latencyMs >= FRONTENGINE_TIMEOUT_MS) this.over5s++;
    if (this.options.onDelivery) {
      const outcome: DeliveryOutcome = { ok, latencyMs };
      if (exchange.status !== undefined) outcome.status = exchange.status;
      if (deliveryError) outcome.error = deliveryError;
      this.options.onDelivery(exchange.index, outcome);
    }
    // A dispatch that fails synchronously (a closed pool) would otherwise recurse once per remaining request.
    if (this.dispatching) setImmediate(() => this.startNext(exchange.slot));
    else this.startNext(exchange.slot);
  }

  private stop(): void {
    for (const [slot, timer] of this.paced) {
      clearTimeout(timer);
      this.paced.delete(slot);
      this.endSlot();
    }
    for (const exchange of this.inFlight) exchange?.interrupt();
  }

  private expire(): void {
    const now = performance.now();
    for (const exchange of this.inFlight) {
      if (exchange && now - exchange.startedAt >= this.timeoutMs) exchange.timeOut();
    }
  }

  private endSlot(): void {
    if (--this.activeSlots > 0) return;
    clearInterval(this.sweep);
    const durationMs = performance.now() - this.started;
    const { sent, ok } = this;
    this.resolve({
      sent,
      ok,
      failed: sent - ok,
      durationMs: Math.round(durationMs),
      rps: durationMs > 0 ? Math.round((sent / durationMs) * 1000 * 10) / 10 : 0,
      latencyMs: latencyPercentiles(this.latencies.subarray(0, sent)),
      over5s: this.over5s,
      failures: this.failures,
      failureReasons: this.failureReasons,
    });
  }
}

/**
 * Sends `count` requests with at most `concurrency` in flight (one per pooled
 * connection, so the server sees exactly that many connections), optionally paced to
 * `ratePerSec`. Each slot sends its next request the moment its last one is answered.
 */
export function runLoad(options: LoadOptions): Promise<LoadSummary> {
  return new Promise((resolve) => new LoadRun(options, resolve).start());
}
