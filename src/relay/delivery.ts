import { CLOSE_CODES, encodeEventsFrame, encodeMessage, type AckMessage, type RelayedEvent } from '../protocol/index.js';
import { waitForAnswer } from './answer-waiters.js';
import type { EventLog, StoredEvent } from './store.js';

/** Events sent to a listener and not yet acknowledged: enough to fill the pipe, small enough to bound memory. */
const WINDOW_EVENTS = 64;
const WINDOW_BYTES = 16 * 1024 * 1024;
/** Events going out together share one frame (one socket write) up to this size; a bigger event goes alone. */
const FRAME_TARGET_BYTES = 1024 * 1024;

/** The socket side of a subscription, as the delivery needs it. */
export interface ListenerLink {
  /** Text frames are JSON messages; binary ones are events frames. */
  send(frame: string | Buffer): void;
  close(code: number, reason: string): void;
}

/** What the listener's target answered for one event. */
export interface TargetAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

type Waiter = (answer: TargetAnswer | undefined) => void;

interface Subscription {
  link: ListenerLink;
  /** The last seq sent on this link. */
  sentSeq: number;
  /** Sent, not finally acknowledged: seq → body bytes. Acks may come out of order. */
  inFlight: Map<number, number>;
  inFlightBytes: number;
  reader: AsyncGenerator<StoredEvent> | undefined;
}

/**
 * One channel's delivery to its listener: streams the log after the listener's cursor,
 * keeps a bounded window in flight, moves the cursor on final acks, and hands the
 * target's answer to the sender waiting for that seq. One listener per channel: a new
 * subscription replaces the old one (the usual case is a restarted `listen` whose old
 * connection has not timed out yet).
 */
export class ChannelDelivery {
  private subscription: Subscription | undefined;
  private readonly waiters = new Map<number, Waiter>();
  private pumping = false;
  private pumpAgain = false;
  /** With a shared log: tells other instances this one holds the listener. */
  private unshare: (() => void) | undefined;

  constructor(readonly log: EventLog) {}

  get connected(): boolean {
    return this.subscription !== undefined;
  }

  /** Starts delivering after `after` (the listener's cursor, else the channel's). */
  attach(link: ListenerLink, after: number | undefined): number {
    this.subscription?.link.close(CLOSE_CODES.replaced, 'another listener subscribed to this channel');
    this.detach(this.subscription?.link);
    const start = Math.min(after ?? this.log.acked(), this.log.head());
    // A listener that already forwarded up to `after` has, for the channel, acknowledged it.
    if (after !== undefined && after > this.log.acked()) void this.log.ack(start);
    this.subscription = { link, sentSeq: start, inFlight: new Map(), inFlightBytes: 0, reader: undefined };
    // Next tick: the caller first tells the listener where delivery starts.
    queueMicrotask(() => void this.pump());
    this.unshare = this.log.shared?.listenerAttached({
      onAppend: () => void this.pump(),
      onReplaced: () => {
        this.subscription?.link.close(CLOSE_CODES.replaced, 'another listener subscribed to this channel');
        this.detach(this.subscription?.link);
      },
    });
    return start;
  }

  detach(link: ListenerLink | undefined): void {
    const subscription = this.subscription;
    if (!subscription || subscription.link !== link) return;
    this.subscription = undefined;
    this.unshare?.();
    this.unshare = undefined;
    void subscription.reader?.return(undefined);
    // Senders still waiting get 202: their events are stored and wait for the next listener.
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
    if (!this.subscription) return Promise.resolve(undefined);
    return waitForAnswer(this.waiters, seq, timeoutMs);
  }

  /** The listener's acks, as they came in one frame: the cursor moves and sending resumes once for all. */
  acknowledged(link: ListenerLink, acks: ReadonlyArray<Omit<AckMessage, 'v' | 'type'>>): void {
    const subscription = this.subscription;
    if (!subscription || subscription.link !== link) return;
    let cursorMoved = false;
    for (const ack of acks) cursorMoved = this.acknowledgeOne(subscription, ack) || cursorMoved;
    if (!cursorMoved) return;
    // The channel's cursor: everything below the oldest unacknowledged seq (Map keeps send order).
    const oldest = subscription.inFlight.keys().next();
    void this.log.ack(oldest.done ? subscription.sentSeq : oldest.value - 1);
    void this.pump();
  }

  /** Wakes the sender waiting for this seq; true when the ack was final (the window moved). */
  private acknowledgeOne(subscription: Subscription, ack: Omit<AckMessage, 'v' | 'type'>): boolean {
    if (ack.seq > subscription.sentSeq) return false;
    const wake = this.waiters.get(ack.seq);
    const answer = { status: ack.status, headers: ack.headers ?? [], body: ack.body ? Buffer.from(ack.body, 'base64') : Buffer.alloc(0) };
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
      if (batch.length > 0 && s && s === this.subscription) s.link.send(encodeEventsFrame(batch));
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
        batch.push(event);
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
