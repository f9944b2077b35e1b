import { readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { CapturedHeaders } from '../capture/record.js';
import { DEFAULT_MAX_BODY_BYTES } from '../config/defaults.js';
import { errorMessage } from '../errors.js';
import { formatBytes } from '../util/units.js';
import type { HarStream } from './har-stream.js';
import type { AppAnswer, InputItem } from './types.js';

/**
 * HAR 1.2 (browser devtools, Playwright, ngrok's inspector, webhook.site exports): every
 * entry's request. HAR 1.2 has no encoding field on postData; some exporters add
 * `encoding` or `_encoding: "base64"` for binary bodies, and both are honoured.
 * Playwright's `content: "attach"` leaves `text` empty and names a file beside the HAR
 * in `_file`; its `content: "omit"` (and `"embed"` for an application/octet-stream
 * body) leaves the body out altogether.
 */

/** Where an entry's `_file` body is looked for: the HAR's folder (none for stdin). */
export interface HarPlace {
  dir?: string;
}

/** Entries handed on together: the report is written once per batch. */
const BATCH_ENTRIES = 512;

/** The entries of a HAR as requests, read one at a time, in batches. */
export async function* harItems(stream: HarStream, name: string, place: HarPlace): AsyncGenerator<InputItem[]> {
  let batch: InputItem[] = [];
  let index = 0;
  for await (const entry of stream.entries()) {
    index++;
    const location = `${name}#${index}`;
    if (entry.error !== undefined) batch.push({ location, unreadable: `HAR entry not readable: ${entry.error}` });
    else batch.push(harTextToItem(entry.text, location, place));
    if (batch.length >= BATCH_ENTRIES) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

function harTextToItem(text: string, location: string, place: HarPlace): InputItem {
  let entry: unknown;
  try {
    entry = JSON.parse(text);
  } catch (error) {
    return { location, unreadable: `HAR entry is not JSON (${errorMessage(error)})` };
  }
  return harEntryToItem(entry, location, place);
}

interface HarHeader {
  name?: unknown;
  value?: unknown;
}

/** A body, or why there is none to check. */
type HarBody = { body: string | Buffer } | { missing: string } | { unreadable: string };

const LEFT_OUT = 'the HAR does not include the body';

function harEntryToItem(entry: unknown, location: string, place: HarPlace): InputItem {
  const e = (typeof entry === 'object' && entry !== null ? entry : {}) as Record<string, unknown>;
  const request = e.request as Record<string, unknown> | undefined;
  if (typeof request !== 'object' || request === null) return { location, unreadable: 'HAR entry without a request' };
  const id = typeof e._id === 'string' ? e._id : undefined;
  const method = typeof request.method === 'string' ? request.method.toUpperCase() : undefined;
  const headers = Array.isArray(request.headers) ? (request.headers as HarHeader[]) : [];
  const captured: CapturedHeaders = {};
  for (const h of headers) {
    if (typeof h?.name !== 'string' || typeof h.value !== 'string' || h.name.startsWith(':')) continue;
    const name = h.name.toLowerCase();
    const existing = captured[name];
    captured[name] = existing === undefined ? h.value : [...(Array.isArray(existing) ? existing : [existing]), h.value];
  }
  const signature = captured['x-webhook-signature'];
  const signatures = signature === undefined ? [] : Array.isArray(signature) ? signature : [signature];
  const path = typeof request.url === 'string' ? pathOf(request.url) : undefined;
  const receivedAt = typeof e.startedDateTime === 'string' ? e.startedDateTime : undefined;
  // `_rejected` / `_event` / `_forward`: what `fe-webhooks listen` adds when it exports captures as HAR.
  const rejected = typeof e._rejected === 'string' ? e._rejected : undefined;
  const event = typeof e._event === 'string' ? e._event : undefined;
  const forward = typeof e._forward === 'object' && e._forward !== null ? (e._forward as AppAnswer) : undefined;
  // A GET has no body and is skipped by method.
  if (method !== 'POST') return { location, id, method, headers: captured, path, signatures, body: '', receivedAt };
  const found = harBody(request, place);
  if ('unreadable' in found) return { location, id, unreadable: found.unreadable };
  const body = 'body' in found ? found.body : '';
  const bodyMissing = 'missing' in found ? found.missing : undefined;
  return { location, id, method, headers: captured, path, signatures, body, receivedAt, rejected, event, forward, bodyMissing };
}

function harBody(request: Record<string, unknown>, place: HarPlace): HarBody {
  const postData = (typeof request.postData === 'object' && request.postData !== null ? request.postData : undefined) as
    Record<string, unknown> | undefined;
  if (typeof postData?._file === 'string' && postData._file !== '') return fileBody(postData._file, place);
  const text = postData?.text;
  // The declared size tells an empty body from one the exporter left out.
  const declaredEmpty = request.bodySize === 0;
  if (typeof text === 'string' && (text !== '' || declaredEmpty)) {
    const encoding = postData?.encoding ?? postData?._encoding;
    return { body: encoding === 'base64' ? Buffer.from(text, 'base64') : text };
  }
  if (declaredEmpty) return { body: '' };
  const size = typeof request.bodySize === 'number' && request.bodySize > 0 ? ` of ${request.bodySize} bytes` : '';
  return {
    missing: postData
      ? `${LEFT_OUT}${size}: its postData.text is empty and names no _file (saved with Playwright's content "omit", or a binary body ` +
        `left out); record it with content "attach" or "embed"`
      : `${LEFT_OUT}${size}: the POST has no postData (the exporter left the body out)`,
  };
}

/**
 * A body saved beside the HAR (`_file`, relative to its folder). A name that leads out of
 * the folder is refused, as Playwright refuses it: a HAR from elsewhere must not make
 * verify or replay read, or send, any file it likes.
 */
function fileBody(file: string, place: HarPlace): HarBody {
  if (place.dir === undefined)
    return {
      unreadable: `postData._file ${quoted(file)}: a HAR read from stdin has no folder to find its body files in; give the HAR's path`,
    };
  const full = path.resolve(place.dir, file);
  try {
    if (!isInside(place.dir, full) || !isInside(realpathSync(place.dir), realpathSync(full))) {
      return { unreadable: `postData._file ${quoted(file)} leads out of the HAR's folder: refused` };
    }
    const info = statSync(full);
    if (!info.isFile()) return { missing: `${LEFT_OUT}: its body file ${quoted(file)} is not a file` };
    if (info.size > DEFAULT_MAX_BODY_BYTES)
      return { unreadable: `postData._file ${quoted(file)} is over ${formatBytes(DEFAULT_MAX_BODY_BYTES)}: not a webhook body` };
    return { body: readFileSync(full) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { missing: `${LEFT_OUT}: its body file ${quoted(file)} is not beside the HAR` };
    return { missing: `${LEFT_OUT}: its body file ${quoted(file)} cannot be read (${errorMessage(error)})` };
  }
}

/** A name from the HAR, quoted and with control characters escaped: it is outside text. */
function quoted(name: string): string {
  return JSON.stringify(name);
}

function isInside(dir: string, full: string): boolean {
  const relative = path.relative(dir, full);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative);
}

function pathOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}
