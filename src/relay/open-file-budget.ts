/**
 * A bound on the files the relay's channel logs hold open at once, whatever the number of
 * channels: a relay with 10,000 channels must run under the common 1,024 open-files
 * limit. Each open file takes a slot. A log keeps its segment file open between appends
 * (parked, least recently used first) so a busy channel does not reopen it per event;
 * when every slot is taken, the least recently used parked file is closed and its log
 * reopens it on its next append. Short uses (scanning a log when it is first opened,
 * writing a cursor file) take a slot for their duration.
 */

/** A log holding an open file it can close when the budget needs the slot back. */
export interface ParkedFileHolder {
  /** Closes the parked file; the holder reopens it on its next use. */
  closeParkedFile(): Promise<void>;
}

/** The default bound: room under 1,024 for listener and sender sockets too (see README, descriptor budget). */
export const DEFAULT_MAX_OPEN_LOG_FILES = 128;

export class OpenFileBudget {
  /** Slots taken: files in use, parked files, and files being closed to free their slot. */
  private used = 0;
  /** Parked holders, least recently used first (a Set keeps insertion order). */
  private readonly parked = new Set<ParkedFileHolder>();
  private readonly waiting: Array<() => void> = [];
  /** Parked files being closed, each promised to a waiter. */
  private evicting = 0;

  constructor(readonly maxOpen: number) {
    if (!(maxOpen >= 1)) throw new Error(`maxOpen must be at least 1, got ${maxOpen}`);
  }

  /** Files open or being closed now (for tests and the bench). */
  get openCount(): number {
    return this.used;
  }

  /** Waits for a slot; when all are taken, closes the least recently used parked file for it. */
  acquire(): Promise<void> {
    if (this.used < this.maxOpen) {
      this.used += 1;
      return Promise.resolve();
    }
    const slot = new Promise<void>((resolve) => this.waiting.push(resolve));
    if (this.waiting.length > this.evicting) this.evictOne();
    return slot;
  }

  /** Gives a slot back (its file was closed): the first waiter gets it. */
  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.used -= 1;
  }

  /** Runs a short use of one file within a slot. */
  async withSlot<T>(use: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await use();
    } finally {
      this.release();
    }
  }

  /** The holder keeps its file open between uses: it stays in its slot until the slot is needed. */
  park(holder: ParkedFileHolder): void {
    this.parked.delete(holder);
    this.parked.add(holder);
    // Someone is waiting with no file being closed for them: this slot is theirs.
    if (this.waiting.length > this.evicting) this.evictOne();
  }

  /** The holder wants its parked file back: true when it is still open (the holder has its slot again). */
  unpark(holder: ParkedFileHolder): boolean {
    return this.parked.delete(holder);
  }

  private evictOne(): void {
    const oldest = this.parked.values().next();
    if (oldest.done) return;
    this.parked.delete(oldest.value);
    this.evicting += 1;
    // The slot passes on only once the descriptor is really closed.
    void oldest.value
      .closeParkedFile()
      .catch(() => undefined)
      .finally(() => {
        this.evicting -= 1;
        this.release();
      });
  }
}
