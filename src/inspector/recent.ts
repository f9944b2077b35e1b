import type { CaptureRecord } from '../capture/record.js';

/** How many requests the inspector keeps, and how many body bytes at most in all. */
export const RECENT_MAX_REQUESTS = 500;
export const RECENT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Dropped slots kept at the front of the queue before it is compacted. */
const COMPACT_AFTER = 1024;

/**
 * The inspector's window of recent requests, bounded by count and by body bytes so
 * memory stays flat over a long run (the captures file has the rest).
 */
export class RecentRequests {
  /**
   * Oldest first, from `head` on: an array used as a queue rather than a Map by id. This
   * runs for every request listen takes, and a Map's hashing, growth and deletes cost
   * more than the rare look-up by id (a page asking for one request) saves.
   */
  private records: Array<CaptureRecord | undefined> = [];
  private head = 0;
  private bodyBytes = 0;

  constructor(
    private readonly maxRequests = RECENT_MAX_REQUESTS,
    private readonly maxBodyBytes = RECENT_MAX_BODY_BYTES,
  ) {}

  add(record: CaptureRecord): void {
    this.records.push(record);
    this.bodyBytes += record.body.length;
    while (this.size > this.maxRequests || (this.bodyBytes > this.maxBodyBytes && this.size > 1)) {
      const oldest = this.records[this.head] as CaptureRecord;
      this.records[this.head] = undefined;
      this.head++;
      this.bodyBytes -= oldest.body.length;
    }
    // The dropped slots go once they outnumber the window (a copy of at most maxRequests).
    if (this.head > COMPACT_AFTER && this.head > this.size) {
      this.records = this.records.slice(this.head);
      this.head = 0;
    }
  }

  /** Empties the window (the inspector's Clear; the captures file keeps everything). */
  clear(): void {
    this.records = [];
    this.head = 0;
    this.bodyBytes = 0;
  }

  get(id: string): CaptureRecord | undefined {
    // Newest first: a page mostly asks about what it just showed.
    for (let i = this.records.length - 1; i >= this.head; i--) {
      const record = this.records[i] as CaptureRecord;
      if (record.id === id) return record;
    }
    return undefined;
  }

  /** Oldest first. */
  list(): CaptureRecord[] {
    return this.records.slice(this.head) as CaptureRecord[];
  }

  /**
   * What came after `id`, oldest first: what a page that has `id` last has not seen.
   * The whole window when `id` is unknown (no id yet, or it has left the window).
   */
  after(id: string | null): CaptureRecord[] {
    const all = this.list();
    const at = id === null ? -1 : all.findIndex((record) => record.id === id);
    return at === -1 ? all : all.slice(at + 1);
  }

  get size(): number {
    return this.records.length - this.head;
  }
}
