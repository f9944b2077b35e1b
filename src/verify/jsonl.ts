import type { CapturedHeaders } from '../capture/record.js';
import { isBlankLine, type LineBatch } from '../capture/lines.js';
import type { AppAnswer, InputItem } from './types.js';

const SIGNATURE_HEADER_KEY = 'x-webhook-signature';

function signaturesOf(headers: unknown): string[] {
  if (typeof headers !== 'object' || headers === null) return [];
  const captured = headers as CapturedHeaders;
  const value = captured[SIGNATURE_HEADER_KEY];
  // listen writes lower-case names; a capture file from elsewhere may not. The names are
  // compared case-insensitively only when the usual key is missing (the hot path pays nothing).
  if (value === undefined) return signaturesByAnyCase(captured);
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

/** Every X-Webhook-Signature value under any spelling of the name, in order. */
function signaturesByAnyCase(headers: CapturedHeaders): string[] {
  const found: string[] = [];
  for (const name of Object.keys(headers)) {
    if (name.length !== SIGNATURE_HEADER_KEY.length || name.toLowerCase() !== SIGNATURE_HEADER_KEY) continue;
    const value = headers[name];
    if (typeof value === 'string') found.push(value);
    else if (Array.isArray(value)) found.push(...value.filter((v): v is string => typeof v === 'string'));
  }
  return found;
}

/** One line of a captures file (a `CaptureRecord`, as `listen` writes it) as a request. */
export function captureLineToItem(text: string, location: string): InputItem {
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (error) {
    return { location, unreadable: `not JSON (${(error as Error).message}); a half-written line?` };
  }
  if (typeof record !== 'object' || record === null || Array.isArray(record)) {
    return { location, unreadable: 'not a capture record: expected a JSON object' };
  }
  const r = record as Record<string, unknown>;
  const id = typeof r.id === 'string' ? r.id : undefined;
  if (typeof r.body !== 'string') return { location, id, unreadable: 'not a capture record: no "body" text' };
  const encoding = r.bodyEncoding ?? 'utf8';
  if (encoding !== 'utf8' && encoding !== 'base64') {
    return { location, id, unreadable: `unknown bodyEncoding ${JSON.stringify(encoding)}` };
  }
  return {
    location,
    id,
    method: typeof r.method === 'string' ? r.method : undefined,
    headers: typeof r.headers === 'object' && r.headers !== null ? (r.headers as CapturedHeaders) : undefined,
    path: typeof r.path === 'string' ? r.path : undefined,
    event: typeof r.event === 'string' ? r.event : undefined,
    signatures: signaturesOf(r.headers),
    body: encoding === 'base64' ? Buffer.from(r.body, 'base64') : r.body,
    receivedAt: typeof r.receivedAt === 'string' ? r.receivedAt : undefined,
    rejected: typeof r.rejected === 'string' ? r.rejected : undefined,
    forward: typeof r.forward === 'object' && r.forward !== null ? (r.forward as AppAnswer) : undefined,
    bodyMissing: undefined,
    redelivery: r.redelivery === true,
  };
}

/**
 * Turns line batches of a captures file into requests; blank lines are skipped. Each
 * batch is read lazily, one record at a time: materialising a thousand parsed records
 * per batch kept them alive long enough to be promoted, and the old-generation GC
 * then cost more than parsing them.
 */
export async function* captureItems(batches: AsyncIterable<LineBatch>, name: string): AsyncGenerator<Iterable<InputItem>> {
  for await (const batch of batches) yield batchItems(batch, name);
}

function* batchItems(batch: LineBatch, name: string): Generator<InputItem> {
  const { lines, firstLine } = batch;
  for (let i = 0; i < lines.length; i++) {
    const text = lines[i] as string;
    if (isBlankLine(text)) continue;
    yield captureLineToItem(text, `${name}:${firstLine + i}`);
  }
}
