import type { DeliveryCursor } from './cursor-file.js';

/**
 * Which seqs reached the app. With several deliveries in flight they finish out of
 * order; the cursor only moves over the unbroken prefix, and the finished seqs above it
 * are remembered here so a reconnect does not forward them again.
 */
export class ForwardedTracker {
  private readonly above = new Set<number>();
  private readonly delivering = new Set<number>();

  constructor(private readonly cursor: DeliveryCursor) {}

  /** Where delivery starts when this listener remembers nothing (the relay's cursor). */
  startAt(after: number): void {
    if (this.cursor.lastForwarded === undefined) this.cursor.save(after);
    this.advance();
  }

  forwarded(seq: number): boolean {
    const through = this.cursor.lastForwarded;
    return (through !== undefined && seq <= through) || this.above.has(seq);
  }

  inProgress(seq: number): boolean {
    return this.delivering.has(seq);
  }

  begin(seq: number): void {
    this.delivering.add(seq);
  }

  /** The app answered `seq` (or the delivery was abandoned when `reached` is false). */
  finish(seq: number, reached: boolean): void {
    this.delivering.delete(seq);
    if (!reached) return;
    this.above.add(seq);
    this.advance();
  }

  /** The relay dropped these (retention): nothing to wait for. */
  skip(from: number, to: number): void {
    for (let seq = from; seq <= to && to - from < 1_000_000; seq++) this.above.add(seq);
    this.advance();
  }

  private advance(): void {
    let through = this.cursor.lastForwarded;
    if (through === undefined) return;
    while (this.above.delete(through + 1)) through++;
    for (const seq of this.above) if (seq <= through) this.above.delete(seq);
    this.cursor.save(through);
  }
}
