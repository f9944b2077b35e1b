import type { ServerResponse } from 'node:http';
import { decodeBody, encodeBody, type CaptureRecord } from '../capture/record.js';
import { writeHar } from '../capture/har.js';
import type { WireRequest } from './wire.js';

/**
 * Answers the inspector's API gives the same way on listen and on the relay's channel
 * page: a request for the page (body preview), the exact body, a HAR export.
 */

/** The page gets at most this much of each body inline; the rest through the body endpoint. */
export const PREVIEW_BODY_BYTES = 256 * 1024;

/** What the page receives for one request: the record, with a bounded body preview. */
export function forPage(record: CaptureRecord): WireRequest {
  if (record.body.length <= PREVIEW_BODY_BYTES) return record;
  return { ...record, body: record.body.slice(0, PREVIEW_BODY_BYTES), bodyTruncated: true };
}

/**
 * The first `maxBytes` of a body, encoded as a record's body is; cut back to a character
 * boundary, so a UTF-8 body's preview is still text.
 */
export function bodyPreview(bytes: Buffer, maxBytes: number): Pick<WireRequest, 'body' | 'bodyEncoding' | 'bodySize' | 'bodyTruncated'> {
  if (bytes.length <= maxBytes) return encodeBody(bytes);
  let end = maxBytes;
  // UTF-8 continuation bytes are 10xxxxxx: never end in the middle of a character.
  while (end > maxBytes - 4 && end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return { ...encodeBody(bytes.subarray(0, end)), bodySize: bytes.length, bodyTruncated: true };
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers }).end(body);
}

/** The exact body bytes, as a download. */
export function sendBody(res: ServerResponse, record: CaptureRecord): void {
  const bytes = decodeBody(record);
  res.writeHead(200, {
    'content-type': 'application/octet-stream',
    'content-length': bytes.length,
    'content-disposition': `attachment; filename="${record.id.replace(/[^\w-]/g, '')}.body"`,
    'cache-control': 'no-store',
  }).end(bytes);
}

/** A HAR 1.2 document of the records, in the order given (`verify` reads it). */
export async function sendHar(res: ServerResponse, records: AsyncIterable<CaptureRecord> | Iterable<CaptureRecord>): Promise<void> {
  res.writeHead(200, {
    'content-type': 'application/json; charset=utf-8',
    'content-disposition': 'attachment; filename="fe-webhooks-inspector.har"',
    'cache-control': 'no-store',
  });
  const stream = (async function* () {
    yield* records;
  })();
  await writeHar(stream, (chunk) => writeOrWait(res, chunk), { name: 'fe-webhooks inspector', version: '1' });
  res.end();
}

/** Writes, waiting for the client to read when its buffer is full; a client that left stops the export. */
function writeOrWait(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed) return Promise.reject(new Error('the client went away'));
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      if (res.destroyed) reject(new Error('the client went away'));
      else resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/** The ids a HAR export asks for (`{"ids": [...]}`, at most `max`), or null when the body is not that. */
export function harIds(body: Buffer | null, max: number): string[] | null {
  if (body === null) return null;
  try {
    const { ids } = JSON.parse(body.toString('utf8')) as { ids?: unknown };
    return Array.isArray(ids) && ids.length <= max && ids.every((id) => typeof id === 'string') ? (ids as string[]) : null;
  } catch {
    return null;
  }
}
