import { Agent, Pool, type Dispatcher } from 'undici';

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
 * For load mode: exactly `connections` keep-alive connections to one origin, no pipelining
 * (like autocannon -c N). undici's own header/body timers are off: `runLoad` enforces the
 * whole-exchange timeout with one shared sweep instead of re-arming a timer per request.
 */
export function createPool(origin: URL, connections: number, options: DispatcherOptions): Dispatcher {
  return new Pool(origin.origin, {
    connections,
    pipelining: 1,
    headersTimeout: 0,
    bodyTimeout: 0,
    connect: { rejectUnauthorized: !options.insecure, timeout: options.connectTimeoutMs },
  });
}
