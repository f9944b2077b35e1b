import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import { verify } from '../../src/signing/index.js';

export interface ReceivedRequest {
  method: string;
  /** Path with query. */
  url: string;
  headers: IncomingMessage['headers'];
  rawHeaders: string[];
  body: Buffer;
  /** The page's rule: X-Webhook-Signature over the exact body with the receiver's secret. */
  signatureValid: boolean;
  receivedAt: number;
}

export interface ReceiverOptions {
  /** The secret the receiver verifies with, as the app would. */
  secret?: string;
  /**
   * How to answer each request (by arrival index): a status, or a function that answers
   * itself. Default: 200, or 401 when `secret` is set and the signature is wrong.
   */
  respond?: (request: ReceivedRequest, index: number, res: ServerResponse) => number | void | Promise<number | void>;
  /** A port to take (an app coming back where it was); default: any free port. */
  port?: number;
}

export interface Receiver {
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** Resolves once `count` requests have arrived (rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

/**
 * A real receiving app on 127.0.0.1 and a free port, verifying signatures with the
 * page's rule. Closed (connections included) when the test ends.
 */
export async function startReceiver(t: TestContext | undefined, options: ReceiverOptions = {}): Promise<Receiver> {
  const requests: ReceivedRequest[] = [];
  const waiters: Array<() => void> = [];
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const request: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      rawHeaders: req.rawHeaders,
      body,
      signatureValid: options.secret !== undefined && verify(body, req.headers['x-webhook-signature'], options.secret),
      receivedAt: Date.now(),
    };
    const index = requests.push(request) - 1;
    for (const wake of waiters.splice(0)) wake();
    const status = options.respond
      ? await options.respond(request, index, res)
      : options.secret !== undefined && !request.signatureValid
        ? 401
        : 200;
    if (typeof status === 'number' && !res.headersSent) {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ received: index }));
    }
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  const close = async (): Promise<void> => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t?.after(close);
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close,
    async waitFor(count, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (requests.length < count) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`timed out waiting for ${count} requests (got ${requests.length})`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      return requests.slice(0, count);
    },
  };
}

/**
 * A slow endpoint for timeout drills: the requests `hangs` picks (by arrival index; all
 * of them by default) get no answer until the test ends, the others 200. Released before
 * the receiver closes, so nothing is left pending.
 */
export async function startHangingReceiver(t: TestContext, hangs: (index: number) => boolean = () => true): Promise<Receiver> {
  let release: () => void = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  return startReceiver(t, {
    respond: async (_request, index) => {
      if (hangs(index)) await released;
      return 200;
    },
  });
}
