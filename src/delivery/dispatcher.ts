import { Agent, type Dispatcher } from 'undici';
import { createHttp1Pool, type Http1Pool } from './http1/pool.js';

export interface DispatcherOptions {
  /** Accept self-signed and otherwise untrusted certificates (`--insecure`). */
  insecure: boolean;
  /** A connect that takes longer than this is a timeout, not a hang. */
  connectTimeoutMs: number;
}

/** For a handful of deliveries, possibly to several origins. */
export function createAgent(options: DispatcherOptions): Dispatcher {
  return new Agent({ connect: { rejectUnauthorized: !options.insecure, timeout: options.connectTimeoutMs } });
}

/**
 * For load mode: exactly `connections` keep-alive connections to one URL, no pipelining
 * (like autocannon -c N), on the built-in HTTP/1.1 client rather than undici (see
 * ./http1/pool.ts for why). `connectTimeoutMs` is not needed there: runLoad's own
 * whole-exchange timeout covers connecting. The CLI calls createHttp1Pool directly, so
 * load mode never loads undici.
 */
export function createPool(url: URL, connections: number, options: DispatcherOptions): Http1Pool {
  return createHttp1Pool(url, connections, { insecure: options.insecure });
}
