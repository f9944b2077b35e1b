/**
 * A token bucket: `ratePerSecond` sustained, bursts up to `burst`. The relay keeps one per
 * channel (one flooding channel gets 429s, the others are not slowed down) and one per
 * client address for channel creation (address-limiter.ts).
 */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;

  constructor(
    private readonly ratePerSecond: number,
    private readonly burst: number,
    nowMs = Date.now(),
  ) {
    this.tokens = burst;
    this.updatedMs = nowMs;
  }

  /** Takes one token; false when the bucket is empty. */
  take(nowMs = Date.now()): boolean {
    this.tokens = Math.min(this.burst, this.tokens + ((nowMs - this.updatedMs) / 1000) * this.ratePerSecond);
    this.updatedMs = nowMs;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Whether the bucket has refilled to its burst by `nowMs`: then it is the same as a new one. */
  fullBy(nowMs = Date.now()): boolean {
    return this.tokens + ((nowMs - this.updatedMs) / 1000) * this.ratePerSecond >= this.burst;
  }

  /** Seconds until one token is back, for Retry-After. */
  retryAfterSeconds(): number {
    return Math.max(1, Math.ceil((1 - this.tokens) / this.ratePerSecond));
  }
}
