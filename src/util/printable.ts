/**
 * Outside bytes (response bodies, request paths, header values, event names from a body,
 * reasons quoted from a capture, file contents) made safe for ONE line of a terminal or
 * a CI log. Every human-readable printer that shows such bytes goes through here.
 *
 * Why: a 503 body holding `\x1b]0;pwned\x07` retitles the user's terminal, and a body whose
 * event name holds `\n::error title=pwned::` starts a line that GitHub Actions runs as a
 * workflow command. So:
 * - C0 controls and DEL are shown as `\x1b` (tab, newline and carriage return as `\t`,
 *   `\n`, `\r`): the snippet is always one line and carries no escape sequence;
 * - C1 controls (U+0080–U+009F: U+009B is a one-character CSI on some terminals), line and
 *   paragraph separators, byte-order marks and bidirectional controls ("Trojan Source")
 *   are shown as `\u009b`;
 * - bytes that are not UTF-8 are shown as `\xff`, one escape per byte, and a lone
 *   surrogate in a string as `\ud800`.
 * - `[` after `##` and letters is shown as `\x5b`: GitHub's runner obeys `##[command]`,
 *   Azure's `##vso[command]` and TeamCity `##teamcity[message]` anywhere in a line.
 * Backslashes are left as they are: this is for reading, not a reversible encoding
 * (`--json` output carries the exact text).
 *
 * The caller still owns where the snippet goes: after a label of ours (`error: `, `✗ `, a
 * time stamp), or through printableLine() when it must start a line. Indenting is not
 * enough: GitHub's runner trims leading white space before it looks for `::command::`.
 */

/** A default length bound for a snippet, in characters of the output (escapes included). */
export const SNIPPET_MAX_CHARS = 200;

const ELLIPSIS = '…';
/** Printable ASCII only: the common case, returned untouched without a per-character walk. */
const PLAIN_ASCII = /^[\x20-\x7e]*$/;
/** What a CI runner reads as a command anywhere in a line (see the module comment). */
const CI_COMMAND_TAIL = /##[a-z]*$/i;
/** A line whose first character past white space is a colon: the start of a CI command. */
const LINE_COMMAND_START = /^(\s*):/;
const NAMED_ESCAPES: Readonly<Record<number, string>> = { 0x09: '\\t', 0x0a: '\\n', 0x0d: '\\r' };

/** Code points that are printable as themselves; everything else is escaped. */
function isSafeCodePoint(cp: number): boolean {
  if (cp < 0x20 || cp === 0x7f) return false;
  if (cp < 0x7f) return true;
  if (cp <= 0x9f) return false; // C1
  if (cp === 0x061c || cp === 0x200e || cp === 0x200f) return false; // bidi marks
  if (cp >= 0x2028 && cp <= 0x202e) return false; // line/paragraph separators, bidi embeddings
  if (cp >= 0x2066 && cp <= 0x2069) return false; // bidi isolates
  if (cp === 0xfeff) return false; // byte-order mark / zero-width no-break space
  if (cp >= 0xd800 && cp <= 0xdfff) return false; // lone surrogate (strings only)
  return true;
}

function hex(value: number, width: number): string {
  return value.toString(16).padStart(width, '0');
}

/** The escaped form of a code point that is not safe. */
function escapeCodePoint(cp: number): string {
  const named = NAMED_ESCAPES[cp];
  if (named !== undefined) return named;
  return cp <= 0x7f ? `\\x${hex(cp, 2)}` : `\\u${hex(cp, 4)}`;
}

/**
 * Appends pieces until the bound; a piece (a character or a whole escape) is never cut.
 * add() returns false once over the bound, so callers stop walking long inputs early.
 */
class BoundedLine {
  private readonly pieces: string[] = [];
  private length = 0;
  private over = false;
  /** The last few characters shown as themselves, to spot `##[` and `##vso[`. */
  private tail = '';
  constructor(private readonly maxChars: number) {}

  add(shown: string): boolean {
    let piece = shown;
    if (piece === '[' && CI_COMMAND_TAIL.test(this.tail)) piece = '\\x5b';
    this.tail = piece.length === 1 ? `${this.tail}${piece}`.slice(-12) : '';
    if (this.length + piece.length > this.maxChars) {
      this.over = true;
      return false;
    }
    this.pieces.push(piece);
    this.length += piece.length;
    return true;
  }

  result(): string {
    if (!this.over) return this.pieces.join('');
    // Cut back to whole pieces that leave room for the ellipsis.
    while (this.pieces.length > 0 && this.length + ELLIPSIS.length > this.maxChars) this.length -= (this.pieces.pop() as string).length;
    return `${this.pieces.join('')}${ELLIPSIS}`;
  }
}

/** Length of a well-formed UTF-8 sequence at `i`, or 0 when the byte there starts none. */
function utf8SequenceLength(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] as number;
  if (b0 < 0x80) return 1;
  let length: number;
  let min: number;
  if (b0 >= 0xc2 && b0 <= 0xdf) [length, min] = [2, 0x80];
  else if (b0 >= 0xe0 && b0 <= 0xef) [length, min] = [3, 0x800];
  else if (b0 >= 0xf0 && b0 <= 0xf4) [length, min] = [4, 0x10000];
  else return 0;
  if (i + length > bytes.length) return 0;
  let cp = b0 & (0xff >> (length + 1));
  for (let k = 1; k < length; k += 1) {
    const b = bytes[i + k] as number;
    if ((b & 0xc0) !== 0x80) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  // Overlong forms, UTF-16 surrogates and code points past U+10FFFF are not UTF-8.
  if (cp < min || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
  return length;
}

function codePointAt(bytes: Uint8Array, i: number, length: number): number {
  const b0 = bytes[i] as number;
  if (length === 1) return b0;
  let cp = b0 & (0xff >> (length + 1));
  for (let k = 1; k < length; k += 1) cp = (cp << 6) | ((bytes[i + k] as number) & 0x3f);
  return cp;
}

function snippetOfBytes(bytes: Uint8Array, line: BoundedLine): string {
  let i = 0;
  while (i < bytes.length) {
    const length = utf8SequenceLength(bytes, i);
    if (length === 0) {
      if (!line.add(`\\x${hex(bytes[i] as number, 2)}`)) break;
      i += 1;
      continue;
    }
    const cp = codePointAt(bytes, i, length);
    if (!line.add(isSafeCodePoint(cp) ? String.fromCodePoint(cp) : escapeCodePoint(cp))) break;
    i += length;
  }
  return line.result();
}

function snippetOfString(text: string, line: BoundedLine): string {
  // for…of walks code points, yielding a lone surrogate as itself.
  for (const char of text) {
    const cp = char.codePointAt(0) as number;
    if (!line.add(isSafeCodePoint(cp) ? char : escapeCodePoint(cp))) break;
  }
  return line.result();
}

/**
 * One line, at most `maxChars` characters (an ellipsis marks a cut), with every control
 * character, invalid UTF-8 byte and line-breaking or reordering character escaped.
 * Bytes are decoded as UTF-8 here, so invalid bytes show as `\xff` rather than U+FFFD.
 */
export function printableSnippet(input: string | Uint8Array, maxChars: number = SNIPPET_MAX_CHARS): string {
  const bound = Math.max(maxChars, ELLIPSIS.length + 4);
  if (typeof input === 'string') {
    if (input.length <= bound && PLAIN_ASCII.test(input) && !input.includes('##')) return input;
    return snippetOfString(input, new BoundedLine(bound));
  }
  return snippetOfBytes(input, new BoundedLine(bound));
}

/**
 * printableSnippet() for text that starts a line: when its first character past white space
 * is `:`, that colon is shown as `\x3a` (`::error::x` shows as `\x3a:error::x`), so the line
 * cannot be a `::command::` (GitHub's runner skips leading white space before looking).
 */
export function printableLine(input: string | Uint8Array, maxChars: number = SNIPPET_MAX_CHARS): string {
  const snippet = printableSnippet(input, maxChars);
  return snippet.replace(LINE_COMMAND_START, '$1\\x3a');
}

/** `"…"`: a printable snippet in double quotes, for messages that quote what they were given. */
export function quotedSnippet(input: string | Uint8Array, maxChars: number = SNIPPET_MAX_CHARS): string {
  return `"${printableSnippet(input, maxChars)}"`;
}

/** Whether a string is already what printableSnippet would show (nothing to escape). */
export function isPrintable(text: string): boolean {
  if (PLAIN_ASCII.test(text)) return true;
  for (const char of text) if (!isSafeCodePoint(char.codePointAt(0) as number)) return false;
  return true;
}
