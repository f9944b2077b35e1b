/**
 * A line splitter for large JSON Lines files. readline's per-line events cost more than
 * the checks themselves on a 100,000-line captures file; this finds newlines in the
 * raw bytes and hands out whole batches. Each line is decoded on its own: one non-ASCII
 * line then does not make every string of its chunk a two-byte string (measured ~10x
 * slower to decode, and slower to parse and hash). Memory holds one chunk plus the
 * unfinished last line, whatever the file size.
 */
export interface LineBatch {
  /** 1-based number of lines[0] in the source. */
  firstLine: number;
  lines: string[];
}

const NEWLINE = 0x0a;
/** A byte order mark (some Windows tools write one), as a decoded character: not part of the first line. */
export const BOM = 0xfeff;
/** The same mark as the UTF-8 bytes at the start of a file, for code that reads raw bytes. */
export const BOM_BYTES: Readonly<Buffer> = Buffer.from(String.fromCharCode(BOM), 'utf8');

export async function* lineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<LineBatch> {
  let carry: Buffer | undefined;
  let nextLine = 1;
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const lines: string[] = [];
    let start = 0;
    let end = chunk.indexOf(NEWLINE);
    if (carry) {
      // Join only the carried piece and the rest of its line, not the whole chunk.
      if (end === -1) {
        carry = Buffer.concat([carry, chunk]);
        continue;
      }
      lines.push(Buffer.concat([carry, chunk.subarray(0, end)]).toString('utf8'));
      carry = undefined;
      start = end + 1;
      end = chunk.indexOf(NEWLINE, start);
    }
    for (; end !== -1; end = chunk.indexOf(NEWLINE, start)) {
      lines.push(chunk.toString('utf8', start, end));
      start = end + 1;
    }
    // Copied, so the big chunk it came from can be collected.
    if (start < chunk.length) carry = Buffer.from(chunk.subarray(start));
    // A byte order mark (some Windows tools write one) is not part of the first line.
    if (nextLine === 1 && lines.length > 0 && (lines[0] as string).charCodeAt(0) === BOM) lines[0] = (lines[0] as string).slice(1);
    if (lines.length > 0) {
      yield { firstLine: nextLine, lines };
      nextLine += lines.length;
    }
  }
  // A last line without its newline: often half-written; the caller judges it.
  if (carry && carry.length > 0) {
    const last = carry.toString('utf8');
    yield { firstLine: nextLine, lines: [nextLine === 1 && last.charCodeAt(0) === BOM ? last.slice(1) : last] };
  }
}

const OPEN_BRACE = 0x7b;

/** Empty or whitespace only; a record line (starting `{`) is told apart without trim()'s copy. */
export function isBlankLine(text: string): boolean {
  return text.charCodeAt(0) !== OPEN_BRACE && text.trim() === '';
}
