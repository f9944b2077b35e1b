import { CLOSE_CODES, encodeEventsFrame, encodeMessage, type ReceivedAck, type RelayedEvent } from '../protocol/index.js';
import { waitForAnswer } from './answer-waiters.js';
import type { EventLog, Newcomer, StoredEvent, TargetAnswer } from './store.js';
import { skipped } from '../util/debug.js';

/** Events sent to a listener and not yet acknowledged: enough to fill the pipe, small enough to bound memory. */
const WINDOW_EVENTS = 64;
const WINDOW_BYTES = 16 * 1024 * 1024;
/** Events going out together share one frame (one socket write) up to this size; a bigger event goes alone. */
const FRAME_TARGET_BYTES = 1024 * 1024;
/**
 * A replaced listener may finish the events it is forwarding for this long (the app's 5 s
 * budget and then some) before the newer one gets them, marked as possible redeliveries.
 */
export const TAKEOVER_DRAIN_MS = 10_000;

/** The socket side of a subscription, as the delivery needs it. */
export interface ListenerLink {
  /** Text frames are JSON messages; binary ones are events frames. */
  send(frame: string | Buffer): void;
  close(code: number, reason: string): void;
}

/** What a subscribing listener asks for: its cursor and the log that cursor counts in. */
export interface SubscribeWish {
  after?: number;
  log?: string;
  /** When the relay received event #after, as the listener was told. */
  at?: string;
}

/**
 * An ack for an event the listener forwarded on an earlier connection carries no answer:
 * a sender still waiting for it gets this, never a 2xx nobody's app gave.
 */
const ANSWER_UNKNOWN: TargetAnswer = {
  status: 502,
  headers: [['content-type', 'application/json']],
  body: Buffer.from('{"error":"the listener had forwarded this event on an earlier connection; the app\'s answer is not known"}\n'),
};

const EMPTY = Buffer.alloc(0);

type Waiter = (answer: TargetAnswer | undefined) => void;

/** What a replaced listener is told: when, and from where, the newer one subscribed. */
function replacedMessage(newcomer: Newcomer): string {
  return encodeMessage({ type: 'replaced', at: newcomer.at.toISOString(), ...(newcomer.by ? { by: newcomer.by } : {}) });
}

interface Subscription {
  link: ListenerLink;
  /** The last seq sent on this link. */
  sentSeq: number;
  /** Sent, not finally acknowledged: seq → body bytes. Acks may come out of order. */
  inFlight: Map<number, number>;
  inFlightBytes: number;
  reader: AsyncGenerator<StoredEvent> | undefined;
  /** The log's pushed mark when this subscription started: what others were sent. */
  pushedBefore: number;
  /** Said by the listener once replaced: it handed nothing above this to its app. */
  released?: number;
}

/** A replaced subscription finishing what it is forwarding; ended once (acked, closed or timed out). */
interface Draining {
  subscription: Subscription;
  end: () => void;
}

/**
 * One channel's delivery to its listener: streams the log after the listener's cursor,
 * keeps a bounded window in flight, moves the cursor on final acks, and hands the
 * target's answer to the sender waiting for that seq. One listener per channel: the
 * newest subscription wins (the usual case is a restarted `listen` whose old connection
 * has not timed out yet). The replaced listener is told so and may finish the events it
 * is forwarding; only then, or after TAKEOVER_DRAIN_MS, does the newer one start, so an
 * event reaches both apps only when the old one never answered it in time, and then it
 * goes out marked as a possible redelivery.
 */
export class ChannelDelivery {
  private subscription: Subscription | undefined;
  /** A newer listener waiting for the replaced one to finish. */
  private pending: ListenerLink | undefined;
  /** A listener whose starting point is being looked up in the log. */
  private starting: ListenerLink | undefined;
  private draining: Draining | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private pumping = false;
  private pumpAgain = false;
  /** With a shared log: tells other instances this one holds the listener. */
  private unshare: (() => void) | undefined;

  constructor(readonly log: EventLog) {}

  get connected(): boolean {
    return this.subscription !== undefined || this.pending !== undefined || this.starting !== undefined;
  }

  /**
   * Subscribes a listener: the one before it (here, or on another instance sharing the
   * log) is replaced. Once the old one finished, `started` gets where delivery starts
   * (the caller tells the listener) and events begin to flow. False when this link was
   * itself replaced or closed meanwhile.
   */
  async attach(
    link: ListenerLink,
    wish: SubscribeWish,
    newcomer: Newcomer,
    started: (after: number, head: number) => void,
  ): Promise<boolean> {
    // One still waiting to start is replaced at once: it has nothing in flight.
    const waiting = this.pending ?? this.starting;
    if (waiting) {
      waiting.send(replacedMessage(newcomer));
      waiting.close(CLOSE_CODES.replaced, 'another listener subscribed to this channel');
    }
    this.pending = link;
    const old = this.subscription;
    if (old) {
      this.subscription = undefined;
      this.unshare?.();
      this.unshare = undefined;
      await this.drain(old, newcomer);
    } else if (this.log.shared) {
      await this.log.shared.takeOver(newcomer, TAKEOVER_DRAIN_MS + 1_000);
      // What the replaced listener acknowledged meanwhile, on its instance.
      await this.log.refresh?.().catch(skipped('refreshing the log after a takeover'));
    }
    // A newer listener came while this one waited, or this one went away.
    if (this.pending !== link) return false;
    this.pending = undefined;
    // Still counted as connected while the start is looked up: senders wait for its answer.
    this.starting = link;
    const start = await this.startFor(wish);
    if (this.starting !== link || this.pending !== undefined) {
      // Closed, or another listener subscribed while the log was read (it wins).
      link.close(CLOSE_CODES.replaced, 'another listener subscribed to this channel');
      return false;
    }
    this.starting = undefined;
    this.subscription = { link, sentSeq: start, inFlight: new Map(), inFlightBytes: 0, reader: undefined, pushedBefore: this.log.pushed() };
    this.unshare = this.log.shared?.listenerAttached({
      onAppend: () => void this.pump(),
      onReplaced: (by) => {
        const replaced = this.subscription;
        if (!replaced) return;
        this.subscription = undefined;
        const unshare = this.unshare;
        this.unshare = undefined;
        // Detaching says so to the newer listener's instance, which waits for it. Senders
        // still waiting here get 202: the other instance's listener delivers their events.
        void this.drain(replaced, by)
          .then(() => this.log.refresh?.())
          .catch(skipped('draining the replaced listener'))
          .then(() => {
            unshare?.();
            if (!this.connected) this.wakeAll();
          });
      },
    }, newcomer);
    // The listener learns where delivery starts before the first event.
    started(start, this.log.head());
    void this.pump();
    return true;
  }

  /**
   * Where a subscription starts. The listener's cursor counts seqs in one log: it is
   * trusted only in that log (the same identity, or none said) and only up to the head.
   * A cursor past the head means this log is an older copy of the one the listener read
   * (a restored data folder): whatever comes after the head now is new to it. Another
   * event under the cursor's seq means the same, found later (the copy took new events):
   * delivery starts again from the relay's own cursor.
   */
  private async startFor(wish: SubscribeWish): Promise<number> {
    const head = this.log.head();
    const acked = Math.min(this.log.acked(), head);
    if (wish.after === undefined) return acked;
    if (wish.log !== undefined && wish.log !== this.log.id) return acked;
    if (wish.at !== undefined && wish.after <= head && wish.after >= this.log.first()) {
      const reader = this.log.read(wish.after - 1);
      const found = await reader.next();
      await reader.return(undefined);
      if (!found.done && found.value.seq === wish.after && found.value.receivedAt !== wish.at) return Math.min(acked, wish.after - 1);
    }
    return this.trustedStart(wish.after, head);
  }

  private trustedStart(after: number, head: number): number {
    const start = Math.min(after, head);
    // A listener that already forwarded up to `start` has, for the channel, acknowledged it.
    if (start > this.log.acked()) void this.log.ack(start);
    return start;
  }

  /**
   * Tells a replaced listener so; it sends no more events, takes its acks until it has
   * none outstanding, closes it or runs out of time, then closes it.
   */
  private drain(old: Subscription, newcomer: Newcomer): Promise<void> {
    void old.reader?.return(undefined);
    old.reader = undefined;
    old.link.send(replacedMessage(newcomer));
    this.draining?.end();
    return new Promise((resolve) => {
      const timer = setTimeout(() => end(), TAKEOVER_DRAIN_MS);
      const end = (): void => {
        if (this.draining?.subscription !== old) return;
        this.draining = undefined;
        clearTimeout(timer);
        // What only this listener was sent and it never handed to its app is no redelivery.
        if (old.released !== undefined) this.log.unpush(Math.max(old.pushedBefore, old.released));
        old.link.close(CLOSE_CODES.replaced, 'another listener subscribed to this channel');
        resolve();
      };
      this.draining = { subscription: old, end };
      if (old.inFlight.size === 0) end();
    });
  }

  detach(link: ListenerLink | undefined): void {
    const draining = this.draining;
    if (draining && draining.subscription.link === link) {
      draining.end();
      return;
    }
    if (this.pending === link || this.starting === link) {
      if (this.pending === link) this.pending = undefined;
      else this.starting = undefined;
      if (!this.subscription && !this.pending && !this.starting) this.wakeAll();
      return;
    }
    const subscription = this.subscription;
    if (!subscription || subscription.link !== link) return;
    this.subscription = undefined;
    this.unshare?.();
    this.unshare = undefined;
    void subscription.reader?.return(undefined);
    if (!this.pending) this.wakeAll();
  }

  /** Senders still waiting get 202: their events are stored and wait for the next listener. */
  private wakeAll(): void {
    for (const wake of this.waiters.values()) wake(undefined);
    this.waiters.clear();
  }

  /** Ends the listener's subscription for good: its token was revoked, or the channel deleted. */
  revoke(code: number, reason: string): void {
    const link = this.subscription?.link;
    link?.close(code, reason);
    this.detach(link);
  }

  /** A new event was stored. */
  appended(): void {
    void this.pump();
  }

  /**
   * Waits for the target's answer to `seq`: undefined when no listener is connected
   * (or it went away), 'timeout' when none came within `timeoutMs`.
   */
  waitForAnswer(seq: number, timeoutMs: number): Promise<TargetAnswer | undefined | 'timeout'> {
    if (!this.connected) return Promise.resolve(undefined);
    return waitForAnswer(this.waiters, seq, timeoutMs);
  }

  /** A replaced listener's last word: it handed nothing above `begun` to its app. */
  released(link: ListenerLink, begun: number): void {
    const draining = this.draining;
    if (draining && draining.subscription.link === link) draining.subscription.released = begun;
  }

  /** The listener's acks, as they came in one frame: the cursor moves and sending resumes once for all. */
  acknowledged(link: ListenerLink, acks: ReadonlyArray<ReceivedAck>): void {
    const draining = this.draining;
    const subscription =
      this.subscription?.link === link ? this.subscription : draining?.subscription.link === link ? draining.subscription : undefined;
    if (!subscription) return;
    let cursorMoved = false;
    for (const ack of acks) cursorMoved = this.acknowledgeOne(subscription, ack) || cursorMoved;
    if (!cursorMoved) return;
    // The channel's cursor: everything below the oldest unacknowledged seq (Map keeps send order).
    const oldest = subscription.inFlight.keys().next();
    void this.log.ack(oldest.done ? subscription.sentSeq : oldest.value - 1);
    // A replaced listener with nothing left outstanding: the newer one may start.
    if (draining && subscription === draining.subscription && subscription.inFlight.size === 0) draining.end();
    void this.pump();
  }

  /** Wakes the sender waiting for this seq; true when the ack was final (the window moved). */
  private acknowledgeOne(subscription: Subscription, ack: ReceivedAck): boolean {
    if (ack.seq > subscription.sentSeq) return false;
    const wake = this.waiters.get(ack.seq);
    const body = ack.body === undefined ? EMPTY : typeof ack.body === 'string' ? Buffer.from(ack.body, 'base64') : ack.body;
    const answer = ack.repeat ? ANSWER_UNKNOWN : { status: ack.status, headers: ack.headers ?? [], body };
    if (wake) {
      this.waiters.delete(ack.seq);
      wake(answer);
    } else if (subscription.inFlight.has(ack.seq)) {
      // The sender may be waiting on another instance (first answer only: it is in flight until final).
      this.log.shared?.publishAnswer(ack.seq, answer);
    }
    if (!ack.final) return false;
    const bytes = subscription.inFlight.get(ack.seq);
    if (bytes === undefined) return false;
    subscription.inFlight.delete(ack.seq);
    subscription.inFlightBytes -= bytes;
    return true;
  }

  private windowOpen(s: Subscription): boolean {
    return s.inFlight.size === 0 || (s.inFlight.size < WINDOW_EVENTS && s.inFlightBytes < WINDOW_BYTES);
  }

  /** Runs one sender loop at a time; a call while it runs makes it go round once more. */
  private async pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        await this.sendWhatFits();
      } while (this.pumpAgain);
    } finally {
      this.pumping = false;
    }
  }

  /** Sends what the window allows, as few frames as possible: everything ready goes out together. */
  private async sendWhatFits(): Promise<void> {
    const s = this.subscription;
    let batch: RelayedEvent[] = [];
    let batchBytes = 0;
    const sendBatch = (): void => {
      if (batch.length > 0 && s && s === this.subscription) {
        s.link.send(encodeEventsFrame(batch));
        this.log.notePushed((batch.at(-1) as RelayedEvent).seq);
      }
      batch = [];
      batchBytes = 0;
    };
    try {
      while (s && s === this.subscription && this.windowOpen(s) && s.sentSeq < this.log.head()) {
        if (s.sentSeq + 1 < this.log.first()) {
          const to = this.log.first() - 1;
          sendBatch();
          s.link.send(encodeMessage({ type: 'gap', from: s.sentSeq + 1, to, reason: 'dropped by the relay\'s retention' }));
          s.sentSeq = to;
          void s.reader?.return(undefined);
          s.reader = undefined;
          continue;
        }
        s.reader ??= this.log.read(s.sentSeq);
        const next = await s.reader.next();
        if (s !== this.subscription) break;
        if (next.done) {
          s.reader = undefined;
          // The log had nothing more to give although head moved on: wait for the next append.
          if (s.sentSeq >= this.log.head() || !(await this.hasEventAfter(s))) break;
          continue;
        }
        const event = next.value;
        if (event.seq <= s.sentSeq) continue;
        if (batchBytes + event.body.length > FRAME_TARGET_BYTES) sendBatch();
        // Sent on an earlier connection (to this listener or another): the app may have it.
        batch.push(event.seq <= this.log.pushed() ? { ...event, redelivery: true } : event);
        batchBytes += event.body.length;
        s.sentSeq = event.seq;
        s.inFlight.set(event.seq, event.body.length);
        s.inFlightBytes += event.body.length;
      }
    } finally {
      sendBatch();
    }
  }

  /** A fresh read after `sentSeq` finds something (guards against spinning on a hole in the log). */
  private async hasEventAfter(s: Subscription): Promise<boolean> {
    const probe = this.log.read(s.sentSeq);
    const first = await probe.next();
    await probe.return(undefined);
    return !first.done;
  }
}
