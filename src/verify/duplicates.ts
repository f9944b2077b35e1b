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
  private readonly byBytes = new FingerprintTable();
  /** event → message_id → first label: nested, so no key string is built per request. */
  private readonly byPair = new Map<string, Map<string, string>>();
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
      if (ids === undefined) this.byPair.set(verdict.event, (ids = new Map()));
      const earlier = ids.get(verdict.messageId);
      if (earlier !== undefined) {
        verdict.samePairAs = earlier;
        this.repeatedPairs++;
      } else ids.set(verdict.messageId, label);
    }
    return false;
  }
}

/** Hex digits of a fingerprint that pick its slot: 28 bits, enough for any captures file. */
const HASH_HEX_DIGITS = 7;
const INITIAL_SLOTS = 1 << 12;

/**
 * Fingerprint → first label, for hex digests (uniformly random already, so their first
 * digits are the hash). A Map hashed every 64-character key again and cost ~10% of
 * verify on 100,000 requests; this open-addressing table reads seven digits and
 * compares whole fingerprints only when those collide.
 */
class FingerprintTable {
  private slots = new Int32Array(INITIAL_SLOTS);
  private readonly fingerprints: string[] = [];
  private readonly labels: string[] = [];

  /** The label stored for this fingerprint, or undefined after storing `label` for it. */
  firstLabel(fingerprint: string, label: string): string | undefined {
    const mask = this.slots.length - 1;
    let slot = hashOf(fingerprint) & mask;
    for (let entry = this.slots[slot] as number; entry !== 0; entry = this.slots[slot] as number) {
      if (this.fingerprints[entry - 1] === fingerprint) return this.labels[entry - 1];
      slot = (slot + 1) & mask;
    }
    this.fingerprints.push(fingerprint);
    this.labels.push(label);
    this.slots[slot] = this.fingerprints.length;
    // At most half full, so probe runs stay short.
    if (this.fingerprints.length * 2 > this.slots.length) this.grow();
    return undefined;
  }

  private grow(): void {
    this.slots = new Int32Array(this.slots.length * 2);
    const mask = this.slots.length - 1;
    for (let i = 0; i < this.fingerprints.length; i++) {
      let slot = hashOf(this.fingerprints[i] as string) & mask;
      while (this.slots[slot] !== 0) slot = (slot + 1) & mask;
      this.slots[slot] = i + 1;
    }
  }
}

/** The first hex digits as a number; any other text still hashes, just less evenly. */
function hashOf(fingerprint: string): number {
  let hash = 0;
  const digits = Math.min(HASH_HEX_DIGITS, fingerprint.length);
  for (let i = 0; i < digits; i++) {
    const code = fingerprint.charCodeAt(i);
    // `0`-`9` → 0-9, `a`-`f` → 10-15.
    hash = (hash << 4) | ((code & 0x0f) + (code >> 6) * 9);
  }
  return hash;
}
