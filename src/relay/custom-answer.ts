import type { ServerResponse } from 'node:http';

/**
 * A channel's own answer while no listener is connected, as webhook.site lets one set:
 * status, content type, body and a delay. The event is stored first either way; this is
 * only what the sender hears (the default stays `202 {"queued": true}`).
 */
export interface CustomAnswer {
  status: number;
  contentType: string;
  body: string;
  delayMs: number;
}

export const MAX_CUSTOM_DELAY_MS = 10_000;
export const MAX_CUSTOM_BODY_BYTES = 64 * 1024;
const CONTENT_TYPE = /^[\x21-\x7e][\x20-\x7e]{0,199}$/;

/** A custom answer from JSON (the page's or the CLI's), or why it is not one. */
export function parseCustomAnswer(text: string): CustomAnswer | string {
  let value: Partial<Record<keyof CustomAnswer, unknown>>;
  try {
    value = JSON.parse(text) as typeof value;
  } catch {
    return 'expected a JSON object {"status", "contentType", "body", "delayMs"}';
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return 'expected a JSON object {"status", "contentType", "body", "delayMs"}';
  const status = value.status ?? 202;
  const delayMs = value.delayMs ?? 0;
  const contentType = value.contentType ?? 'application/json';
  const body = value.body ?? '';
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 200 || status > 599)
    return 'status must be a whole number from 200 to 599';
  if (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_CUSTOM_DELAY_MS)
    return `delayMs must be a whole number from 0 to ${MAX_CUSTOM_DELAY_MS}`;
  if (typeof contentType !== 'string' || !CONTENT_TYPE.test(contentType))
    return 'contentType must be printable ASCII, at most 200 characters';
  if (typeof body !== 'string' || Buffer.byteLength(body) > MAX_CUSTOM_BODY_BYTES)
    return `body must be a string of at most ${MAX_CUSTOM_BODY_BYTES} bytes`;
  return { status, contentType, body, delayMs };
}

/** The answer to a stored event nobody is listening for: the channel's custom one, else 202 queued. */
export async function answerQueued(res: ServerResponse, seq: number, custom: CustomAnswer | undefined): Promise<void> {
  if (custom === undefined) {
    const body = JSON.stringify({ queued: true, seq });
    res
      .writeHead(202, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-fe-webhooks-seq': String(seq) })
      .end(body);
    return;
  }
  if (custom.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, custom.delayMs));
  if (res.destroyed) return;
  res
    .writeHead(custom.status, {
      'content-type': custom.contentType,
      'content-length': Buffer.byteLength(custom.body),
      'x-fe-webhooks-seq': String(seq),
    })
    .end(custom.body);
}
