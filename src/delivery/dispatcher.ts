import { Agent, type Dispatcher } from 'undici';

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
