import { isIPv6 } from 'node:net';
import type { CreationLimit } from './limits.js';
import { TokenBucket } from './token-bucket.js';

/**
 * IPv6 clients are limited per /64 (one customer's usual allocation), or a single host
 * could mint addresses without end; IPv4-mapped addresses count as the IPv4 address.
 */
export function limitKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return mapped[1] as string;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = address.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((group) => group.toLowerCase().replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

/**
 * A token bucket per client address. Entries are kept least recently used first; an entry
 * whose bucket has refilled is the same as none and is dropped, and past maxAddresses the
 * least recently used one goes too, so memory is bounded.
 */
export class AddressRateLimiter {
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly ratePerSecond: number;

  constructor(private readonly limit: CreationLimit) {
    this.ratePerSecond = 1000 / limit.refillMs;
  }

  /** Takes a token for this address: undefined when allowed, else the seconds to wait (for Retry-After). */
  take(address: string, nowMs = Date.now()): number | undefined {
    const key = limitKey(address);
    const bucket = this.buckets.get(key) ?? new TokenBucket(this.ratePerSecond, this.limit.burst, nowMs);
    // Re-inserted: the Map's order is least recently used first.
    this.buckets.delete(key);
    this.expire(nowMs);
    this.buckets.set(key, bucket);
    return bucket.take(nowMs) ? undefined : bucket.retryAfterSeconds();
  }

  /** How many addresses are tracked now (for tests and the operator). */
  get size(): number {
    return this.buckets.size;
  }

  private expire(nowMs: number): void {
    for (const [key, bucket] of this.buckets) {
      // Least recently used first: the first one still refilling ends the sweep.
      if (!bucket.fullBy(nowMs) && this.buckets.size < this.limit.maxAddresses) break;
      this.buckets.delete(key);
    }
  }
}
