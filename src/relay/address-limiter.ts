import { isIPv6 } from 'node:net';
import type { CreationLimit } from './limits.js';

interface Entry {
  tokens: number;
  updatedMs: number;
}

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
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly limit: CreationLimit) {}

  /** Takes a token for this address: undefined when allowed, else the seconds to wait (for Retry-After). */
  take(address: string, nowMs = Date.now()): number | undefined {
    const key = limitKey(address);
    const { burst, refillMs } = this.limit;
    const found = this.entries.get(key);
    const tokens = found ? Math.min(burst, found.tokens + (nowMs - found.updatedMs) / refillMs) : burst;
    this.entries.delete(key);
    this.expire(nowMs);
    if (tokens < 1) {
      this.entries.set(key, { tokens, updatedMs: nowMs });
      return Math.max(1, Math.ceil(((1 - tokens) * refillMs) / 1000));
    }
    this.entries.set(key, { tokens: tokens - 1, updatedMs: nowMs });
    return undefined;
  }

  /** How many addresses are tracked now (for tests and the operator). */
  get size(): number {
    return this.entries.size;
  }

  private expire(nowMs: number): void {
    const fullAfterMs = this.limit.burst * this.limit.refillMs;
    for (const [key, entry] of this.entries) {
      // Least recently used first: the first one still refilling ends the sweep.
      if (nowMs - entry.updatedMs < fullAfterMs && this.entries.size < this.limit.maxAddresses) break;
      this.entries.delete(key);
    }
  }
}
