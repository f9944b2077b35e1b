import type { Verdict } from './types.js';

/** How the two kinds of repeat are keyed; every report states these words. */
export const EXACT_KEY = 'the exact body bytes';
export const PAIR_KEY = 'event + payload.message.message_id';

/**
 * Finds repeats the way SPEC.md asks: the same bytes again is the same delivery
 * (FrontEngine retries repeat the exact bytes); the same event + message_id with other
 * bytes is a different event (two clicks, two delays), never called "the same delivery".
 * Server events and bounces/clicks carry no message_id and are keyed by bytes only.
 * Memory: one fingerprint and label per distinct request, never a body.
 */
export class DuplicateTracker {
  private readonly byBytes = new FirstSeen(hexPrefixHash);
  /** event → message_id → first label: nested, so no key string is built per request. */
  private readonly byPair = new Map<string, FirstSeen>();
  exactDuplicates = 0;
  repeatedPairs = 0;

  /** Marks the verdict; true when it is an exact duplicate of an earlier request. */
  observe(verdict: Verdict, fingerprint: string | undefined): boolean {
    const label = verdict.id ?? verdict.location;
    if (fingerprint !== undefined) {
      const earlier = this.byBytes.firstLabel(fingerprint, label);
      if (earlier !== undefined) {
        verdict.exactDuplicateOf = earlier;
        this.exactDuplicates++;
        return true;
      }
    }
    if (verdict.event !== undefined && verdict.messageId !== undefined) {
      let ids = this.byPair.get(verdict.event);
      if (ids === undefined) this.byPair.set(verdict.event, (ids = new FirstSeen(stringHash)));
      const earlier = ids.firstLabel(verdict.messageId, label);
      if (earlier !== undefined) {
        verdict.samePairAs = earlier;
        this.repeatedPairs++;
      }
    }
    return false;
  }
}

/** Hex digits of a fingerprint that pick its slot: 28 bits, enough for any captures file. */
const HASH_HEX_DIGITS = 7;
const INITIAL_SLOTS = 1 << 12;

/**
 * Key → first label seen with it. Two Maps (fingerprint, message_id) cost ~10% of
 * verify on 100,000 requests, most of it V8 hashing each fresh key string; this
 * open-addressing table takes a cheap hash (a digest's own first digits, or FNV-1a)
 * and compares whole keys only when slots collide. Exported for its tests.
 */
export class FirstSeen {
  private slots = new Int32Array(INITIAL_SLOTS);
  private readonly keys: string[] = [];
  private readonly labels: string[] = [];

  constructor(private readonly hash: (key: string) => number) {}

  /** The label stored for this key, or undefined after storing `label` for it. */
  firstLabel(key: string, label: string): string | undefined {
    const mask = this.slots.length - 1;
    let slot = this.hash(key) & mask;
    for (let entry = this.slots[slot] as number; entry !== 0; entry = this.slots[slot] as number) {
      if (this.keys[entry - 1] === key) return this.labels[entry - 1];
      slot = (slot + 1) & mask;
    }
    this.keys.push(key);
    this.labels.push(label);
    this.slots[slot] = this.keys.length;
    // At most half full, so probe runs stay short.
    if (this.keys.length * 2 > this.slots.length) this.grow();
    return undefined;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.keys.length; i++) {
      let slot = this.hash(this.keys[i] as string) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = i + 1;
    }
  }
}

/** A hex digest's first digits as a number (digests are uniformly random already). */
export function hexPrefixHash(key: string): number {
  let hash = 0;
  const digits = Math.min(HASH_HEX_DIGITS, key.length);
  for (let i = 0; i < digits; i++) {
    const code = key.charCodeAt(i);
    // `0`-`9` → 0-9, `a`-`f` → 10-15; other text still hashes, just less evenly.
    hash = (hash << 4) | ((code & 0x0f) + (code >> 6) * 9);
  }
  return hash;
}

/** 32-bit FNV-1a over UTF-16 code units, for keys that are not random (message ids). */
export function stringHash(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}
