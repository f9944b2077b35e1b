import { createReadStream } from 'node:fs';

export interface FileLine {
  /** The line without its newline. */
  text: string;
  /** Byte offset just after this line's newline. */
  end: number;
}

const NEWLINE = 0x0a;
/** Longer than any line the relay writes (a 25 MiB body as base64 plus headers) with room to spare. */
export const MAX_LINE_BYTES = 256 * 1024 * 1024;

/**
 * Streams the complete lines of a file (those ending in a newline), with byte offsets
 * so a torn last line can be cut off. Memory holds one chunk and one line at most.
 * A trailing fragment without its newline is not yielded, and reading stops at a
 * "line" longer than `maxLineBytes` (a damaged file must not take all memory).
 */
export async function* readCompleteLines(file: string, maxLineBytes = MAX_LINE_BYTES): AsyncGenerator<FileLine> {
  let carry: Buffer[] = [];
  let carried = 0;
  let offset = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    let start = 0;
    let index = chunk.indexOf(NEWLINE, start);
    while (index !== -1) {
      const piece = chunk.subarray(start, index);
      const line = carry.length > 0 ? Buffer.concat([...carry, piece]) : piece;
      carry = [];
      carried = 0;
      offset += line.length + 1;
      yield { text: line.toString('utf8'), end: offset };
      start = index + 1;
      index = chunk.indexOf(NEWLINE, start);
    }
    if (start < chunk.length) {
      carry.push(chunk.subarray(start));
      carried += chunk.length - start;
      if (carried > maxLineBytes) return;
    }
  }
}
