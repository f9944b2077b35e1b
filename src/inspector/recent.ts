import type { CaptureRecord } from '../capture/record.js';

/** How many requests the inspector keeps, and how many body bytes at most in all. */
export const RECENT_MAX_REQUESTS = 500;
export const RECENT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/**
 * The inspector's window of recent requests, bounded by count and by body bytes so
 * memory stays flat over a long run (the captures file has the rest).
 */
export class RecentRequests {
  private readonly byId = new Map<string, CaptureRecord>();
  private bodyBytes = 0;

  constructor(
    private readonly maxRequests = RECENT_MAX_REQUESTS,
    private readonly maxBodyBytes = RECENT_MAX_BODY_BYTES,
  ) {}

  add(record: CaptureRecord): void {
    this.byId.set(record.id, record);
    this.bodyBytes += record.body.length;
    // Map iteration is insertion order: the first key is the oldest.
    while (this.byId.size > this.maxRequests || (this.bodyBytes > this.maxBodyBytes && this.byId.size > 1)) {
      const [oldestId, oldest] = this.byId.entries().next().value as [string, CaptureRecord];
      this.byId.delete(oldestId);
      this.bodyBytes -= oldest.body.length;
    }
  }

  /** Empties the window (the inspector's Clear; the captures file keeps everything). */
  clear(): void {
    this.byId.clear();
    this.bodyBytes = 0;
  }

  get(id: string): CaptureRecord | undefined {
    return this.byId.get(id);
  }

  /** Oldest first. */
  list(): CaptureRecord[] {
    return [...this.byId.values()];
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
    return this.byId.size;
  }
}
