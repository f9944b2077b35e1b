import type { CapturedHeaders } from '../capture/record.js';
import type { InputItem } from './types.js';

/**
 * HAR 1.2 (browser devtools, ngrok's inspector, webhook.site exports): every entry's
 * request. HAR 1.2 has no encoding field on postData; some exporters add `encoding` or
 * `_encoding: "base64"` for binary bodies, and both are honoured.
 */
export function harItems(document: unknown, name: string): InputItem[] {
  const entries = (document as { log?: { entries?: unknown } } | null)?.log?.entries;
  if (!Array.isArray(entries)) throw new Error('no log.entries array');
  return entries.map((entry, index) => harEntryToItem(entry, `${name}#${index + 1}`));
}

interface HarHeader {
  name?: unknown;
  value?: unknown;
}

function harEntryToItem(entry: unknown, location: string): InputItem {
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
  const postData = request.postData as Record<string, unknown> | undefined;
  if (typeof postData?.text !== 'string') {
    // A GET has no body and is skipped by method; a POST without one is a failed verdict.
    if (method !== 'POST') return { location, id, method, headers: captured, path, signatures, body: '', receivedAt };
    return { location, id, unreadable: 'POST without postData.text (the exporter left the body out)' };
  }
  const encoding = postData.encoding ?? postData._encoding;
  const body = encoding === 'base64' ? Buffer.from(postData.text, 'base64') : postData.text;
  // `_rejected` / `_event`: what `fe-webhooks listen` adds when it exports captures as HAR.
  const rejected = typeof e._rejected === 'string' ? e._rejected : undefined;
  const event = typeof e._event === 'string' ? e._event : undefined;
  return { location, id, method, headers: captured, path, signatures, body, receivedAt, rejected, event };
}

function pathOf(url: string): string | undefined {
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return undefined;
  }
}
