import { MAX_RAW_HEADERS, isSeq } from './event-meta.js';
import { MAX_ACK_BODY_BYTES, PROTOCOL_VERSION, type BinaryAcksMessage, type InvalidMessage, type ReceivedAck } from './messages.js';

/**
 * Acks travel listener → relay as one binary WebSocket frame per batch when the relay
 * says it reads them (`subscribed.binaryAcks`): no JSON and no base64 per event.
 *
 *   [u8 version][u16 BE: count] then per ack:
 *   [u48 BE: seq][u16 BE: status][u8 flags: 1 final, 2 repeat]
 *   [u8: header count] per header [u16 BE: name length][name][u16 BE: value length][value] (UTF-8)
 *   [u32 BE: body length][body]
 *
 * The frame ends exactly after the last ack.
 */

const FINAL = 1;
const REPEAT = 2;
/** Acks in one frame at most (the listener sends far fewer: its delivery window). */
const MAX_ACKS_PER_FRAME = 10_000;
const SEQ_BYTES = 6;

/** One ack's bytes (one buffer; the body copied once), to be joined with others by encodeAcksFrame. */
export function encodeAck(
  seq: number,
  status: number,
  final: boolean,
  repeat: boolean,
  headers: ReadonlyArray<readonly [string, string]>,
  body: Buffer,
): Buffer {
  let size = SEQ_BYTES + 4 + 4 + body.length;
  for (const [name, value] of headers) size += 4 + Buffer.byteLength(name, 'utf8') + Buffer.byteLength(value, 'utf8');
  const out = Buffer.allocUnsafe(size);
  out.writeUIntBE(seq, 0, SEQ_BYTES);
  out.writeUInt16BE(status, SEQ_BYTES);
  out.writeUInt8((final ? FINAL : 0) | (repeat ? REPEAT : 0), SEQ_BYTES + 2);
  out.writeUInt8(headers.length, SEQ_BYTES + 3);
  let at = SEQ_BYTES + 4;
  for (const pair of headers) {
    for (const text of pair) {
      const length = out.write(text, at + 2, 'utf8');
      out.writeUInt16BE(length, at);
      at += 2 + length;
    }
  }
  out.writeUInt32BE(body.length, at);
  body.copy(out, at + 4);
  return out;
}

/** The frame for acks encoded by encodeAck (at most MAX_ACKS_PER_FRAME). */
export function encodeAcksFrame(count: number, parts: readonly Buffer[]): Buffer {
  const head = Buffer.allocUnsafe(3);
  head.writeUInt8(PROTOCOL_VERSION, 0);
  head.writeUInt16BE(count, 1);
  return Buffer.concat([head, ...parts]);
}

/** Most acks one frame may carry. */
export const ACKS_PER_FRAME = Math.min(MAX_ACKS_PER_FRAME, 0xffff);

function invalid(why: string): InvalidMessage {
  return { invalid: why, code: 'bad-message' };
}

/** Validates a binary acks frame from the network; bodies are views into `frame`. Never throws. */
export function decodeAcksFrame(frame: Buffer): BinaryAcksMessage | InvalidMessage {
  if (frame.length < 3) return invalid('binary frame too short');
  const version = frame.readUInt8(0);
  if (version !== PROTOCOL_VERSION) {
    return { invalid: `protocol version ${version} is not ${PROTOCOL_VERSION}; upgrade fe-webhooks on both ends`, code: 'version' };
  }
  const count = frame.readUInt16BE(1);
  if (count === 0) return invalid('acks needs a list of acks');
  const acks: ReceivedAck[] = [];
  let at = 3;
  const need = (bytes: number): boolean => frame.length - at >= bytes;
  for (let i = 0; i < count; i++) {
    if (!need(SEQ_BYTES + 4)) return invalid('ack runs past the frame');
    const seq = frame.readUIntBE(at, SEQ_BYTES);
    const status = frame.readUInt16BE(at + SEQ_BYTES);
    const flags = frame.readUInt8(at + SEQ_BYTES + 2);
    const headerCount = frame.readUInt8(at + SEQ_BYTES + 3);
    at += SEQ_BYTES + 4;
    if (!isSeq(seq) || seq === 0) return invalid('ack needs a seq');
    if (status < 100 || status > 999) return invalid('ack needs an HTTP status');
    if ((flags & ~(FINAL | REPEAT)) !== 0) return invalid('unknown ack flags');
    if (headerCount > MAX_RAW_HEADERS / 2) return invalid('too many ack headers');
    const headers: Array<[string, string]> = [];
    for (let h = 0; h < headerCount; h++) {
      const pair: string[] = [];
      for (let k = 0; k < 2; k++) {
        if (!need(2)) return invalid('ack header runs past the frame');
        const length = frame.readUInt16BE(at);
        at += 2;
        if (!need(length)) return invalid('ack header runs past the frame');
        pair.push(frame.toString('utf8', at, at + length));
        at += length;
      }
      headers.push(pair as [string, string]);
    }
    if (!need(4)) return invalid('ack body runs past the frame');
    const bodyLength = frame.readUInt32BE(at);
    at += 4;
    if (bodyLength > MAX_ACK_BODY_BYTES) return invalid('ack body must be at most 64 KiB');
    if (!need(bodyLength)) return invalid('ack body runs past the frame');
    const ack: ReceivedAck = { seq, status, final: (flags & FINAL) !== 0, headers, body: frame.subarray(at, at + bodyLength) };
    if ((flags & REPEAT) !== 0) ack.repeat = true;
    acks.push(ack);
    at += bodyLength;
  }
  if (at !== frame.length) return invalid('bytes left over after the last ack');
  return { v: PROTOCOL_VERSION, type: 'acks', acks };
}
