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

  /** `expected`: about how many requests will be observed (sizes the tables once). */
  constructor(expected = 0) {
    this.byBytes = new KeyTable(expected);
    this.byPair = new KeyTable(expected);
  }

  /** The repeat this request is, if any (an exact duplicate is never also a pair repeat). */
  observe(keys: RepeatKeys, label: string): Repeat | undefined {
    if (!keys.hasBytes && !keys.hasPair) return undefined;
    const start = this.labels.add(label);
    return this.check(keys, start, this.labels.used);
  }

  /**
   * Keeps a worker's piece of labels (UTF-8, back to back) in one copy; returns where it
   * starts, so its labels are observed by offset (observeStored) and not copied one by one.
   */
  storeLabels(bytes: Uint8Array): number {
    return this.labels.add(bytes);
  }

  /** observe() for a label kept by storeLabels: bytes [start, end) of the store. */
  observeStored(keys: RepeatKeys, start: number, end: number): Repeat | undefined {
    return this.check(keys, start, end);
  }

  private check(keys: RepeatKeys, start: number, end: number): Repeat | undefined {
    let labelIndex = -1;
    if (keys.hasBytes) {
      labelIndex = this.labels.register(start, end);
      const earlier = this.byBytes.firstOrAdd(keys.bytesHi, keys.bytesLo, labelIndex);
      if (earlier !== -1) {
        this.labels.dropLast();
        this.exactDuplicates++;
        return { exactDuplicateOf: this.labels.get(earlier) };
      }
    }
    if (keys.hasPair) {
      if (labelIndex === -1) labelIndex = this.labels.register(start, end);
      const earlier = this.byPair.firstOrAdd(keys.pairHi, keys.pairLo, labelIndex);
      if (earlier !== -1) {
        this.repeatedPairs++;
        return { samePairAs: this.labels.get(earlier) };
      }
    }
    return undefined;
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
const INITIAL_LABELS = 64;

/**
 * Labels (capture ids, `file:line`) as UTF-8 bytes in one growing Buffer, each kept as
 * the span [start, end) of those bytes. Text is appended by add(); a label is a span
 * registered apart, so a block of labels is copied once and its labels named by offset.
 */
class LabelArena {
  private bytes = Buffer.allocUnsafe(INITIAL_ARENA_BYTES);
  /** Bytes in use. */
  used = 0;
  private spans = new Int32Array(INITIAL_LABELS * 2);
  private count = 0;

  /** Appends text or bytes; returns where they start (no label is registered). */
  add(content: string | Uint8Array): number {
    const start = this.used;
    const most = typeof content === 'string' ? content.length * 3 : content.length;
    if (start + most > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(start + most, this.bytes.length * 2));
      this.bytes.copy(bigger, 0, 0, start);
      this.bytes = bigger;
    }
    if (typeof content === 'string') this.used += this.bytes.write(content, start, 'utf8');
    else {
      this.bytes.set(content, start);
      this.used += content.length;
    }
    return start;
  }

  /** A label: bytes [start, end) of what was added. */
  register(start: number, end: number): number {
    if (this.count * 2 === this.spans.length) {
      const bigger = new Int32Array(this.spans.length * 2);
      bigger.set(this.spans);
      this.spans = bigger;
    }
    this.spans[this.count * 2] = start;
    this.spans[this.count * 2 + 1] = end;
    return this.count++;
  }

  /** Forgets the label just registered (an exact duplicate needs none of its own), and its bytes when they were the last added. */
  dropLast(): void {
    this.count--;
    if (this.spans[this.count * 2 + 1] === this.used) this.used = this.spans[this.count * 2] as number;
  }

  get(index: number): string {
    return this.bytes.toString('utf8', this.spans[index * 2], this.spans[index * 2 + 1]);
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
