import type { DeliveryCursor } from './cursor-file.js';

/**
 * Which seqs reached the app. With several deliveries in flight they finish out of
 * order; the cursor only moves over the unbroken prefix, and the finished seqs above it
 * are remembered here so a reconnect does not forward them again. The prefix is kept in
 * memory and saved by commit(), once per batch of acks rather than once per event.
 */
export class ForwardedTracker {
  /** Finished seqs above the prefix, with when the relay received each (see throughAt). */
  private readonly above = new Map<number, string | undefined>();
  private readonly delivering = new Set<number>();
  /** Every seq up to here reached the app (saved to the cursor by commit()). */
  private through: number | undefined;
  /**
   * When the relay received event #through, as it said: saved with the cursor so a relay
   * whose log has another event under that seq (a restored copy that took new events
   * since) is found out. Undefined when not known.
   */
  private throughAt: string | undefined;
  /**
   * Bumped by reset(): deliveries begun before it count seqs of another log, so their
   * finish is ignored and they are never acknowledged.
   */
  generation = 0;

  constructor(private readonly cursor: DeliveryCursor) {
    this.through = cursor.lastForwarded;
    this.throughAt = cursor.lastForwardedAt;
  }

  /** What the cursor says was last forwarded: the seq and when the relay received it. */
  get last(): { seq: number | undefined; at: string | undefined } {
    return { seq: this.through, at: this.throughAt };
  }

  /** Where delivery starts when this listener remembers nothing (the relay's cursor). */
  startAt(after: number): void {
    if (this.through === undefined) {
      this.through = after;
      this.throughAt = undefined;
    }
    this.advance();
    this.commit();
  }

  forwarded(seq: number): boolean {
    return (this.through !== undefined && seq <= this.through) || this.above.has(seq);
  }

  inProgress(seq: number): boolean {
    return this.delivering.has(seq);
  }

  begin(seq: number): void {
    this.delivering.add(seq);
  }

  /** The app answered `seq` (or the delivery was abandoned when `reached` is false). */
  finish(seq: number, reached: boolean, generation = this.generation, receivedAt?: string): void {
    if (generation !== this.generation) return;
    this.delivering.delete(seq);
    if (!reached) return;
    this.above.set(seq, receivedAt);
    this.advance();
  }

  /** The relay dropped these (retention): nothing to wait for. */
  skip(from: number, to: number): void {
    for (let seq = from; seq <= to && to - from < 1_000_000; seq++) this.above.set(seq, undefined);
    this.advance();
    this.commit();
  }

  /**
   * The relay's log is not the one the cursor counted in (another identity, or an older
   * copy whose head is below the cursor): start over after `after` in `log`, forgetting
   * what was forwarded, since those seqs now name other events.
   */
  reset(after: number, log: string | undefined): void {
    this.generation++;
    this.above.clear();
    this.delivering.clear();
    this.through = after;
    this.throughAt = undefined;
    this.cursor.reset(after, log, undefined);
  }

  /** Ties the saved cursor to the relay's log identity (learned on subscribing). */
  adopt(log: string): void {
    if (this.cursor.log === log) return;
    // The same history, now with its log named: what was begun stays begun.
    const begun = this.cursor.begun;
    this.cursor.reset(this.through ?? 0, log, this.throughAt);
    if (begun !== undefined) this.cursor.begin(begun);
  }

  /** Saves the prefix: called before the acks it covers are sent, and on close. */
  commit(): void {
    if (this.through !== undefined) this.cursor.save(this.through, this.throughAt);
  }

  private advance(): void {
    let through = this.through;
    if (through === undefined) return;
    let throughAt = this.throughAt;
    while (this.above.has(through + 1)) {
      throughAt = this.above.get(through + 1);
      this.above.delete(through + 1);
      through++;
    }
    if (this.above.size > 0) for (const seq of this.above.keys()) if (seq <= through) this.above.delete(seq);
    this.through = through;
    this.throughAt = throughAt;
  }
}
