import { closeSync, createReadStream, openSync, readSync, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';
import { harItems, type HarPlace } from './har.js';
import { HarStream, HarSyntaxError } from './har-stream.js';
import { captureItems } from './jsonl.js';
import { BOM, lineBatches } from '../capture/lines.js';
import type { InputItem } from './types.js';

export type InputSpec =
  | { kind: 'file'; path: string }
  | { kind: 'stdin'; stream: AsyncIterable<Buffer | string> }
  | { kind: 'single'; name: string; body: Buffer; signature: string };

export type InputFormat = 'jsonl' | 'har' | 'single';

export interface OpenedInput {
  name: string;
  format: InputFormat;
  /** Batches of requests, each read lazily. */
  items: AsyncIterable<Iterable<InputItem>>;
  /** A captures file's full path and size, for reading it afresh in pieces instead of `items`. */
  file?: { path: string; bytes: number };
  /** Stops reading `items` (when the file is read afresh instead). */
  close(): void;
}

/** Big reads: fewer chunks means fewer decode/split rounds on a large captures file. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** A first line a capture record would start with, even when it is cut short. */
const LOOKS_LIKE_CAPTURE = /^\s*\{\s*"(id|receivedAt|method|path|headers|body|bodyEncoding)"\s*:/;

interface OpenedFile {
  /** The file's content, read from the start (made on first call). */
  stream(): ReadStream;
  /** Stops reading it, if it was read. */
  close(): void;
  path: string;
  bytes: number;
  /** The file's first HEAD_BYTES (fewer when it is shorter). */
  head: Head;
}

/** The start of an input, for telling its format: its text, and whether that is all of it. */
interface Head {
  text: string;
  whole: boolean;
}

/** Enough for the first record of a captures file (a record is about a kilobyte). */
const HEAD_BYTES = 64 * 1024;

/**
 * A file's first HEAD_BYTES: one small read instead of decoding and splitting a whole
 * first chunk, which on a large captures file the worker threads then read again anyway.
 */
function fileHead(full: string): Head {
  const fd = openSync(full, 'r');
  try {
    const bytes = Buffer.allocUnsafe(HEAD_BYTES);
    const length = readSync(fd, bytes, 0, HEAD_BYTES, 0);
    return { text: bytes.toString('utf8', 0, length), whole: length < HEAD_BYTES };
  } finally {
    closeSync(fd);
  }
}

/**
 * The first line of an input that is not blank (a byte order mark dropped, as
 * lineBatches does), and whether it lies whole within the head; undefined when the head
 * is blank.
 */
function firstLine(head: Head): { line: string; whole: boolean } | undefined {
  const { text } = head;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i === 0 && text.charCodeAt(0) === BOM ? (lines[0] as string).slice(1) : (lines[i] as string);
    // The last piece may be cut short (unless the head is the whole input).
    const whole = i < lines.length - 1 || head.whole;
    if (line.trim() !== '') return { line, whole };
  }
  return undefined;
}

/** A first record that makes a file a captures file: an object with a string "body" and no HAR "log". */
function isCaptureRecord(first: unknown): boolean {
  return (
    typeof first === 'object' &&
    first !== null &&
    !Array.isArray(first) &&
    !('log' in first) &&
    typeof (first as { body?: unknown }).body === 'string'
  );
}

/** isCaptureRecord for a line of text (false for anything else: the full detection then decides). */
function isCaptureRecordLine(line: string | undefined): boolean {
  if (line === undefined || !line.trimStart().startsWith('{')) return false;
  try {
    return isCaptureRecord(JSON.parse(line));
  } catch {
    return false;
  }
}

/** What `open` gives, opened only once it is iterated. */
async function* lazily<T>(open: () => AsyncIterable<T>): AsyncGenerator<T> {
  yield* open();
}

/** A captures file: read from the start when its items are asked for. */
function capturesFile(name: string, opened: OpenedFile): OpenedInput {
  return {
    name,
    format: 'jsonl',
    items: captureItems(lineBatches(lazily(() => opened.stream())), name),
    file: { path: opened.path, bytes: opened.bytes },
    close: () => opened.close(),
  };
}

async function openFile(file: string, cwd: string): Promise<OpenedFile> {
  const full = path.resolve(cwd, file);
  let bytes: number;
  try {
    const info = await stat(full);
    bytes = info.size;
    if (info.isDirectory()) throw new UserError(`Cannot read ${file}: it is a directory (give the captures file inside it)`);
  } catch (error) {
    if (error instanceof UserError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new UserError(`Cannot read ${file}: no such file`);
    throw new UserError(`Cannot read ${file}: ${errorMessage(error)}`);
  }
  let head: Head;
  try {
    // Also surfaces open errors (permission denied) before any verdict is printed.
    head = fileHead(full);
  } catch (error) {
    throw new UserError(`Cannot read ${file}: ${errorMessage(error)}`);
  }
  let stream: ReadStream | undefined;
  return {
    path: full,
    bytes,
    head,
    stream: () => (stream ??= createReadStream(full, { highWaterMark: READ_CHUNK_BYTES })),
    close: () => stream?.destroy(),
  };
}

/** stdin's first HEAD_BYTES or all of it, and the rest, to be read after the head again. */
async function streamHead(chunks: AsyncIterable<Buffer | string>): Promise<{ head: Head; all: AsyncIterable<Buffer> }> {
  const iterator = chunks[Symbol.asyncIterator]();
  const read: Buffer[] = [];
  let length = 0;
  let whole = false;
  while (length < HEAD_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      whole = true;
      break;
    }
    const chunk = typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    read.push(chunk);
    length += chunk.length;
    // A first line that is whole decides the format: a stdin that stays open (a pipe from a
    // running listen) gets its verdicts as records arrive, not after 64 KiB or its end.
    if (chunk.includes(0x0a) && firstLine({ text: Buffer.concat(read).toString('utf8'), whole: false })?.whole) break;
  }
  const bytes = Buffer.concat(read);
  async function* all(): AsyncGenerator<Buffer> {
    if (bytes.length > 0) yield bytes;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield typeof next.value === 'string' ? Buffer.from(next.value, 'utf8') : next.value;
    }
  }
  // A multi-byte character cut at the end of the head shows as U+FFFD: only the end, never the first line's start.
  return { head: { text: bytes.toString('utf8'), whole }, all: all() };
}

function neither(name: string, why: string): UserError {
  return new UserError(`${name} is neither a captures JSON Lines file nor a HAR 1.2 file: ${why}`);
}

function describeKeys(keys: readonly string[]): string {
  if (keys.includes('event') && keys.includes('payload')) return 'it is a single webhook body; verify it with --body FILE --signature SIG';
  return 'its first record has no "body" (captures) and no "log" (HAR)';
}

const ZIP_MAGIC = 'PK\u0003\u0004';

/** How an input's head says to read it. */
function formatOf(name: string, head: Head): 'jsonl' | 'har' {
  // Playwright saves `recordHar: { path: 'x.zip' }` as a zip of the HAR and its bodies.
  if (head.text.startsWith(ZIP_MAGIC))
    throw neither(name, 'it is a zip archive (Playwright zips a HAR saved as .zip): unzip it and give the .har inside');
  const first = firstLine(head);
  if (first === undefined) {
    if (head.whole) throw new UserError(`${name} is empty: nothing to verify`);
    throw neither(name, `its first ${HEAD_BYTES / 1024} KiB are blank`);
  }
  const line = first.line.trim();
  if (first.whole) {
    let parsed: unknown;
    let isJson = true;
    try {
      parsed = JSON.parse(line);
    } catch {
      isJson = false;
    }
    if (isJson) {
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
        throw neither(name, 'its first line is JSON but not an object');
      if ('log' in parsed) return 'har';
      if (isCaptureRecord(parsed)) return 'jsonl';
      throw neither(name, describeKeys(Object.keys(parsed)));
    }
  }
  // A half-written first record (or one longer than the head) is still a captures file;
  // its verdict says what is wrong.
  if (LOOKS_LIKE_CAPTURE.test(line)) return 'jsonl';
  if (!line.startsWith('{')) throw neither(name, 'line 1 is not JSON');
  // A document over several lines (HAR exports are pretty-printed), or one long line.
  return 'har';
}

/**
 * A HAR, streamed: read up to its first entry now, so a document that is none is an input
 * error. 'records' when it turned out to start with a record that has a "body" and no
 * "log" (a captures file whose first line is longer than the head and starts unusually).
 */
async function harInput(name: string, chunks: AsyncIterable<Buffer>, place: HarPlace, close: () => void): Promise<OpenedInput | 'records'> {
  const stream = new HarStream(chunks[Symbol.asyncIterator]());
  let found: Awaited<ReturnType<HarStream['open']>>;
  try {
    found = await stream.open();
  } catch (error) {
    close();
    if (error instanceof HarSyntaxError) throw neither(name, `not JSON (${error.message})`);
    throw new UserError(`Cannot read ${name}: ${errorMessage(error)}`);
  }
  if (found !== 'entries') {
    close();
    if (found === 'no-log' && stream.topKeys.includes('body')) return 'records';
    throw neither(name, found === 'no-entries' ? 'no log.entries array' : describeKeys(stream.topKeys));
  }
  // Closed once the entries are read: what follows the array is not needed.
  const items = (async function* () {
    try {
      yield* harItems(stream, name, place);
    } finally {
      close();
    }
  })();
  return { name, format: 'har', items, close };
}

/** Opens one input and tells captures JSON Lines from HAR by content, not by name. */
export async function openInput(spec: InputSpec, cwd: string): Promise<OpenedInput> {
  if (spec.kind === 'single') {
    const item: InputItem = { location: spec.name, signatures: [spec.signature], body: spec.body };
    return { name: spec.name, format: 'single', items: (async function* () { yield [item]; })(), close: () => undefined };
  }
  if (spec.kind === 'file') {
    const opened = await openFile(spec.path, cwd);
    const name = spec.path;
    // The usual case, told at once: a captures file, its first record whole in the head.
    const first = firstLine(opened.head);
    if (first?.whole && isCaptureRecordLine(first.line)) return capturesFile(name, opened);
    if (formatOf(name, opened.head) === 'jsonl') return capturesFile(name, opened);
    const har = await harInput(name, lazily(() => opened.stream()), { dir: path.dirname(opened.path) }, () => opened.close());
    // Read again from the start, as the captures file it is.
    return har === 'records' ? capturesFile(name, await openFile(spec.path, cwd)) : har;
  }
  const { head, all } = await streamHead(spec.stream);
  if (formatOf('stdin', head) === 'jsonl')
    return { name: 'stdin', format: 'jsonl', items: captureItems(lineBatches(all), 'stdin'), close: () => undefined };
  const har = await harInput('stdin', all, {}, () => undefined);
  if (har === 'records') throw neither('stdin', 'its first record is longer than 64 KiB and does not start as a capture does');
  return har;
}
