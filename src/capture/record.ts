import { isUtf8 } from 'node:buffer';
import { pooledRandomHex } from '../util/random-pool.js';

/** Header names lower-cased; a header sent more than once keeps every value, in order. */
export type CapturedHeaders = Record<string, string | string[]>;

export type SignatureVerdict = 'valid' | 'invalid' | 'unsigned' | 'unchecked';

export interface ForwardResult {
  target: string;
  /** The app's status; absent when it never answered. */
  status?: number;
  latencyMs: number;
  /** Why there is no answer: refused, timeout, ... */
  error?: string;
  /** What the app answered, bounded: its headers and the first bytes of its body (the inspector shows them). */
  answer?: AnswerExcerpt;
}

/** The start of the app's answer, kept with the capture so the inspector can show it. */
export interface AnswerExcerpt {
  headers: CapturedHeaders;
  /** The first ANSWER_EXCERPT_BYTES of the body: text when valid UTF-8, else base64. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  /** The whole body's size in bytes. */
  bodySize: number;
}

/** How much of the app's answer body a capture keeps. */
export const ANSWER_EXCERPT_BYTES = 1024;

/** The app's answer as an excerpt: all its headers, the first ANSWER_EXCERPT_BYTES of its body. */
export function answerExcerpt(rawHeaders: readonly string[], body: Buffer): AnswerExcerpt {
  const start = body.length > ANSWER_EXCERPT_BYTES ? body.subarray(0, ANSWER_EXCERPT_BYTES) : body;
  const encoded = encodeBody(start);
  return { headers: headersFromRaw(rawHeaders), body: encoded.body, bodyEncoding: encoded.bodyEncoding, bodySize: body.length };
}

/** One received request, one line of the captures file. */
export interface CaptureRecord {
  id: string;
  /** ISO 8601. */
  receivedAt: string;
  method: string;
  /** Path with query, as received. */
  path: string;
  headers: CapturedHeaders;
  /** The exact body: UTF-8 text when it is valid UTF-8, else base64. */
  body: string;
  bodyEncoding: 'utf8' | 'base64';
  bodySize: number;
  /** The body's `event` when it is a JSON object naming one. */
  event?: string;
  /** valid/invalid/unsigned, or unchecked when there was no secret to check with. */
  signature: SignatureVerdict;
  forward?: ForwardResult;
  /** The status the caller got back. */
  responseStatus?: number;
  /** Where it came in: the local endpoint, or the relay (with its sequence number). */
  source?: { kind: 'local' } | { kind: 'relay'; channel: string; seq: number };
  /**
   * The relay had sent this event to a listener before, on an earlier connection: the
   * app may have received it already (the earlier delivery may have no capture line,
   * when the listener was killed before writing it). Absent otherwise.
   */
  redelivery?: true;
  /** Set when the request was refused, e.g. over the body limit. */
  rejected?: string;
  /**
   * A relayed event stored while no listener was connected (answered 202) is retried by
   * the listener on FrontEngine's schedule: which attempt this was (1 = the first)...
   */
  attempt?: number;
  /** ...when the next one is due, if this one failed and one is left (ISO 8601)... */
  nextAttemptAt?: string;
  /** ...or true when this was the last attempt and it failed: the event is given up (replay it). */
  failed?: true;
}

/** The last millisecond an id was made for, and its id prefix: under load many share one. */
let idMs = Number.NaN;
let idPrefix = '';

/** Time-sortable unique id: milliseconds since the epoch, then 64 random bits. */
export function newCaptureId(now = Date.now()): string {
  if (now !== idMs) {
    idMs = now;
    idPrefix = `req_${now.toString(36).padStart(9, '0')}`;
  }
  return `${idPrefix}${pooledRandomHex(8)}`;
}

/** Encodes exact bytes for a record: text when valid UTF-8 (round-trips exactly), else base64. */
export function encodeBody(bytes: Buffer): Pick<CaptureRecord, 'body' | 'bodyEncoding' | 'bodySize'> {
  // Strictly valid UTF-8 decodes without U+FFFD replacements, so the text round-trips exactly.
  if (isUtf8(bytes)) return { body: bytes.toString('utf8'), bodyEncoding: 'utf8', bodySize: bytes.length };
  return { body: bytes.toString('base64'), bodyEncoding: 'base64', bodySize: bytes.length };
}

/** The exact bytes a record holds. */
export function decodeBody(record: Pick<CaptureRecord, 'body' | 'bodyEncoding'>): Buffer {
  return Buffer.from(record.body, record.bodyEncoding === 'base64' ? 'base64' : 'utf8');
}

/** One header's value (the first, when repeated), by case-insensitive name. */
export function headerValue(headers: CapturedHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Node's `rawHeaders` ([name, value, name, value, ...]) as captured headers. */
export function headersFromRaw(rawHeaders: readonly string[]): CapturedHeaders {
  const headers: CapturedHeaders = {};
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const value = rawHeaders[i + 1] as string;
    const existing = headers[name];
    if (existing === undefined) headers[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else headers[name] = [existing, value];
  }
  return headers;
}
