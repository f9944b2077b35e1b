import {
  MAX_ACK_BODY_BYTES,
  PROTOCOL_VERSION,
  type AckMessage,
  type AcksMessage,
  type ErrorCode,
  type InvalidMessage,
  type ListenerMessage,
  type RelayMessage,
} from './messages.js';
import { eventMetaProblem, isSeq, MAX_RAW_HEADERS } from './event-meta.js';
import { decodeEventsFrame } from './events-frame.js';
import { decodeAcksFrame } from './acks-frame.js';
import { decodeOutcomes, decodeOutcomesNoted } from './outcomes.js';

/**
 * Validation on receipt. Frames come from the network: anything may arrive (wrong
 * types, huge numbers, missing fields, not JSON at all). These functions never throw;
 * they return the typed message or an InvalidMessage saying why.
 */

const ERROR_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'unauthorized',
  'version',
  'bad-message',
  'subscribe-timeout',
  'replaced',
  'unavailable',
]);

/** Channel ids and tokens are base64url; anything else is refused before it touches storage or paths. */
export const CHANNEL_ID_PATTERN = /^[A-Za-z0-9_-]{16,64}$/;
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,128}$/;
const BASE64_PATTERN = /^[A-Za-z0-9+/]*={0,2}$/;
/** A channel log's identity: base64url, as the relay makes it (log-identity.ts). */
export const LOG_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
/** An IPv4/IPv6 address and maybe a port: printed by the listener, so nothing else gets through. */
const ADDRESS_PATTERN = /^[0-9A-Fa-f.:[\]%a-z]{1,64}$/;
/** Acks in one `acks` frame (the listener sends far fewer: its delivery window). */
const MAX_ACKS_PER_FRAME = 10_000;

type Fields = Record<string, unknown>;

const isStatus = (value: unknown): value is number => Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 999;
const isLogId = (value: unknown): value is string => typeof value === 'string' && LOG_ID_PATTERN.test(value);
const isBase64 = (value: unknown): value is string => typeof value === 'string' && value.length % 4 === 0 && BASE64_PATTERN.test(value);

function invalid(why: string, code: ErrorCode = 'bad-message'): InvalidMessage {
  return { invalid: why, code };
}

function parseFrame(data: string | Buffer): Fields | InvalidMessage {
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : data.toString('utf8'));
  } catch {
    return invalid('not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('not a JSON object');
  const fields = value as Fields;
  if (fields.v !== PROTOCOL_VERSION) {
    return invalid(`protocol version ${JSON.stringify(fields.v)} is not ${PROTOCOL_VERSION}; upgrade fe-webhooks on both ends`, 'version');
  }
  if (typeof fields.type !== 'string') return invalid('no message type');
  return fields;
}

export function isInvalid(message: unknown): message is InvalidMessage {
  return typeof message === 'object' && message !== null && 'invalid' in message;
}

function isHeaderPairs(value: unknown): value is Array<[string, string]> {
  return (
    Array.isArray(value) &&
    value.length <= MAX_RAW_HEADERS / 2 &&
    value.every((pair) => Array.isArray(pair) && pair.length === 2 && typeof pair[0] === 'string' && typeof pair[1] === 'string')
  );
}

function decodeAcks(f: Fields): AcksMessage | InvalidMessage {
  if (!Array.isArray(f.acks) || f.acks.length === 0 || f.acks.length > MAX_ACKS_PER_FRAME) return invalid('acks needs a list of acks');
  for (const one of f.acks as unknown[]) {
    if (typeof one !== 'object' || one === null || Array.isArray(one)) return invalid('acks holds objects');
    const checked = decodeAck(one as Fields);
    if (isInvalid(checked)) return checked;
  }
  return f as unknown as AcksMessage;
}

function decodeAck(f: Fields): AckMessage | InvalidMessage {
  if (!isSeq(f.seq) || f.seq === 0) return invalid('ack needs a seq');
  if (!isStatus(f.status)) return invalid('ack needs an HTTP status');
  if (typeof f.final !== 'boolean') return invalid('ack needs final: true|false');
  if (f.headers !== undefined && !isHeaderPairs(f.headers)) return invalid('ack headers must be [name, value] pairs');
  if (f.repeat !== undefined && f.repeat !== true) return invalid('ack repeat must be true when present');
  if (f.body !== undefined && (!isBase64(f.body) || (f.body as string).length > Math.ceil(MAX_ACK_BODY_BYTES / 3) * 4)) {
    return invalid('ack body must be base64 of at most 64 KiB');
  }
  return f as unknown as AckMessage;
}

/** What the relay accepts from a listener: text frames are JSON messages, binary ones carry acks. */
export function decodeListenerMessage(data: string | Buffer, isBinary = false): ListenerMessage | InvalidMessage {
  if (isBinary && typeof data !== 'string') return decodeAcksFrame(data);
  const f = parseFrame(data);
  if (isInvalid(f)) return f;
  switch (f.type) {
    case 'subscribe':
      if (typeof f.channel !== 'string' || !CHANNEL_ID_PATTERN.test(f.channel))
        return invalid('subscribe needs a channel id', 'unauthorized');
      if (typeof f.token !== 'string' || !TOKEN_PATTERN.test(f.token)) return invalid('subscribe needs a token', 'unauthorized');
      if (f.after !== undefined && !isSeq(f.after)) return invalid('after must be a sequence number');
      if (f.log !== undefined && !isLogId(f.log)) return invalid('log must be a log identity');
      if (f.at !== undefined && (typeof f.at !== 'string' || f.at.length > 40 || Number.isNaN(Date.parse(f.at))))
        return invalid('at must be a time');
      return f as unknown as ListenerMessage;
    case 'ack':
      return decodeAck(f);
    case 'acks':
      return decodeAcks(f);
    case 'released':
      return isSeq(f.begun) ? (f as unknown as ListenerMessage) : invalid('released needs begun');
    case 'outcomes':
      return decodeOutcomes(f);
    case 'ping':
    case 'pong':
      return typeof f.t === 'number' && Number.isFinite(f.t) ? (f as unknown as ListenerMessage) : invalid(`${f.type} needs t`);
    default:
      return invalid(`unknown message type ${JSON.stringify(f.type).slice(0, 40)}`);
  }
}

/** What a listener accepts from the relay: text frames are JSON messages, binary ones carry events. */
export function decodeRelayFrame(data: Buffer, isBinary: boolean): RelayMessage | InvalidMessage {
  return isBinary ? decodeEventsFrame(data) : decodeRelayMessage(data);
}

/** A JSON (text) frame from the relay. */
export function decodeRelayMessage(data: string | Buffer): RelayMessage | InvalidMessage {
  const f = parseFrame(data);
  if (isInvalid(f)) return f;
  switch (f.type) {
    case 'subscribed':
      if (typeof f.channel !== 'string' || !isSeq(f.after) || !isSeq(f.head)) return invalid('bad subscribed message');
      if (f.log !== undefined && !isLogId(f.log)) return invalid('bad log identity in subscribed');
      if (f.binaryAcks !== undefined && f.binaryAcks !== true) return invalid('binaryAcks must be true when present');
      if (f.outcomes !== undefined && f.outcomes !== true) return invalid('outcomes must be true when present');
      return f as unknown as RelayMessage;
    case 'event': {
      const problem = eventMetaProblem(f);
      if (problem) return invalid(problem);
      if (!isBase64(f.body)) return invalid('event body must be base64');
      return f as unknown as RelayMessage;
    }
    case 'replaced':
      if (typeof f.at !== 'string' || Number.isNaN(Date.parse(f.at))) return invalid('replaced needs at');
      if (f.by !== undefined && (typeof f.by !== 'string' || !ADDRESS_PATTERN.test(f.by))) return invalid('bad address in replaced');
      return f as unknown as RelayMessage;
    case 'outcomes-noted':
      return decodeOutcomesNoted(f);
    case 'gap':
      if (!isSeq(f.from) || !isSeq(f.to) || typeof f.reason !== 'string') return invalid('bad gap message');
      return f as unknown as RelayMessage;
    case 'ping':
    case 'pong':
      return typeof f.t === 'number' && Number.isFinite(f.t) ? (f as unknown as RelayMessage) : invalid(`${f.type} needs t`);
    case 'error':
      if (typeof f.code !== 'string' || !ERROR_CODES.has(f.code) || typeof f.message !== 'string') return invalid('bad error message');
      return { v: PROTOCOL_VERSION, type: 'error', code: f.code as ErrorCode, message: f.message.slice(0, 500) };
    default:
      return invalid(`unknown message type ${JSON.stringify(f.type).slice(0, 40)}`);
  }
}
