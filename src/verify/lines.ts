/**
 * A line splitter for large JSON Lines files. readline's per-line events cost more than
 * the checks themselves on a 100,000-line captures file; this decodes each chunk once,
 * splits it with String#split, and hands out whole batches. Memory holds one chunk
 * plus the unfinished last line, whatever the file size.
 */
export interface LineBatch {
  /** 1-based number of lines[0] in the source. */
  firstLine: number;
  lines: string[];
}

const NEWLINE = 0x0a;

export async function* lineBatches(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<LineBatch> {
  let carry: Buffer | undefined;
  let nextLine = 1;
  for await (const raw of chunks) {
    const chunk = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
    const lastNewline = chunk.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      carry = carry ? Buffer.concat([carry, chunk]) : chunk;
      continue;
    }
    // Decode up to the last newline only: a multi-byte character split across chunks
    // stays whole in the carry.
    const complete = carry ? Buffer.concat([carry, chunk.subarray(0, lastNewline)]) : chunk.subarray(0, lastNewline);
    carry = lastNewline + 1 < chunk.length ? Buffer.from(chunk.subarray(lastNewline + 1)) : undefined;
    const lines = complete.toString('utf8').split('\n');
    yield { firstLine: nextLine, lines };
    nextLine += lines.length;
  }
  // A last line without its newline: often half-written; the caller judges it.
  if (carry && carry.length > 0) yield { firstLine: nextLine, lines: [carry.toString('utf8')] };
}
