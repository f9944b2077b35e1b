import { errorMessage } from '../errors.js';
import type { RelayedEvent } from '../protocol/index.js';
import type { AckSender } from './ack-sender.js';
import { AnswerBudgets } from './answer-budgets.js';
import { APP_RETRY_INITIAL_MS, APP_RETRY_MAX_MS, backoffDelayMs, pause, type BackoffPolicy } from './backoff.js';
import type { ForwardedTracker } from './forwarded.js';
import type { TunnelAnswer, TunnelOptions, TunnelRequest, TunnelStatus } from './types.js';

/** How long the listener waits for the app's answer to a live event (its sender has had 504 long before). */
const LIVE_ANSWER_MS = 60_000;
const ANSWER_BUDGET_MS = 5_000;
const HELD_RETRY_MAX_MS = 2_000;
const NO_CONTENT: TunnelAnswer = { status: 200, headers: [], body: Buffer.alloc(0) };

/**
 * The events the relay sent, on their way to the app: queued in seq order, handed to the
 * handler up to `concurrency` at once, retried while the app is down, and acknowledged
 * (through the AckSender) once answered. Outlives the connections: a delivery begun on one
 * link is acknowledged on the next.
 */
export class Deliveries {
  private readonly queue: RelayedEvent[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  /** Deliveries holding a slot (at most `concurrency`)... */
  private active = 0;
  /** ...and all deliveries not finished, including live ones past the budget, which gave their slot up. */
  private running = 0;
  /** Seqs above this arrived while subscribed: their sender waits at the relay (the relay's head when this link subscribed). */
  private liveAfter = Number.POSITIVE_INFINITY;
  /** The cursor knew a begun mark when the link subscribed (see asSeenByThisApp). */
  private begunKnown = false;
  private dispatchScheduled = false;
  /** Made once: process.nextTick is handed the same function every time. */
  private readonly dispatchScheduledNow = (): void => {
    this.dispatchScheduled = false;
    this.dispatch();
  };
  private readonly concurrency: number;
  private readonly budgetMs: number;
  private readonly budgets: AnswerBudgets;
  private readonly appRetry: BackoffPolicy;
  private readonly heldRetry: BackoffPolicy;

  constructor(
    private readonly options: TunnelOptions,
    private readonly tracker: ForwardedTracker,
    private readonly acks: AckSender,
    /** Aborted when the tunnel stops or a newer listener took the channel over: retries stop, nothing new starts. */
    private readonly stopping: AbortSignal,
    private readonly emit: (status: TunnelStatus) => void,
  ) {
    this.concurrency = options.concurrency ?? 1;
    this.budgetMs = options.answerBudgetMs ?? ANSWER_BUDGET_MS;
    this.budgets = new AnswerBudgets(this.budgetMs);
    this.appRetry = options.appRetry ?? { initialMs: APP_RETRY_INITIAL_MS, maxMs: APP_RETRY_MAX_MS };
    // Asking a listener that cannot take events (captures unwritable) costs nothing: look
    // again every 2 s at most, so events flow soon after there is room.
    this.heldRetry = { initialMs: this.appRetry.initialMs, maxMs: Math.min(this.appRetry.maxMs, HELD_RETRY_MAX_MS) };
  }

  /** A link subscribed: events above `head` are live (their sender waits at the relay). */
  subscribed(head: number): void {
    this.liveAfter = head;
    this.begunKnown = this.options.cursor.begun !== undefined;
  }

  /** Events from a frame, in seq order. */
  receive(events: readonly RelayedEvent[]): void {
    for (const event of events) this.queue.push(event);
    this.dispatch();
  }

  receiveOne(event: RelayedEvent): void {
    this.queue.push(event);
    this.dispatch();
  }

  /** Forgets the events not yet started: the relay sends them again after the resume cursor. */
  dropQueued(): void {
    this.queue.length = 0;
  }

  /** Resolves once no delivery is running (at once when none is). */
  whenIdle(): Promise<void> {
    return this.running === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private isAppDown(answer: TunnelAnswer): boolean {
    return answer.forwardFailed === true || this.options.isAppDown?.(answer.status) === true;
  }

  private async callHandler(request: TunnelRequest): Promise<TunnelAnswer> {
    try {
      return await this.options.handler(request);
    } catch (error) {
      return { status: 502, headers: [['content-type', 'text/plain']], body: Buffer.from(errorMessage(error)), forwardFailed: true };
    }
  }

  /**
   * The relay marks every event it sent on an earlier connection (to any listener). This
   * listener's cursor knows, across restarts, the highest seq it ever handed to its app:
   * an event above it cannot be a repeat for this app (the mark is dropped), one at or
   * below it that was not acknowledged may be (marked even if the relay lost track). A
   * listener that knew nothing when it subscribed (a new cursor, maybe taking over from
   * another, or a log that changed) takes the relay's word.
   */
  private asSeenByThisApp(event: RelayedEvent): RelayedEvent {
    const begun = this.options.cursor.begun;
    if (!this.begunKnown || begun === undefined) return event;
    const mayHaveIt = event.seq <= begun;
    if (mayHaveIt === (event.redelivery === true)) return event;
    if (mayHaveIt) return { ...event, redelivery: true };
    const { redelivery: _dropped, ...fresh } = event;
    return fresh;
  }

  /**
   * Delivers one event: once, as FrontEngine would, except that an app that could not be
   * reached (or a listener that cannot take it now) is tried again with backoff, those
   * tries not being answers. Undefined when the tunnel was closed meanwhile.
   */
  private async deliver(event: RelayedEvent, live: boolean, onReturn: () => void): Promise<TunnelAnswer | undefined> {
    const { options, stopping } = this;
    // Stored events (sender answered 202) that fail are retried on the schedule; live ones by their sender.
    const first = live ? undefined : options.retries?.firstAttempt(event);
    const request: TunnelRequest = {
      method: event.method,
      path: event.path,
      rawHeaders: event.rawHeaders,
      body: event.body,
      receivedAt: new Date(event.receivedAt),
      source: { kind: 'relay', channel: options.channel, seq: event.seq },
      ...(event.redelivery ? { redelivery: true } : {}),
      ...(live ? { forwardTimeoutMs: options.liveAnswerMs ?? LIVE_ANSWER_MS } : {}),
      ...(first ? { annotate: first.annotate } : {}),
    };
    for (let attempt = 0; ; attempt++) {
      const answer = await this.callHandler(request);
      onReturn();
      if (answer.held === true) {
        // Not taken (captures cannot be written): not acknowledged, so it waits at the relay.
        await pause(backoffDelayMs(attempt, this.heldRetry), stopping);
        if (stopping.aborted) return undefined;
        continue;
      }
      if (!this.isAppDown(answer)) {
        await first?.settle(answer);
        return answer;
      }
      this.acks.ack(event.seq, answer, false);
      const retryInMs = backoffDelayMs(attempt, this.appRetry);
      this.emit({ state: 'app-down', seq: event.seq, status: answer.status, retryInMs });
      await pause(retryInMs, stopping);
      if (stopping.aborted) return undefined;
    }
  }

  /** `event` as this app sees it (asSeenByThisApp), its begun mark already saved (see dispatch). */
  private async deliverAndAck(event: RelayedEvent): Promise<void> {
    const tracker = this.tracker;
    const generation = tracker.generation;
    tracker.begin(event.seq);
    this.active++;
    this.running++;
    const live = event.seq > this.liveAfter;
    const startedMs = performance.now();
    const budgetMs = this.budgetMs;
    // A slow answer to a live event: its sender has 504 by now; the next event need not wait for it.
    let holdsSlot = true;
    const releaseSlot = (): void => {
      if (!holdsSlot) return;
      holdsSlot = false;
      this.active--;
      this.dispatchSoon();
    };
    const slow = live ? this.budgets.start(releaseSlot) : undefined;
    // Only an answer from the first call can be "late": after a try that found the app
    // down, the waiting sender was already told that (502).
    let calls = 0;
    let firstCallMs = 0;
    const returned = (): void => {
      if (++calls === 1) firstCallMs = performance.now() - startedMs;
      if (slow) this.budgets.settle(slow);
    };
    let answer: TunnelAnswer | undefined;
    try {
      answer = await this.deliver(event, live, returned);
    } finally {
      if (slow) this.budgets.settle(slow);
      tracker.finish(event.seq, answer !== undefined, generation, event.receivedAt);
      this.running--;
    }
    if (answer && live && calls === 1 && firstCallMs > budgetMs) {
      this.emit({ state: 'late', seq: event.seq, status: answer.status, ms: firstCallMs });
    }
    // On whichever link is current: after a reconnect the relay has sent this seq again.
    // Not when the relay's log changed meanwhile: this seq now names another event.
    if (answer && generation === tracker.generation) this.acks.ack(event.seq, answer, true);
    if (holdsSlot) releaseSlot();
    else this.dispatchSoon();
  }

  // Deliveries finish in bunches (one capture fsync answers many): the slots they free are
  // filled together once the promise jobs running now are done, so the events started
  // share one begun write (see dispatch) instead of one each.
  private dispatchSoon(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    process.nextTick(this.dispatchScheduledNow);
  }

  /** Starts deliveries in seq order, up to `concurrency` at once. */
  private dispatch(): void {
    const { queue, tracker } = this;
    const starting: RelayedEvent[] = [];
    while (queue.length > 0 && this.active + starting.length < this.concurrency && !this.stopping.aborted) {
      const event = queue.shift() as RelayedEvent;
      // Already reached the app on an earlier connection, or its retries are scheduled:
      // acknowledged, not repeated, and marked so the relay never passes this empty
      // answer to a sender as the app's.
      if (tracker.forwarded(event.seq) || this.options.retries?.has(event.seq) === true) this.acks.ack(event.seq, NO_CONTENT, true, true);
      // Being delivered since before a reconnect: its ack will follow on the new link.
      else if (!tracker.inProgress(event.seq)) starting.push(this.asSeenByThisApp(event));
    }
    // The begun mark of all the events starting now, in one write (not one per event),
    // after their redelivery marks were decided and before the first reaches the app.
    const last = starting.at(-1);
    if (last) this.options.cursor.begin(last.seq);
    for (const event of starting) void this.deliverAndAck(event);
    if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
}
