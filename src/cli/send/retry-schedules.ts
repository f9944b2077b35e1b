import type { DeliveryOutcome } from '../../delivery/deliver.js';

type Report = (attempt: number, outcome: DeliveryOutcome) => void;

/**
 * Deliveries with retries that run side by side, each on its own schedule. `start`
 * resolves once the delivery's first attempt has been reported, so first attempts keep
 * their order; `finish` waits for every schedule. The first error (a report that
 * throws, e.g. "nothing is listening") aborts the other schedules and is rethrown.
 */
export class RetrySchedules {
  private readonly controller = new AbortController();
  private readonly running: Array<Promise<void>> = [];
  private failure: { error: unknown } | undefined;

  async start(schedule: (onAttempt: (report: Report) => Report, signal: AbortSignal) => Promise<void>): Promise<void> {
    this.rethrow();
    let firstReported: () => void = () => {};
    const first = new Promise<void>((resolve) => (firstReported = resolve));
    const onAttempt =
      (report: Report): Report =>
      (attempt, outcome) => {
        try {
          report(attempt, outcome);
        } catch (error) {
          // Recorded now, before the caller resumes: no next delivery starts after it.
          this.fail(error);
          throw error;
        } finally {
          if (attempt === 1) firstReported();
        }
      };
    const run = schedule(onAttempt, this.controller.signal).catch((error: unknown) => this.fail(error));
    // A schedule that ends without reporting (it should not) must not hang the caller.
    this.running.push(run.finally(firstReported));
    await first;
    this.rethrow();
  }

  async finish(): Promise<void> {
    await Promise.all(this.running);
    this.rethrow();
  }

  /** Stops every wait still pending (on an error, or when the caller gives up). */
  abort(): void {
    this.controller.abort();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.controller.abort();
  }

  private rethrow(): void {
    if (this.failure) throw this.failure.error;
  }
}
