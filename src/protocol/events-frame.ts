import { isSeq, eventMetaProblem } from './event-meta.js';
import { PROTOCOL_VERSION, type EventsMessage, type InvalidMessage, type RelayedEvent } from './messages.js';

/**
 * Events travel relay → listener as one binary WebSocket frame per batch, so a batch
 * costs one socket write and bodies are never base64'd or JSON-escaped:
 *
 *   [u32 BE: header length][header: JSON {v, type: "events", events: [{seq, method, path,
 *   rawHeaders, receivedAt, size, redelivery?}, ...]}][body 1][body 2]...
 *
 * Each body is exactly `size` bytes, in the header's order; the sizes add up to the rest
 * of the frame.
 */

const LENGTH_BYTES = 4;
/** A frame holds at most this many events (the relay's window is far smaller). */
const MAX_EVENTS_PER_FRAME = 10_000;

/** Builds one events frame; bodies are copied once, byte for byte. */
export function encodeEventsFrame(events: readonly RelayedEvent[]): Buffer {
  const header = Buffer.from(
    JSON.stringify({
      v: PROTOCOL_VERSION,
      type: 'events',
      events: events.map((e) => ({
        seq: e.seq,
        method: e.method,
        path: e.path,
        rawHeaders: e.rawHeaders,
        receivedAt: e.receivedAt,
        size: e.body.length,
        ...(e.redelivery ? { redelivery: true } : {}),
      })),
    }),
  );
  const length = Buffer.allocUnsafe(LENGTH_BYTES);
  length.writeUInt32BE(header.length, 0);
  return Buffer.concat([length, header, ...events.map((e) => e.body)]);
}

function invalid(why: string, code: InvalidMessage['code'] = 'bad-message'): InvalidMessage {
  return { invalid: why, code };
}

/** Validates an events frame from the network; bodies are views into `frame`, not copies. Never throws. */
export function decodeEventsFrame(frame: Buffer): EventsMessage | InvalidMessage {
  if (frame.length < LENGTH_BYTES) return invalid('binary frame too short');
  const headerLength = frame.readUInt32BE(0);
  if (headerLength > frame.length - LENGTH_BYTES) return invalid('events header longer than the frame');
  let header: unknown;
  try {
    header = JSON.parse(frame.toString('utf8', LENGTH_BYTES, LENGTH_BYTES + headerLength));
  } catch {
    return invalid('events header is not JSON');
  }
  if (typeof header !== 'object' || header === null) return invalid('events header is not an object');
  const h = header as Record<string, unknown>;
  if (h.v !== PROTOCOL_VERSION)
    return invalid(`protocol version ${JSON.stringify(h.v)} is not ${PROTOCOL_VERSION}; upgrade fe-webhooks on both ends`, 'version');
  if (h.type !== 'events' || !Array.isArray(h.events) || h.events.length === 0 || h.events.length > MAX_EVENTS_PER_FRAME)
    return invalid('bad events header');
  const events: RelayedEvent[] = [];
  let offset = LENGTH_BYTES + headerLength;
  let lastSeq = 0;
  for (const entry of h.events as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return invalid('bad event in an events frame');
    const f = entry as Record<string, unknown>;
    const problem = eventMetaProblem(f);
    if (problem) return invalid(problem);
    if (!isSeq(f.size) || (f.size as number) > frame.length - offset) return invalid('event size runs past the frame');
    if ((f.seq as number) <= lastSeq) return invalid('events out of order');
    lastSeq = f.seq as number;
    const end = offset + (f.size as number);
    const event: RelayedEvent = {
      seq: f.seq as number,
      method: f.method as string,
      path: f.path as string,
      rawHeaders: f.rawHeaders as string[],
      receivedAt: f.receivedAt as string,
      body: frame.subarray(offset, end),
    };
    if (f.redelivery === true) event.redelivery = true;
    events.push(event);
    offset = end;
  }
  if (offset !== frame.length) return invalid('bytes left over after the last event');
  return { v: PROTOCOL_VERSION, type: 'events', events };
}
