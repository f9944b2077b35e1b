/** A live delivery's budget, as AnswerBudgets keeps it. */
export interface AnswerBudget {
  readonly dueMs: number;
  readonly onExpired: () => void;
  settled: boolean;
}

/**
 * The answer budgets of live deliveries (FrontEngine's 5 s, after which the next event
 * may start): one timer for all of them instead of one per event. Every budget has the
 * same length, so deadlines come in start order: the timer is armed for the oldest one
 * still running, and budgets that finish are dropped from the front as they finish.
 * A budget finished behind a slow one waits in the list until the slow one expires.
 */
export class AnswerBudgets {
  private readonly running: AnswerBudget[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly budgetMs: number) {}

  /** `onExpired` runs once the budget is spent, unless `settle` came first. */
  start(onExpired: () => void): AnswerBudget {
    const budget: AnswerBudget = { dueMs: performance.now() + this.budgetMs, onExpired, settled: false };
    this.running.push(budget);
    if (this.timer === undefined) this.arm(this.budgetMs);
    return budget;
  }

  settle(budget: AnswerBudget): void {
    budget.settled = true;
    let done = 0;
    while (done < this.running.length && (this.running[done] as AnswerBudget).settled) done++;
    if (done > 0) this.running.splice(0, done);
  }

  private arm(ms: number): void {
    // Only a delivery in flight needs it, and that delivery's socket keeps the process up.
    this.timer = setTimeout(this.expireDue, ms).unref();
  }

  private readonly expireDue = (): void => {
    this.timer = undefined;
    const nowMs = performance.now();
    while (this.running.length > 0) {
      const first = this.running[0] as AnswerBudget;
      if (!first.settled && first.dueMs > nowMs) break;
      this.running.shift();
      if (!first.settled) {
        first.settled = true;
        first.onExpired();
      }
    }
    const next = this.running[0];
    if (next) this.arm(Math.max(1, next.dueMs - nowMs));
  };
}
