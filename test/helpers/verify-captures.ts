import { writeFile } from 'node:fs/promises';
import { composeBody } from '../../src/events/compose.js';
import type { EventName } from '../../src/events/types.js';
import { encodeBody, newCaptureId, type CaptureRecord } from '../../src/capture/record.js';
import { sign } from '../../src/signing/index.js';

export interface CaptureSpec {
  /** The exact body; or an event to generate one for. */
  body?: string | Buffer;
  event?: EventName;
  seed?: number;
  /** Sign with this secret; `null` sends no signature header; a `sha256=` string is used as is. */
  secret?: string | null;
  signature?: string;
  method?: string;
  receivedAt?: string;
  extra?: Partial<CaptureRecord>;
}

export function sampleBody(event: EventName, seed = 1, now = new Date()): string {
  return composeBody(event, { seed, now, compact: true }).body;
}

/** A capture record as `listen` writes it, built with the real record helpers. */
export function captureRecord(spec: CaptureSpec): CaptureRecord {
  const body = spec.body ?? sampleBody(spec.event ?? 'MessageSent', spec.seed);
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const headers: Record<string, string> = { 'content-type': 'application/json', 'content-length': String(bytes.length) };
  const signature = spec.signature ?? (spec.secret === null ? undefined : sign(bytes, spec.secret ?? 'test-secret'));
  if (signature !== undefined) headers['x-webhook-signature'] = signature;
  return {
    id: newCaptureId(),
    receivedAt: spec.receivedAt ?? new Date().toISOString(),
    method: spec.method ?? 'POST',
    path: '/webhooks',
    headers,
    ...encodeBody(bytes),
    signature: 'unchecked',
    ...spec.extra,
  };
}

export function capturesText(records: readonly CaptureRecord[]): string {
  return records.map((r) => `${JSON.stringify(r)}\n`).join('');
}

export async function writeCaptures(file: string, records: readonly CaptureRecord[], tail = ''): Promise<void> {
  await writeFile(file, capturesText(records) + tail);
}

/** A HAR 1.2 document with one entry per request. */
export function harDocument(entries: Array<{ method?: string; body?: string; headers?: Record<string, string>; encoding?: string; url?: string }>): unknown {
  return {
    log: {
      version: '1.2',
      creator: { name: 'test', version: '1' },
      entries: entries.map((e, i) => ({
        startedDateTime: new Date().toISOString(),
        time: 1,
        request: {
          method: e.method ?? 'POST',
          url: e.url ?? `https://hooks.example.com/webhooks?n=${i}`,
          httpVersion: 'HTTP/1.1',
          headers: Object.entries(e.headers ?? {}).map(([name, value]) => ({ name, value })),
          queryString: [],
          cookies: [],
          headersSize: -1,
          bodySize: e.body?.length ?? 0,
          ...(e.body !== undefined ? { postData: { mimeType: 'application/json', text: e.body, ...(e.encoding ? { encoding: e.encoding } : {}) } } : {}),
        },
        response: { status: 200, statusText: 'OK', httpVersion: 'HTTP/1.1', headers: [], cookies: [], content: { size: 0, mimeType: 'text/plain' }, redirectURL: '', headersSize: -1, bodySize: 0 },
        cache: {},
        timings: { send: 0, wait: 1, receive: 0 },
      })),
    },
  };
}
