import { Http1Connection, type ConnectionOptions, type ExchangeHandler } from './connection.js';
import { RequestWriter, type Http1Request } from './request-writer.js';

/**
 * Load mode's connections: a fixed number of keep-alive HTTP/1.1 connections to one
 * origin, one request at a time on each, addressed by slot (like autocannon -c N).
 * A built-in client instead of undici because load mode must cost about what
 * autocannon costs per request, and undici's per-request machinery alone costs more.
 */
export class Http1Pool {
  private readonly connections: Http1Connection[];
  private readonly writer: RequestWriter;
  private closed = false;

  constructor(url: URL, connections: number, options: ConnectionOptions) {
    this.writer = new RequestWriter(url);
    this.connections = Array.from({ length: connections }, () => new Http1Connection(url, options));
  }

  get size(): number {
    return this.connections.length;
  }

  /** Sends `request` on connection `slot` (0 ≤ slot < size). Throws once the pool is closed. */
  send(slot: number, request: Http1Request, handler: ExchangeHandler): void {
    if (this.closed) throw new Error('the connection pool is closed');
    const connection = this.connections[slot];
    if (connection === undefined) throw new RangeError(`no connection slot ${slot} (pool of ${this.connections.length})`);
    connection.send(this.writer.serialize(request), handler);
  }

  /** Abandons the request in flight on `slot` and drops its socket (the next request reconnects). */
  cancel(slot: number): void {
    this.connections[slot]?.cancel();
  }

  /** Refuses new requests and closes every socket; requests in flight are abandoned. */
  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections) connection.cancel();
  }
}

/** `connections` keep-alive connections to `url` (its scheme, host and port; requests go to its path and query). */
export function createHttp1Pool(url: URL, connections: number, options: ConnectionOptions): Http1Pool {
  return new Http1Pool(url, connections, options);
}
