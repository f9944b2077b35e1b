/**
 * One interval timer for many periodic jobs of the same period (a job per connected
 * listener): 1,000 listeners cost one wake-up per period instead of 1,000 timers, and
 * none at all while there is no job. Jobs run in the order they were added.
 */
export class SharedTicker {
  private readonly jobs = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs: number) {}

  /** Runs `job` every period from now on; returns the function that stops it. */
  add(job: () => void): () => void {
    // A job of its own (a new function) even when the caller passes the same one twice.
    const entry = (): void => job();
    this.jobs.add(entry);
    if (!this.timer) {
      this.timer = setInterval(() => {
        for (const run of [...this.jobs]) run();
      }, this.everyMs);
      this.timer.unref();
    }
    return () => {
      this.jobs.delete(entry);
      if (this.jobs.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** Jobs running now (for tests). */
  get size(): number {
    return this.jobs.size;
  }

  stopAll(): void {
    this.jobs.clear();
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
