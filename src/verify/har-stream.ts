/**
 * A streaming reader for the one structure a HAR file has, `{"log": {"entries": [...]}}`:
 * it walks the bytes, skips every value but `log.entries` without keeping it, and hands
 * out each entry's exact text, one at a time. A HAR is one JSON document, often one line
 * and hundreds of megabytes (listen's own export of 420,000 captures is 578 MB), which
 * JSON.parse cannot take whole (V8's strings end at 512 MiB) and which would hold the
 * file several times over in memory; this holds one read chunk and one entry.
 */

import { formatBytes } from '../util/units.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;
const BOM = [0xef, 0xbb, 0xbf];
const MIB = 1024 * 1024;
/**
 * An entry kept in memory at most: a webhook body at listen's 25 MiB limit, as base64,
 * with its headers fits. A larger one (a HAR of downloads, say) is walked over unkept,
 * so no entry makes memory grow with the file.
 */
const MAX_ENTRY_BYTES = 64 * MIB;
const MAX_KEY_BYTES = MIB;

function isSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/** The document is not the JSON a HAR is (said as JSON.parse would, roughly). */
export class HarSyntaxError extends Error {}

/**
 * Finds where one JSON value ends, fed a chunk at a time (its state carries over from
 * chunk to chunk). Only brackets, strings and escapes are followed: what lies between
 * is left to JSON.parse of the value, or not read at all for a skipped one.
 */
class ValueEnd {
  private depth = 0;
  private inString = false;
  /** The chunk before ended inside a string, after an odd run of backslashes. */
  private escaped = false;
  /** A number, true, false or null at the top: it ends at the next delimiter. */
  private scalar = false;

  /** The index just past the value's end in `bytes` (scanning from `from`), or -1: not within these bytes. */
  scan(bytes: Buffer, from: number): number {
    let i = from;
    const length = bytes.length;
    while (i < length) {
      if (this.inString) {
        const quote = bytes.indexOf(QUOTE, i);
        if (quote === -1) {
          this.escaped = this.oddBackslashesBefore(bytes, length, i);
          return -1;
        }
        const escapedQuote = this.oddBackslashesBefore(bytes, quote, i);
        this.escaped = false;
        i = quote + 1;
        if (escapedQuote) continue;
        this.inString = false;
        if (this.depth === 0) return i;
        continue;
      }
      const byte = bytes[i] as number;
      if (byte === QUOTE) {
        if (this.scalar) throw new HarSyntaxError('Unexpected string');
        this.inString = true;
      } else if (byte === OPEN_OBJECT || byte === OPEN_ARRAY) {
        if (this.scalar) throw new HarSyntaxError('Unexpected token');
        this.depth++;
      } else if (byte === CLOSE_OBJECT || byte === CLOSE_ARRAY) {
        if (this.depth === 0) {
          if (this.scalar) return i;
          throw new HarSyntaxError(`Unexpected "${String.fromCharCode(byte)}"`);
        }
        this.depth--;
        if (this.depth === 0) return i + 1;
      } else if (this.depth === 0) {
        if (byte === COMMA || isSpace(byte)) {
          if (this.scalar) return i;
          if (byte === COMMA) throw new HarSyntaxError('Unexpected ","');
        } else this.scalar = true;
      }
      i++;
    }
    return -1;
  }

  /** At the end of the input: whether the value was whole (a scalar ends with the input). */
  endsAtEof(): boolean {
    return this.scalar && this.depth === 0 && !this.inString;
  }

  /** Whether the backslashes just before `end` (back to `start`, then the carried one) are odd. */
  private oddBackslashesBefore(bytes: Buffer, end: number, start: number): boolean {
    let count = 0;
    let i = end - 1;
    while (i >= start && bytes[i] === BACKSLASH) {
      count++;
      i--;
    }
    if (i < start && this.escaped) count++;
    return count % 2 === 1;
  }
}

/** One entry of log.entries: its exact JSON text, or why it could not be read. */
export type HarEntryText = { text: string; error?: undefined } | { text?: undefined; error: string };

export class HarStream {
  private bytes: Buffer = Buffer.alloc(0);
  private at = 0;
  private eof = false;
  /** Keys of the top-level object, for saying what the document is when it is no HAR. */
  readonly topKeys: string[] = [];

  constructor(
    private readonly chunks: AsyncIterator<Buffer>,
    /** The largest entry kept (tests make it small). */
    private readonly maxEntryBytes = MAX_ENTRY_BYTES,
  ) {}

  /**
   * Reads up to the first entry of log.entries: 'entries' when it is there, else what
   * is missing. Throws HarSyntaxError when the document is not JSON.
   */
  async open(): Promise<'entries' | 'no-log' | 'no-entries'> {
    await this.skipBom();
    if ((await this.peek()) !== OPEN_OBJECT) throw new HarSyntaxError('expected a JSON object');
    this.at++;
    for (let first = true; ; first = false) {
      const key = await this.nextKey(first);
      if (key === undefined) return 'no-log';
      this.topKeys.push(key);
      if (key !== 'log') {
        await this.skipValue();
        continue;
      }
      if ((await this.peek()) !== OPEN_OBJECT) return 'no-entries';
      this.at++;
      for (let firstInLog = true; ; firstInLog = false) {
        const logKey = await this.nextKey(firstInLog);
        if (logKey === undefined) return 'no-entries';
        if (logKey !== 'entries') {
          await this.skipValue();
          continue;
        }
        if ((await this.peek()) !== OPEN_ARRAY) return 'no-entries';
        this.at++;
        return 'entries';
      }
    }
  }

  /** Each entry's text in turn, after open() found the array; a broken document ends with an error. */
  async *entries(): AsyncGenerator<HarEntryText> {
    for (let first = true; ; first = false) {
      try {
        const next = await this.peek();
        if (next === CLOSE_ARRAY) return;
        if (!first) {
          if (next !== COMMA)
            throw new HarSyntaxError(next === -1 ? 'the file ends inside log.entries (cut short?)' : 'expected "," or "]" after an entry');
          this.at++;
          if ((await this.peek()) === -1) throw new HarSyntaxError('the file ends inside log.entries (cut short?)');
        }
      } catch (error) {
        yield { error: (error as Error).message };
        return;
      }
      const value = await this.readValue(this.maxEntryBytes).catch((error: Error) => error);
      if (value instanceof Error) {
        yield { error: value.message };
        return;
      }
      yield value === undefined
        ? { error: `over ${formatBytes(this.maxEntryBytes)}, more than any webhook request; passed over` }
        : { text: value };
    }
  }

  /** The next byte that is not white space (not consumed), or -1 at the end. */
  private async peek(): Promise<number> {
    for (;;) {
      while (this.at < this.bytes.length) {
        const byte = this.bytes[this.at] as number;
        if (!isSpace(byte)) return byte;
        this.at++;
      }
      if (!(await this.more())) return -1;
    }
  }

  /** Reads the next chunk; false at the end of the input. */
  private async more(): Promise<boolean> {
    if (this.eof) return false;
    const next = await this.chunks.next();
    if (next.done) {
      this.eof = true;
      return false;
    }
    this.bytes = next.value;
    this.at = 0;
    return true;
  }

  /** Drops a byte order mark before the document (some Windows tools write one). */
  private async skipBom(): Promise<void> {
    // The first chunk may be shorter than the mark (stdin comes in pieces of any size).
    while (this.bytes.length - this.at < BOM.length && !this.eof) {
      const before = this.bytes.subarray(this.at);
      if (!(await this.more())) {
        this.bytes = before;
        this.at = 0;
        break;
      }
      this.bytes = Buffer.concat([before, this.bytes]);
    }
    if (BOM.every((byte, i) => this.bytes[this.at + i] === byte)) this.at += BOM.length;
  }

  /** The next member's key of an object (`first`: just after its `{`), the `:` consumed; undefined at its `}`. */
  private async nextKey(first: boolean): Promise<string | undefined> {
    let byte = await this.peek();
    if (byte === CLOSE_OBJECT) {
      this.at++;
      return undefined;
    }
    if (!first) {
      if (byte !== COMMA) throw this.unexpected(byte, '"," or "}"');
      this.at++;
      byte = await this.peek();
    }
    if (byte !== QUOTE) throw this.unexpected(byte, 'a string key');
    const text = await this.readValue(MAX_KEY_BYTES);
    // A key that long is none a HAR has: passed over as a key of no interest.
    const key = text === undefined ? '' : (JSON.parse(text) as string);
    byte = await this.peek();
    if (byte !== COLON) throw this.unexpected(byte, '":"');
    this.at++;
    return key;
  }

  private unexpected(byte: number, wanted: string): HarSyntaxError {
    if (byte === -1) return new HarSyntaxError('Unexpected end of JSON input (cut short?)');
    return new HarSyntaxError(`expected ${wanted}, found "${String.fromCharCode(byte)}"`);
  }

  /** Passes over the next value without keeping it. */
  private async skipValue(): Promise<void> {
    await this.walkValue(undefined);
  }

  /** The next value's exact text; undefined (and passed over) when it is over `limit` bytes. */
  private async readValue(limit: number): Promise<string | undefined> {
    const parts: Buffer[] = [];
    if (!(await this.walkValue(parts, limit))) return undefined;
    return parts.length === 1 ? (parts[0] as Buffer).toString('utf8') : Buffer.concat(parts).toString('utf8');
  }

  /** Walks over the next value, keeping its bytes in `parts` up to `limit`; false when it went past. */
  private async walkValue(parts: Buffer[] | undefined, limit = Infinity): Promise<boolean> {
    if ((await this.peek()) === -1) throw new HarSyntaxError('Unexpected end of JSON input (cut short?)');
    const end = new ValueEnd();
    let kept = parts;
    let size = 0;
    for (;;) {
      const start = this.at;
      const stop = end.scan(this.bytes, start);
      size += (stop === -1 ? this.bytes.length : stop) - start;
      // Too big to be what it should be: forgotten, and the rest only walked over.
      if (size > limit) kept = undefined;
      if (stop !== -1) {
        kept?.push(this.bytes.subarray(start, stop));
        this.at = stop;
        return kept !== undefined || parts === undefined;
      }
      // Copied: the chunk it lies in is let go when the next one is read.
      kept?.push(Buffer.from(this.bytes.subarray(start)));
      this.at = this.bytes.length;
      if (!(await this.more())) {
        if (end.endsAtEof()) return kept !== undefined || parts === undefined;
        throw new HarSyntaxError('Unexpected end of JSON input (cut short?)');
      }
    }
  }
}
