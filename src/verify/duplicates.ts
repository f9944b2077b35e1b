/** How the two kinds of repeat are keyed; every report states these words. */
export const EXACT_KEY = 'the exact body bytes';
export const PAIR_KEY = 'event + payload.message.message_id';

/**
 * What identifies one request for repeat detection, as 64-bit keys (two 32-bit halves
 * each): the first 8 bytes of the body's HMAC (a keyed SHA-256, so as good as random)
 * and a 64-bit hash of event + message_id. Plain numbers, so worker threads can hand
 * them over in a typed array. At 64 bits, two different bodies share a key with odds
 * near 10^-9 in a file of a million requests.
 */
export interface RepeatKeys {
  /** false when nothing was fingerprinted (an unreadable record). */
  hasBytes: boolean;
  bytesHi: number;
  bytesLo: number;
  /** false when the request has no event + message_id pair. */
  hasPair: boolean;
  pairHi: number;
  pairLo: number;
}

export interface Repeat {
  /** The same bytes were seen before, under this label. */
  exactDuplicateOf?: string;
  /** The same event + message_id with other bytes was seen before, under this label. */
  samePairAs?: string;
}

/**
 * Finds repeats the way SPEC.md asks: the same bytes again is the same delivery
 * (FrontEngine retries repeat the exact bytes); the same event + message_id with other
 * bytes is a different event (two clicks, two delays), never called "the same delivery".
 * Server events and bounces/clicks carry no message_id and are keyed by bytes only.
 * Memory: per distinct request two 64-bit keys in typed-array tables and its label's
 * bytes, never a body or a JS string (so nothing for the GC to trace or promote).
 */
export class DuplicateTracker {
  private readonly labels = new LabelArena();
  private readonly byBytes: KeyTable;
  private readonly byPair: KeyTable;
  exactDuplicates = 0;
  repeatedPairs = 0;
  /** Requests whose capture says the relay sent them before (see noteMarkedRedelivery). */
  markedRedeliveries = 0;

  /** `expected`: about how many requests will be observed (sizes the tables once). */
  constructor(expected = 0) {
    this.byBytes = new KeyTable(expected);
    this.byPair = new KeyTable(expected);
  }

  /**
   * A request the relay marked as a possible redelivery: counted on its own, since the
   * delivery it repeats may have left no capture to match it with.
   */
  noteMarkedRedelivery(): void {
    this.markedRedeliveries++;
  }

  /** The repeat this request is, if any (an exact duplicate is never also a pair repeat). */
  observe(keys: RepeatKeys, label: string): Repeat | undefined {
    return this.check(keys, label, EMPTY_BYTES, 0, 0);
  }

  /** observe() with the label as UTF-8 bytes `label[start, end)` (from a worker thread). */
  observeEncoded(keys: RepeatKeys, label: Buffer, start: number, end: number): Repeat | undefined {
    return this.check(keys, undefined, label, start, end);
  }

  /** The label is `text`, else `bytes[start, end)`; passed as is, not in a closure made per request. */
  private check(keys: RepeatKeys, text: string | undefined, bytes: Buffer, start: number, end: number): Repeat | undefined {
    let labelIndex = -1;
    if (keys.hasBytes) {
      labelIndex = this.storeLabel(text, bytes, start, end);
      const earlier = this.byBytes.firstOrAdd(keys.bytesHi, keys.bytesLo, labelIndex);
      if (earlier !== -1) {
        this.labels.dropLast();
        this.exactDuplicates++;
        return { exactDuplicateOf: this.labels.get(earlier) };
      }
    }
    if (keys.hasPair) {
      if (labelIndex === -1) labelIndex = this.storeLabel(text, bytes, start, end);
      const earlier = this.byPair.firstOrAdd(keys.pairHi, keys.pairLo, labelIndex);
      if (earlier !== -1) {
        this.repeatedPairs++;
        return { samePairAs: this.labels.get(earlier) };
      }
    }
    return undefined;
  }

  private storeLabel(text: string | undefined, bytes: Buffer, start: number, end: number): number {
    return text !== undefined ? this.labels.add(text) : this.labels.addBytes(bytes, start, end);
  }
}

/**
 * Tables, like the label arena below, start small on purpose: they then grow within the
 * first few hundred requests, while V8 still collects type feedback. A first growth
 * after the hot code was optimized (at 52,000 requests, with 64k slots) had no feedback,
 * so V8 threw the optimized code away and compiled it again.
 */
const INITIAL_SLOTS = 1 << 8;
/** Int32s per slot: the key's two halves and the label index + 1 (0: empty). */
const SLOT_INTS = 3;

/**
 * 64-bit key → index of the first label stored with it: open addressing in one
 * Int32Array, up to 80% full (the keys are hashes already, so probe runs stay short,
 * and a table for 100,000 requests takes 1.5 MiB).
 */
export class KeyTable {
  private slots: Int32Array;
  private capacity: number;
  private size = 0;

  /** `expected`: keys to make room for at once (a hint; the table grows past it). */
  constructor(expected = 0) {
    let capacity = INITIAL_SLOTS;
    while (expected * 5 > capacity * 4) capacity *= 2;
    this.capacity = capacity;
    this.slots = new Int32Array(capacity * SLOT_INTS);
  }

  /** The label index stored for this key; or -1 after storing `labelIndex` for it. */
  firstOrAdd(hi: number, lo: number, labelIndex: number): number {
    const { slots } = this;
    const mask = this.capacity - 1;
    let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
    for (;;) {
      const at = slot * SLOT_INTS;
      const stored = slots[at + 2] as number;
      if (stored === 0) break;
      if (slots[at] === (hi | 0) && slots[at + 1] === (lo | 0)) return stored - 1;
      slot = (slot + 1) & mask;
    }
    const at = slot * SLOT_INTS;
    slots[at] = hi;
    slots[at + 1] = lo;
    slots[at + 2] = labelIndex + 1;
    if (++this.size * 5 > this.capacity * 4) this.grow();
    return -1;
  }

  private grow(): void {
    const old = this.slots;
    this.capacity *= 2;
    this.slots = new Int32Array(this.capacity * SLOT_INTS);
    const slots = this.slots;
    const mask = this.capacity - 1;
    for (let at = 0; at < old.length; at += SLOT_INTS) {
      const stored = old[at + 2] as number;
      if (stored === 0) continue;
      const hi = old[at] as number;
      const lo = old[at + 1] as number;
      let slot = (lo ^ Math.imul(hi, 0x9e3779b1)) & mask;
      while (slots[slot * SLOT_INTS + 2] !== 0) slot = (slot + 1) & mask;
      slots[slot * SLOT_INTS] = hi;
      slots[slot * SLOT_INTS + 1] = lo;
      slots[slot * SLOT_INTS + 2] = stored;
    }
  }
}

const INITIAL_ARENA_BYTES = 1024;
const EMPTY_BYTES = Buffer.alloc(0);
const INITIAL_LABELS = 64;

/** Labels (capture ids, `file:line`) as UTF-8 bytes in one growing Buffer. */
class LabelArena {
  private bytes = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  private ends = new Int32Array(INITIAL_LABELS);
  private count = 0;

  add(label: string): number {
    const start = this.reserve(label.length * 3);
    this.ends[this.count] = start + this.bytes.write(label, start, 'utf8');
    return this.count++;
  }

  addBytes(label: Buffer, from: number, to: number): number {
    const start = this.reserve(to - from);
    // A label is a few dozen bytes: a loop, not Buffer#copy (which makes a view per call
    // and took ~0.2 us more per label).
    const { bytes } = this;
    for (let i = from, at = start; i < to; i++, at++) bytes[at] = label[i] as number;
    this.ends[this.count] = start + to - from;
    return this.count++;
  }

  /** Room for one more label of up to `bytes`; returns where it starts. */
  private reserve(bytes: number): number {
    const start = this.count === 0 ? 0 : (this.ends[this.count - 1] as number);
    if (start + bytes > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(start + bytes, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, start);
      this.bytes = bigger;
    }
    if (this.count === this.ends.length) {
      const bigger = new Int32Array(this.ends.length * 2);
      bigger.set(this.ends);
      this.ends = bigger;
    }
    return start;
  }

  /** Forgets the label just added (an exact duplicate needs none of its own). */
  dropLast(): void {
    this.count--;
  }

  get(index: number): string {
    const start = index === 0 ? 0 : (this.ends[index - 1] as number);
    return this.bytes.toString('utf8', start, this.ends[index]);
  }
}

/** The first 16 hex digits of a digest as two 32-bit halves (no substrings made). */
export function hexKey(hex: string): { hi: number; lo: number } {
  return { hi: hexWord(hex, 0), lo: hexWord(hex, 8) };
}

function hexWord(hex: string, from: number): number {
  let word = 0;
  for (let i = from; i < from + 8 && i < hex.length; i++) {
    const code = hex.charCodeAt(i);
    // `0`-`9` → 0-9, `a`-`f` (and `A`-`F`) → 10-15.
    word = (word << 4) | ((code & 0x0f) + (code >> 6) * 9);
  }
  return word;
}

/**
 * A 64-bit hash of event + message_id (two 32-bit lanes, cyrb53's mixing without the
 * truncation to 53 bits). The event's length goes in first, so no two pairs hash the
 * same text.
 */
export function pairHash(event: string, messageId: string, out: { hi: number; lo: number }): void {
  let h1 = 0xdeadbeef ^ event.length;
  let h2 = 0x41c6ce57 ^ event.length;
  for (let i = 0; i < event.length; i++) {
    const c = event.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  for (let i = 0; i < messageId.length; i++) {
    const c = messageId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  out.hi = h2 | 0;
  out.lo = h1 | 0;
}
