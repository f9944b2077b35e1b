import type { IncomingMessage } from 'node:http';
import { request } from 'undici';
import { encodeBody, type CaptureRecord } from '../capture/record.js';
import { composeBody } from '../events/compose.js';
import { findEventName } from '../events/names.js';
import { validateEvent } from '../events/validate.js';
import { SIGNATURE_HEADER, sign } from '../signing/index.js';
import type { WireCheck, WireSendResult } from './wire.js';

const SIGNATURE_NAME = SIGNATURE_HEADER.toLowerCase();
/** How long a test event may take to be captured and answered. */
const TEST_EVENT_TIMEOUT_MS = 15_000;

/** The schema verdict of a captured body: the checks `verify` runs on it (validateEvent). */
export function schemaCheck(bytes: Buffer): WireCheck {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch {
    return { json: false, violations: [] };
  }
  const { event, violations } = validateEvent(parsed);
  return event === undefined ? { json: true, violations } : { json: true, event, violations };
}

/**
 * A captured request with another body, signed with `secret`: the original headers,
 * except the signature (new) and the length (the new body's own, set by the sender).
 */
export function resignedCopy(record: CaptureRecord, body: Buffer, secret: string): CaptureRecord {
  const headers: CaptureRecord['headers'] = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (name !== 'content-length' && name !== SIGNATURE_NAME) headers[name] = value;
  }
  headers[SIGNATURE_NAME] = sign(body, secret);
  return { ...record, headers, ...encodeBody(body) };
}

/**
 * The portal's Test button: a sample of `eventName`, signed with listen's secret (when it
 * has one), POSTed to listen's own capture URL, where it is captured like any request.
 */
export async function sendTestEvent(webhookUrl: string, eventName: string, secret: string | undefined): Promise<WireSendResult> {
  const event = findEventName(eventName);
  if (event === undefined) return { error: `unknown event "${eventName.slice(0, 80)}"` };
  const { body } = composeBody(event, { now: new Date() });
  const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': 'fe-webhooks inspector test event' };
  if (secret !== undefined) headers[SIGNATURE_NAME] = sign(body, secret);
  const started = performance.now();
  try {
    const res = await request(webhookUrl, {
      method: 'POST',
      body,
      headers,
      headersTimeout: TEST_EVENT_TIMEOUT_MS,
      bodyTimeout: TEST_EVENT_TIMEOUT_MS,
    });
    await res.body.dump();
    return { status: res.statusCode, latencyMs: Math.round(performance.now() - started) };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** A request body from the page, refused past `maxBytes` (null then). */
export async function readPageBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) {
      req.resume();
      return null;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
