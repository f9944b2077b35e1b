/**
 * An HTTP/1.x response parser for load mode's client: it finds the status, whether the
 * connection stays open, and where the response ends (Content-Length, chunked, or the
 * connection closing), and skips the body. Bytes may arrive split anywhere. A response
 * it cannot frame throws HttpProtocolError; the caller reports that delivery as failed
 * and drops the connection.
 */

/** A response the client cannot frame; `code` lets failure.ts classify it. */
export class HttpProtocolError extends Error {
  readonly code = 'HTTP_PROTOCOL_ERROR';
  constructor(reason: string) {
    super(`malformed HTTP response: ${reason}`);
  }
}

/** Status line and headers together; a larger head is refused rather than buffered on. */
export const MAX_HEAD_BYTES = 64 * 1024;
/** A chunk-size line (with extensions) or one trailer line. */
const MAX_LINE_BYTES = 8 * 1024;
/** Up to 2^48 - 1 bytes: parseInt stays exact and no real body is that long. */
const MAX_CHUNK_SIZE_DIGITS = 12;

const enum State {
  Head,
  FixedBody,
  ChunkSize,
  ChunkData,
  ChunkDataEnd,
  Trailers,
  BodyUntilClose,
}

const HEAD_END = '\r\n\r\n';
const LF = 0x0a;
const HEX = /^[0-9a-fA-F]+/;
const DIGITS = /^[0-9]+$/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([0-9]{3})(?: |$)/;

export class ResponseParser {
  /** The last complete response's status. */
  status = 0;
  /** Whether the connection may carry another request after the last complete response. */
  keepAlive = false;
  /** Bytes that followed the last complete response in its chunk (a server speaking out of turn). */
  trailing = 0;

  private state = State.Head;
  private head: Buffer | undefined;
  private line = '';
  private remaining = 0;
  private pendingStatus = 0;
  private pendingKeepAlive = false;

  /** Before a new request: forget any partial state (the connection is fresh or idle). */
  reset(): void {
    this.state = State.Head;
    this.head = undefined;
    this.line = '';
    this.trailing = 0;
  }

  /** Whether a response has started arriving (a close now cuts it off). */
  get started(): boolean {
    return this.state !== State.Head || this.head !== undefined;
  }

  /**
   * Feeds the next bytes; returns true once a whole final response has been read
   * (then see `status`, `keepAlive`, `trailing`). Throws HttpProtocolError.
   */
  execute(chunk: Buffer): boolean {
    let pos = 0;
    const end = chunk.length;
    while (pos < end) {
      switch (this.state) {
        case State.Head: {
          const next = this.readHead(chunk, pos);
          if (next < 0) return false;
          pos = next;
          break;
        }
        case State.FixedBody: {
          const take = Math.min(this.remaining, end - pos);
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) return this.complete(end - pos);
          break;
        }
        case State.ChunkData: {
          const take = Math.min(this.remaining, end - pos);
          this.remaining -= take;
          pos += take;
          if (this.remaining === 0) this.state = State.ChunkDataEnd;
          break;
        }
        case State.ChunkSize:
        case State.ChunkDataEnd:
        case State.Trailers: {
          const lf = chunk.indexOf(LF, pos);
          const stop = lf < 0 ? end : lf;
          this.line += chunk.toString('latin1', pos, stop);
          if (this.line.length > MAX_LINE_BYTES) throw new HttpProtocolError('chunked framing line too long');
          if (lf < 0) return false;
          pos = lf + 1;
          const line = this.line;
          this.line = '';
          if (!line.endsWith('\r')) throw new HttpProtocolError('chunked framing line without CRLF');
          if (this.chunkLine(line.slice(0, -1))) return this.complete(end - pos);
          break;
        }
        case State.BodyUntilClose:
          return false;
      }
    }
    // A response with no body can end exactly at its head.
    if (this.state === State.FixedBody && this.remaining === 0) return this.complete(0);
    return false;
  }

  /**
   * The connection closed: returns true when that ends the response (a body delimited by
   * the close), false when no response had started; throws when one was cut off.
   */
  finish(): boolean {
    if (this.state === State.BodyUntilClose) return this.complete(0);
    if (!this.started) return false;
    throw new HttpProtocolError('connection closed before the response ended');
  }

  /** Scans for the end of the head from `pos`; returns where the body starts, or -1 for more. */
  private readHead(chunk: Buffer, pos: number): number {
    // Where chunk[pos] sits in `bytes`, when an earlier chunk's part of the head comes first.
    const carried = this.head?.length ?? 0;
    const bytes = this.head === undefined ? chunk : Buffer.concat([this.head, chunk.subarray(pos)]);
    const start = this.head === undefined ? pos : 0;
    const at = bytes.indexOf(HEAD_END, start, 'latin1');
    if (at < 0) {
      if (bytes.length - start > MAX_HEAD_BYTES) throw new HttpProtocolError('headers too large');
      // Copied: the socket may reuse the chunk's memory.
      this.head = Buffer.from(bytes.subarray(start));
      return -1;
    }
    this.head = undefined;
    if (at - start > MAX_HEAD_BYTES) throw new HttpProtocolError('headers too large');
    this.parseHead(bytes.toString('latin1', start, at));
    // Where the body starts in `chunk` (the head's end is never inside the carried bytes: they were searched).
    return bytes === chunk ? at + HEAD_END.length : pos + at + HEAD_END.length - carried;
  }

  private parseHead(text: string): void {
    const lineEnd = text.indexOf('\r\n');
    const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
    const match = STATUS_LINE.exec(statusLine);
    if (!match) throw new HttpProtocolError(`bad status line ${JSON.stringify(statusLine.slice(0, 40))}`);
    const minor = match[1] === '1';
    const status = Number(match[2]);
    let contentLength = -1;
    let chunked = false;
    let transferEncoding = false;
    let close = !minor;
    let pos = lineEnd < 0 ? text.length : lineEnd + 2;
    while (pos < text.length) {
      let next = text.indexOf('\r\n', pos);
      if (next < 0) next = text.length;
      const colon = text.indexOf(':', pos);
      if (colon <= pos || colon > next) throw new HttpProtocolError('bad header line');
      const nameLength = colon - pos;
      // Only three headers matter; compare names only when the length fits.
      if (nameLength === 14 || nameLength === 17 || nameLength === 10) {
        const name = text.slice(pos, colon).toLowerCase();
        const value = text.slice(colon + 1, next).trim();
        if (name === 'content-length') {
          if (!DIGITS.test(value)) throw new HttpProtocolError(`bad Content-Length ${JSON.stringify(value)}`);
          const length = Number(value);
          if (contentLength >= 0 && length !== contentLength) throw new HttpProtocolError('conflicting Content-Length headers');
          contentLength = length;
        } else if (name === 'transfer-encoding') {
          transferEncoding = true;
          const codings = value.toLowerCase().split(',');
          chunked = codings[codings.length - 1]?.trim() === 'chunked';
        } else if (name === 'connection') {
          const tokens = value.toLowerCase().split(',').map((t) => t.trim());
          if (tokens.includes('close')) close = true;
          else if (tokens.includes('keep-alive')) close = false;
        }
      }
      pos = next + 2;
    }
    if (status >= 100 && status < 200) {
      // 101 would switch protocols, which load mode never asks for; other 1xx precede the real answer.
      if (status === 101) throw new HttpProtocolError('unexpected 101 Switching Protocols');
      this.state = State.Head;
      return;
    }
    this.pendingStatus = status;
    this.pendingKeepAlive = !close;
    if (status === 204 || status === 304) {
      this.state = State.FixedBody;
      this.remaining = 0;
    } else if (transferEncoding) {
      // Chunked last means chunked framing; any other coding runs to the close (RFC 9112 §6.3).
      if (chunked) this.state = State.ChunkSize;
      else this.untilClose();
    } else if (contentLength >= 0) {
      this.state = State.FixedBody;
      this.remaining = contentLength;
    } else {
      this.untilClose();
    }
  }

  private untilClose(): void {
    this.state = State.BodyUntilClose;
    this.pendingKeepAlive = false;
  }

  /** One CRLF-stripped framing line; returns true when it ends the response. */
  private chunkLine(line: string): boolean {
    if (this.state === State.ChunkDataEnd) {
      if (line !== '') throw new HttpProtocolError('chunk data longer than its size');
      this.state = State.ChunkSize;
      return false;
    }
    if (this.state === State.Trailers) return line === '';
    const digits = HEX.exec(line)?.[0];
    if (digits === undefined) throw new HttpProtocolError(`bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
    if (digits.length > MAX_CHUNK_SIZE_DIGITS) throw new HttpProtocolError('chunk size too large');
    // After the size: nothing, or (optional whitespace and) `;extensions`, which are ignored.
    const rest = line.slice(digits.length).trimStart();
    if (rest !== '' && !rest.startsWith(';')) throw new HttpProtocolError(`bad chunk size ${JSON.stringify(line.slice(0, 20))}`);
    const size = parseInt(digits, 16);
    if (size === 0) this.state = State.Trailers;
    else {
      this.state = State.ChunkData;
      this.remaining = size;
    }
    return false;
  }

  private complete(trailing: number): boolean {
    this.status = this.pendingStatus;
    this.keepAlive = this.pendingKeepAlive;
    this.trailing = trailing;
    this.state = State.Head;
    this.head = undefined;
    return true;
  }
}
