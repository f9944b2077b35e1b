// fs.promises, not node:fs/promises: a getter that loads the promises API (~3% of bare
// Node's start-up) only when a file is read, not whenever a command that may read one starts.
import { promises as fs } from 'node:fs';
import { UserError, errorMessage } from '../errors.js';
import { isJsonObject, nonFiniteNumberAt } from '../events/overrides.js';
import { BOM } from '../capture/lines.js';
import type { CliIO } from './io.js';

function describeReadError(file: string, error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `Cannot read ${file}: no such file`;
  if (code === 'EISDIR') return `Cannot read ${file}: it is a directory`;
  if (code === 'EACCES') return `Cannot read ${file}: permission denied`;
  return `Cannot read ${file}: ${errorMessage(error)}`;
}

/** The exact bytes of a file, or of stdin for `-`. */
export async function readBytes(file: string, io: CliIO): Promise<Buffer> {
  if (file === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    return Buffer.concat(chunks);
  }
  try {
    return await fs.readFile(file);
  } catch (error) {
    throw new UserError(describeReadError(file, error));
  }
}

/** A `--data partial.json` file: must hold one JSON object. */
export async function readJsonObjectFile(file: string, io: CliIO): Promise<Record<string, unknown>> {
  // A byte-order mark, as some Windows editors save JSON, is not part of the document (RFC 8259 §8.1).
  const decoded = (await readBytes(file, io)).toString('utf8');
  const text = decoded.charCodeAt(0) === BOM ? decoded.slice(1) : decoded;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UserError(`Invalid JSON in ${file}: ${errorMessage(error)}`);
  }
  if (!isJsonObject(value)) throw new UserError(`Invalid data in ${file}: expected a JSON object`);
  const overflow = nonFiniteNumberAt(value, '');
  if (overflow !== undefined)
    throw new UserError(`Invalid data in ${file}: the number at ${overflow} is too large for JSON (it would be sent as null)`);
  return value;
}
