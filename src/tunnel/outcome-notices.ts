import { OUTCOMES_PER_FRAME, encodeMessage, readNotices, sameNotice, type NotedOutcome, type OutcomeNotice } from '../protocol/index.js';
import { debugSkipped } from '../util/debug.js';

/** The link to a relay that keeps outcomes (it said `outcomes: true` when subscribing). */
export type OutcomeSend = (frame: string) => unknown;

/** What the tunnel does with the outcome notices of its retry schedule (see protocol/outcomes.ts). */
export interface OutcomeLink {
  /** A subscription began: `send` when the relay keeps outcomes, undefined when it does not (an older relay). */
  attach(send: OutcomeSend | undefined): void;
  /** The link closed: notices wait for the next subscription. */
  detach(): void;
  /** The relay stored these. */
  noted(outcomes: readonly NotedOutcome[]): void;
}

/**
 * The notices the relay has not confirmed yet, latest per seq: each goes out at once when
 * a relay that keeps them is connected, and all of them again on every subscription until
 * the relay says it stored them. Confirmed final ones are handed to `onConfirmed` (the
 * retry journal then forgets them).
 */
export class OutcomeNotices implements OutcomeLink {
  private readonly unconfirmed = new Map<number, OutcomeNotice>();
  private send: OutcomeSend | undefined;

  constructor(private readonly onConfirmed: (notice: OutcomeNotice) => void = () => undefined) {}

  /** How many wait for the relay's confirmation. */
  get size(): number {
    return this.unconfirmed.size;
  }

  note(notice: OutcomeNotice): void {
    // Checked as the relay will check it (a damaged journal line must not get the link closed).
    const problem = readNotices([notice]);
    if (typeof problem === 'string') return debugSkipped(`an outcome notice for #${notice.seq} the relay would refuse`, problem);
    this.unconfirmed.set(notice.seq, notice);
    this.send?.(encodeMessage({ type: 'outcomes', outcomes: [notice] }));
  }

  attach(send: OutcomeSend | undefined): void {
    this.send = send;
    if (!send) return;
    const all = [...this.unconfirmed.values()];
    for (let i = 0; i < all.length; i += OUTCOMES_PER_FRAME) {
      send(encodeMessage({ type: 'outcomes', outcomes: all.slice(i, i + OUTCOMES_PER_FRAME) }));
    }
  }

  detach(): void {
    this.send = undefined;
  }

  noted(outcomes: readonly NotedOutcome[]): void {
    for (const one of outcomes) {
      const notice = this.unconfirmed.get(one.seq);
      // A newer notice for the seq went out after this one: it still waits for its own confirmation.
      if (!notice || !sameNotice(notice, one)) continue;
      this.unconfirmed.delete(one.seq);
      if (notice.state !== 'retrying') this.onConfirmed(notice);
    }
  }
}
