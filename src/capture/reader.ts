import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { isBlankLine, lineBatches } from './lines.js';

export type JsonLine =
  | { lineNumber: number; ok: true; value: unknown; text: string }
  | { lineNumber: number; ok: false; error: string; text: string };

/**
 * Streams a JSON Lines source line by line; memory does not grow with the file. A line
 * that does not parse (say, a half-written last line) is reported, not thrown, and
 * reading goes on. Blank lines are skipped. The lines come from verify's splitter
 * (lines.ts), so a byte order mark and CRLF endings read the same here as in `verify`.
 */
export async function* readJsonLines(source: string | Readable): AsyncGenerator<JsonLine> {
  const input: AsyncIterable<Buffer | string> = typeof source === 'string' ? createReadStream(source) : source;
  for await (const { firstLine, lines } of lineBatches(input)) {
    for (let i = 0; i < lines.length; i++) {
      const text = lines[i] as string;
      if (isBlankLine(text)) continue;
      const lineNumber = firstLine + i;
      try {
        yield { lineNumber, ok: true, value: JSON.parse(text), text };
      } catch (error) {
        yield { lineNumber, ok: false, error: (error as Error).message, text };
      }
    }
  }
}
