import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { MAX_REQUEST_TARGET_BYTES } from './request-target.js';

/**
 * Answers written straight on a socket, for the requests Node's http server hands over
 * raw (a parse error, CONNECT): a JSON reason, then the connection closes.
 */
export function writeRawAnswer(socket: Duplex, status: number, body: Buffer, extraHeaders: ReadonlyArray<[string, string]> = []): void {
  if (!socket.writable) return void socket.destroy();
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\ncontent-type: application/json\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n`;
  for (const [name, value] of extraHeaders) head += `${name}: ${value}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), body]));
}

export function jsonReason(reason: string): Buffer {
  return Buffer.from(`${JSON.stringify({ error: reason })}\n`);
}

/**
 * Node's parser counts the request line and the headers against one limit (16 KiB) and
 * says only "header overflow". The packet it choked on tells which: a request line that
 * never ended (or alone passes the URL limit) is a long URL, 414; anything else, 431.
 */
function overflowStatus(rawPacket: Buffer | undefined): { status: 414 | 431; reason: string } {
  const packet = rawPacket ?? Buffer.alloc(0);
  const startsRequest = /^[A-Z]{3,10} /.test(packet.subarray(0, 11).toString('latin1'));
  const lineEnd = packet.indexOf('\r\n');
  if (startsRequest && (lineEnd === -1 || lineEnd > MAX_REQUEST_TARGET_BYTES)) {
    return { status: 414, reason: `the request URL is over ${MAX_REQUEST_TARGET_BYTES} bytes` };
  }
  return { status: 431, reason: 'the request line and headers are over 16 KiB together' };
}

/** What listen and the relay answer a request Node could not parse: a status and a JSON reason, never a crash. */
export function answerClientError(error: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Duplex): void {
  if (error.code === 'ECONNRESET' || !socket.writable) return void socket.destroy();
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    const { status, reason } = overflowStatus(error.rawPacket);
    return writeRawAnswer(socket, status, jsonReason(reason));
  }
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT') return writeRawAnswer(socket, 408, jsonReason('the request took too long to arrive'));
  writeRawAnswer(socket, 400, jsonReason('malformed HTTP request'));
}

/** Neither listen nor the relay is a proxy: CONNECT gets 405 and the tunnel is never opened. */
export const CONNECT_REASON = 'CONNECT is not supported: this is a webhook endpoint, not a proxy';
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';
