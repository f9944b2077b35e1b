import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { RequestBytes } from './request-writer.js';
import { ResponseParser } from './response-parser.js';

/** Told how one request ended: exactly one of the two, once. */
export interface ExchangeHandler {
  onResponse(status: number): void;
  onFailure(error: Error): void;
}

export interface ConnectionOptions {
  /** Accept self-signed and otherwise untrusted certificates (`--insecure`). */
  insecure: boolean;
}

/** The socket closed before the answer was whole, with no error of its own: reported like a reset. */
function resetError(what = 'socket closed before a response arrived'): Error {
  return Object.assign(new Error(what), { code: 'ECONNRESET' });
}

const CUT_OFF = 'socket closed before the response ended';

/**
 * One keep-alive HTTP/1.1 connection to one origin carrying one request at a time (no
 * pipelining). It connects on the first request, reconnects after the server closes or
 * the caller cancels, and resends a request once when a reused socket turns out to have
 * been closed by the server before it read anything (the keep-alive race).
 */
export class Http1Connection {
  private socket: Socket | undefined;
  private readonly parser = new ResponseParser();
  private handler: ExchangeHandler | undefined;
  private pending: RequestBytes | undefined;
  /** Whether the current socket already carried a response (so a close on it may be the keep-alive race). */
  private reused = false;
  private socketError: Error | undefined;

  constructor(
    private readonly url: URL,
    private readonly options: ConnectionOptions,
  ) {}

  /** Sends one request; `handler` hears how it ended. Only one request at a time. */
  send(bytes: RequestBytes, handler: ExchangeHandler): void {
    if (this.handler !== undefined) throw new Error('a request is already in flight on this connection');
    this.handler = handler;
    this.pending = bytes;
    this.write(bytes);
  }

  /**
   * Abandons the request in flight (its handler hears nothing more) and drops the socket;
   * the next send() reconnects. Also how a connection is closed for good.
   */
  cancel(): void {
    this.handler = undefined;
    this.pending = undefined;
    this.drop();
  }

  private write(bytes: RequestBytes): void {
    const socket = this.socket ?? this.open();
    this.parser.reset();
    if (typeof bytes === 'string') socket.write(bytes);
    else {
      socket.cork();
      socket.write(bytes[0]);
      socket.write(bytes[1]);
      socket.uncork();
    }
  }

  private open(): Socket {
    const { hostname, port, protocol } = this.url;
    // URL keeps IPv6 literals bracketed; sockets want them bare.
    const host = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
    const socket =
      protocol === 'https:'
        ? tlsConnect({
            host,
            port: Number(port || 443),
            // SNI carries names only, never IP literals.
            servername: isIP(host) === 0 ? host : undefined,
            rejectUnauthorized: !this.options.insecure,
            ALPNProtocols: ['http/1.1'],
          })
        : netConnect({ host, port: Number(port || 80) });
    socket.setNoDelay(true);
    this.socket = socket;
    this.reused = false;
    this.socketError = undefined;
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('end', () => this.onEnd(socket));
    socket.on('error', (error: Error) => {
      if (socket === this.socket) this.socketError = error;
    });
    socket.on('close', () => this.onClose(socket));
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (this.idleOrStale(socket)) return;
    const done = this.step(() => this.parser.execute(chunk), (error) => error as Error);
    if (done) this.answered();
  }

  private onEnd(socket: Socket): void {
    if (this.idleOrStale(socket)) return;
    const done = this.step(() => this.parser.finish(), () => resetError(CUT_OFF));
    if (done === true) this.answered();
    else if (done === false) this.closedEarly();
  }

  /**
   * True when `socket` is not this connection's current one (ignore it), or when no
   * request is in flight: then bytes or an end are the server's doing (bytes nobody asked
   * for leave the framing untrusted; an end is its keep-alive timeout) and the socket is
   * dropped, so the next request opens a fresh one.
   */
  private idleOrStale(socket: Socket): boolean {
    if (socket !== this.socket) return true;
    if (this.handler !== undefined) return false;
    this.drop();
    return true;
  }

  /** Runs a parser step; a parse error fails the request (as `failure` says) and gives undefined. */
  private step(parse: () => boolean, failure: (error: unknown) => Error): boolean | undefined {
    try {
      return parse();
    } catch (error) {
      this.fail(failure(error));
      return undefined;
    }
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    if (this.handler === undefined) return;
    if (this.parser.started) this.fail(this.socketError ?? resetError(CUT_OFF));
    else this.closedEarly();
  }

  /**
   * The socket ended or failed with no byte of an answer. On a reused socket that is the
   * keep-alive race (the server closed it while idle, e.g. Node's 5 s keepAliveTimeout,
   * as the request went out): resend once on a fresh socket. A fresh socket is never
   * "reused", so a request is resent at most once.
   */
  private closedEarly(): void {
    const bytes = this.pending;
    if (this.reused && bytes !== undefined) {
      this.drop();
      this.write(bytes);
      return;
    }
    this.fail(this.socketError ?? resetError());
  }

  private answered(): void {
    const handler = this.handler as ExchangeHandler;
    const { status, keepAlive, trailing } = this.parser;
    this.handler = undefined;
    this.pending = undefined;
    if (keepAlive && trailing === 0) this.reused = true;
    else this.drop();
    handler.onResponse(status);
  }

  private fail(error: Error): void {
    const handler = this.handler;
    this.handler = undefined;
    this.pending = undefined;
    this.drop();
    handler?.onFailure(error);
  }

  private drop(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.destroy();
  }
}
