import type { DeliveryCursor } from './cursor-file.js';

/**
 * Which seqs reached the app. With several deliveries in flight they finish out of
 * order; the cursor only moves over the unbroken prefix, and the finished seqs above it
 * are remembered here so a reconnect does not forward them again. The prefix is kept in
 * memory and saved by commit(), once per batch of acks rather than once per event.
 */
export class ForwardedTracker {
  private readonly above = new Set<number>();
  private readonly delivering = new Set<number>();
  /** Every seq up to here reached the app (saved to the cursor by commit()). */
  private through: number | undefined;
  /**
   * Bumped by reset(): deliveries begun before it count seqs of another log, so their
   * finish is ignored and they are never acknowledged.
   */
  generation = 0;

  constructor(private readonly cursor: DeliveryCursor) {
    this.through = cursor.lastForwarded;
  }

  /** Where delivery starts when this listener remembers nothing (the relay's cursor). */
  startAt(after: number): void {
    if (this.through === undefined) this.through = after;
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
  finish(seq: number, reached: boolean, generation = this.generation): void {
    if (generation !== this.generation) return;
    this.delivering.delete(seq);
    if (!reached) return;
    this.above.add(seq);
    this.advance();
  }

  /** The relay dropped these (retention): nothing to wait for. */
  skip(from: number, to: number): void {
    for (let seq = from; seq <= to && to - from < 1_000_000; seq++) this.above.add(seq);
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
    this.cursor.reset(after, log);
  }

  /** Ties the saved cursor to the relay's log identity (learned on subscribing). */
  adopt(log: string): void {
    if (this.cursor.log === log) return;
    this.cursor.reset(this.through ?? 0, log);
  }

  /** Saves the prefix: called before the acks it covers are sent, and on close. */
  commit(): void {
    if (this.through !== undefined) this.cursor.save(this.through);
  }

  private advance(): void {
    let through = this.through;
    if (through === undefined) return;
    while (this.above.delete(through + 1)) through++;
    if (this.above.size > 0) for (const seq of this.above) if (seq <= through) this.above.delete(seq);
    this.through = through;
  }
}
