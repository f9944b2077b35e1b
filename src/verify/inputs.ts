import { closeSync, createReadStream, openSync, readSync, type ReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';
import { harItems } from './har.js';
import { captureItems } from './jsonl.js';
import { BOM, lineBatches, type LineBatch } from './lines.js';
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
  /** The first line that is not blank, when it lies whole within the file's first HEAD_BYTES. */
  head: string | undefined;
}

/** Enough for the first record of a captures file (a record is about a kilobyte). */
const HEAD_BYTES = 64 * 1024;

/**
 * The first line of a file that is not blank (a byte order mark dropped, as lineBatches
 * does), if it ends within the first HEAD_BYTES: one small read instead of decoding and
 * splitting a whole first chunk, which on a large captures file the worker threads then
 * read again anyway.
 */
function headLine(full: string): string | undefined {
  const fd = openSync(full, 'r');
  try {
    const bytes = Buffer.allocUnsafe(HEAD_BYTES);
    const length = readSync(fd, bytes, 0, HEAD_BYTES, 0);
    const text = bytes.toString('utf8', 0, length);
    const lines = text.split('\n');
    // The last piece may be cut short (or the file may end without a newline): not whole.
    for (let i = 0; i < lines.length - 1; i++) {
      const line = i === 0 && text.charCodeAt(0) === BOM ? (lines[0] as string).slice(1) : (lines[i] as string);
      if (line.trim() !== '') return line;
    }
    return undefined;
  } finally {
    closeSync(fd);
  }
}


/** A first record that makes a file a captures file: an object with a string "body" and no HAR "log". */
function isCaptureRecord(first: unknown): boolean {
  return typeof first === 'object' && first !== null && !Array.isArray(first) && !('log' in first) && typeof (first as { body?: unknown }).body === 'string';
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

/** A captures file known by its first record: read from the start when its items are asked for. */
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
  let head: string | undefined;
  try {
    // Also surfaces open errors (permission denied) before any verdict is printed.
    head = headLine(full);
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

async function* prepend(first: LineBatch, rest: AsyncIterator<LineBatch>): AsyncGenerator<LineBatch> {
  yield first;
  for (;;) {
    const next = await rest.next();
    if (next.done) return;
    yield next.value;
  }
}

async function slurp(first: LineBatch, from: number, rest: AsyncIterator<LineBatch>): Promise<string> {
  const parts = [first.lines.slice(from).join('\n')];
  for (;;) {
    const next = await rest.next();
    if (next.done) break;
    parts.push(next.value.lines.join('\n'));
  }
  return parts.join('\n');
}

function neither(name: string, why: string): UserError {
  return new UserError(`${name} is neither a captures JSON Lines file nor a HAR 1.2 file: ${why}`);
}

function asHar(document: unknown, name: string): OpenedInput {
  try {
    const items = harItems(document, name);
    return { name, format: 'har', items: (async function* () { yield items; })(), close: () => undefined };
  } catch (error) {
    throw neither(name, errorMessage(error));
  }
}

function describeDocument(value: unknown): string {
  if (typeof value === 'object' && value !== null && 'event' in value && 'payload' in value) {
    return 'it is a single webhook body; verify it with --body FILE --signature SIG';
  }
  return 'its first record has no "body" (captures) and no "log" (HAR)';
}

/** Opens one input and tells captures JSON Lines from HAR by content, not by name. */
export async function openInput(spec: InputSpec, cwd: string): Promise<OpenedInput> {
  if (spec.kind === 'single') {
    const item: InputItem = { location: spec.name, signatures: [spec.signature], body: spec.body };
    return { name: spec.name, format: 'single', items: (async function* () { yield [item]; })(), close: () => undefined };
  }
  const name = spec.kind === 'file' ? spec.path : 'stdin';
  let opened: OpenedFile | undefined;
  let chunks: AsyncIterable<Buffer | string>;
  if (spec.kind === 'file') {
    opened = await openFile(spec.path, cwd);
    if (isCaptureRecordLine(opened.head)) return capturesFile(name, opened);
    chunks = opened.stream();
  } else chunks = spec.stream;
  const batches = lineBatches(chunks)[Symbol.asyncIterator]();
  const captures = (batch: LineBatch): OpenedInput => ({
    name,
    format: 'jsonl',
    items: captureItems(prepend(batch, batches), name),
    file: opened && { path: opened.path, bytes: opened.bytes },
    close: () => opened?.close(),
  });
  for (;;) {
    const next = await batches.next();
    if (next.done) throw new UserError(`${name} is empty: nothing to verify`);
    const batch = next.value;
    const index = batch.lines.findIndex((line) => line.trim() !== '');
    if (index === -1) continue;
    const firstLine = (batch.lines[index] as string).trim();
    let first: unknown;
    let parsed = true;
    try {
      first = JSON.parse(firstLine);
    } catch {
      parsed = false;
    }
    if (parsed && typeof first === 'object' && first !== null && !Array.isArray(first)) {
      if ('log' in first) return asHar(JSON.parse(await slurp(batch, index, batches)), name);
      if (isCaptureRecord(first)) return captures(batch);
      throw neither(name, describeDocument(first));
    }
    if (parsed) throw neither(name, 'its first line is JSON but not an object');
    // A half-written first record is still a captures file; its verdict says what is wrong.
    if (LOOKS_LIKE_CAPTURE.test(firstLine)) return captures(batch);
    if (!firstLine.startsWith('{')) throw neither(name, 'line 1 is not JSON');
    // A pretty-printed document (HAR exports are): read it whole.
    const text = await slurp(batch, index, batches);
    let document: unknown;
    try {
      document = JSON.parse(text);
    } catch (error) {
      throw neither(name, `not JSON (${errorMessage(error)})`);
    }
    if (typeof document === 'object' && document !== null && 'log' in document) return asHar(document, name);
    throw neither(name, describeDocument(document));
  }
}
