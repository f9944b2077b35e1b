import { DurableAppender, type AppenderHooks } from '../capture/appender.js';
import { decodeBody, type CaptureRecord, type CapturedHeaders, type ForwardResult } from '../capture/record.js';
import { DEFAULT_LISTEN_HOST, DEFAULT_MAX_BODY_BYTES } from '../config/defaults.js';
import { Forwarder } from '../intake/forward.js';
import { createIntake } from '../intake/pipeline.js';
import type { Intake } from '../intake/types.js';
import { startInspector, type Inspector } from '../inspector/server.js';
import { startCaptureServer, type CaptureServer } from './http-server.js';
import { debugSkipped } from '../util/debug.js';

export interface ListenOptions {
  host?: string;
  /** 0 = any free port. */
  port: number;
  /** The inspector's port; 0 = any free port. */
  inspectorPort?: number;
  forward?: URL;
  secret?: string;
  /** The captures file; undefined = no captures (`--no-save`). */
  capturesFile?: string;
  respondStatus?: number;
  respondDelayMs?: number;
  maxBodyBytes?: number;
  forwardTimeoutMs?: number;
  /**
   * Host names the capture port serves besides IP literals and localhost (`--allow-host`):
   * any other Host is refused 403 (DNS-rebinding guard). `.example.com` allows its subdomains too.
   */
  allowHosts?: readonly string[];
  /** Every request, once captured and answered (the printer). */
  onRecord?: (record: CaptureRecord) => void;
  /** The captures file refused a write (disk full...) and takes writes again: requests are held meanwhile. */
  captures?: AppenderHooks;
}

export interface Listener {
  url: string;
  inspectorUrl: string;
  intake: Intake;
  /** Stops accepting, finishes in-flight forwards, flushes captures. */
  close(): Promise<void>;
}

/** Captured headers back to a flat raw list (repeats kept) for a replay. */
function rawHeadersOf(headers: CapturedHeaders): string[] {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value]) raw.push(name, one);
  }
  return raw;
}

/** The preferred port when it is free (a stable inspector URL), else any free one. */
async function startOnPreferredPort(preferred: number, start: (port: number) => Promise<Inspector>): Promise<Inspector> {
  if (preferred === 0 || preferred > 65535) return start(0);
  try {
    return await start(preferred);
  } catch (error) {
    debugSkipped("the inspector's usual port (taking any free one)", error);
    return start(0);
  }
}

/**
 * `listen` as a library: the capture endpoint, the intake pipeline behind it and the
 * inspector beside it. The inspector always binds loopback, whatever `host` is.
 */
export async function startListen(options: ListenOptions): Promise<Listener> {
  const host = options.host ?? DEFAULT_LISTEN_HOST;
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const forwarder = options.forward ? new Forwarder({ timeoutMs: options.forwardTimeoutMs }) : undefined;
  let inspector: Inspector | undefined;
  const intake = createIntake({
    forward: options.forward,
    forwarder,
    secret: options.secret,
    appender: options.capturesFile ? new DurableAppender(options.capturesFile, options.captures) : undefined,
    respondStatus: options.respondStatus,
    respondDelayMs: options.respondDelayMs,
    maxBodyBytes,
    onRecord(record) {
      options.onRecord?.(record);
      inspector?.publish(record);
    },
  });
  let server: CaptureServer;
  try {
    server = await startCaptureServer({
      host,
      port: options.port,
      intake,
      maxBodyBytes,
      ...(options.allowHosts ? { allowHosts: options.allowHosts } : {}),
    });
  } catch (error) {
    await intake.close();
    throw error;
  }
  const replay = forwarder && options.forward
    ? async (record: CaptureRecord): Promise<ForwardResult> => {
        const inbound = { method: record.method, path: record.path, rawHeaders: rawHeadersOf(record.headers), body: decodeBody(record) };
        return (await forwarder.forward(options.forward as URL, inbound)).result;
      }
    : undefined;
  try {
    // By default the inspector takes the port after the capture port: 7879 beside 7878.
    const preferred = options.inspectorPort ?? (options.port === 0 ? 0 : server.port + 1);
    inspector = await startOnPreferredPort(preferred, (port) =>
      startInspector({
        host: DEFAULT_LISTEN_HOST,
        port,
        webhookUrl: `${server.url}/`,
        target: options.forward?.href,
        replay,
        secret: options.secret,
      }),
    );
  } catch (error) {
    await server.close();
    await intake.close();
    throw error;
  }
  const started = inspector;
  return {
    url: `${server.url}/`,
    inspectorUrl: started.url,
    intake,
    async close() {
      await server.close();
      await intake.close();
      await started.close();
    },
  };
}
