import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export type JsonLine =
  | { lineNumber: number; ok: true; value: unknown; text: string }
  | { lineNumber: number; ok: false; error: string; text: string };

/**
 * Streams a JSON Lines source line by line; memory does not grow with the file. A line
 * that does not parse (say, a half-written last line) is reported, not thrown, and
 * reading goes on. Blank lines are skipped.
 */
export async function* readJsonLines(source: string | Readable): AsyncGenerator<JsonLine> {
  const input = typeof source === 'string' ? createReadStream(source) : source;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  for await (const text of lines) {
    lineNumber++;
    if (text.trim() === '') continue;
    try {
      yield { lineNumber, ok: true, value: JSON.parse(text), text };
    } catch (error) {
      yield { lineNumber, ok: false, error: (error as Error).message, text };
    }
  }
}
