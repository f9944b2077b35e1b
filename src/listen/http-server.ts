import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenOn, urlFor } from '../util/listen-on.js';
import type { InboundRequest, Intake } from '../intake/types.js';
import { ALLOWED_METHODS, CONNECT_REASON, answerClientError, jsonReason, writeRawAnswer } from '../util/raw-answer.js';
import { requestTargetProblem } from '../util/request-target.js';
import { AllowedHosts, hostRefusal } from './host-guard.js';

/**
 * An oversized upload is read to its end and thrown away, so the caller gets a clean
 * 413 rather than a reset; past this many bytes it is cut off instead.
 */
function drainLimitBytes(maxBodyBytes: number): number {
  return Math.max(maxBodyBytes * 4, maxBodyBytes + 16 * 1024 * 1024);
}

export interface CaptureServerOptions {
  host: string;
  port: number;
  intake: Intake;
  maxBodyBytes: number;
  /** Host names served besides IP literals and localhost (`--allow-host`). */
  allowHosts?: readonly string[];
}

export interface CaptureServer {
  server: Server;
  url: string;
  port: number;
  /** Stops accepting, lets in-flight requests finish, then ends idle connections. */
  close(): Promise<void>;
}

const LOCAL_SOURCE: InboundRequest['source'] = { kind: 'local' };

/** Reads a body up to the limit; past it, keeps reading (to answer cleanly) but keeps nothing. */
function readBody(req: IncomingMessage, maxBodyBytes: number): Promise<{ body: Buffer; tooLarge: boolean }> {
  const declared = Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = Number.isFinite(declared) && declared > maxBodyBytes;
  // Events rather than `for await`: this is the hot path, and stream iterators cost more.
  return new Promise((resolve, reject) => {
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBodyBytes) tooLarge = true;
      if (!tooLarge) return void chunks.push(chunk);
      chunks.length = 0;
      if (size > drainLimitBytes(maxBodyBytes)) req.destroy();
    });
    req.on('end', () => resolve({ body: tooLarge ? Buffer.alloc(0) : Buffer.concat(chunks, size), tooLarge }));
    req.on('error', reject);
    req.on('close', () => {
      if (req.complete) return;
      // Cut off past the drain limit: recorded as refused. Otherwise the caller went away mid-body.
      if (tooLarge) resolve({ body: Buffer.alloc(0), tooLarge: true });
      else reject(new Error('the caller closed the connection before the body ended'));
    });
  });
}

/**
 * Turns a node request into the intake's transport-agnostic shape, with the refusal of a
 * request that is not a path or fails the Host rule (captured, answered, not forwarded).
 */
async function toInbound(req: IncomingMessage, maxBodyBytes: number, allowed: AllowedHosts): Promise<InboundRequest> {
  const receivedAt = new Date();
  const path = req.url ?? '/';
  const refusal = requestTargetProblem(path) ?? hostRefusal(req.rawHeaders, allowed);
  const { body, tooLarge } = await readBody(req, maxBodyBytes);
  const inbound: InboundRequest = { method: req.method ?? 'GET', path, rawHeaders: req.rawHeaders, body, receivedAt, source: LOCAL_SOURCE };
  // Set only when true, not spread: a spread in a literal is a runtime call per request.
  if (tooLarge) inbound.bodyTooLarge = true;
  if (refusal) inbound.refusal = refusal;
  return inbound;
}

/** The local capture endpoint: any method, any path, every request into the intake. */
export async function startCaptureServer(options: CaptureServerOptions): Promise<CaptureServer> {
  const sockets = new Set<Socket>();
  // A name given to --host is the user's own choice of name: allowed like --allow-host.
  const allowed = new AllowedHosts([...(options.allowHosts ?? []), options.host]);
  const busy = new WeakSet<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    busy.add(req.socket);
    void handle(req, res).finally(() => {
      busy.delete(req.socket);
      if (closing) req.socket.end();
    });
  });
  let closing = false;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const answer = await options.intake.handle(await toInbound(req, options.maxBodyBytes, allowed));
      if (res.destroyed) return;
      const headers: string[] = [];
      for (const [name, value] of answer.headers) headers.push(name, value);
      // A HEAD answer has no body: it carries the app's content-length, if any, not ours
      // (listen's own explanations, 502/504, still give the length a GET would get).
      if (req.method !== 'HEAD' || answer.body.length > 0) headers.push('content-length', String(answer.body.length));
      if (closing) headers.push('connection', 'close');
      // A flat [name, value, ...] list keeps repeated headers (set-cookie) as separate lines.
      res.writeHead(answer.status, headers).end(answer.body);
    } catch (error) {
      if (res.headersSent || res.destroyed) return;
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`fe-webhooks: ${(error as Error).message}\n`);
    }
  }

  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // Malformed HTTP and absurd headers (414/431): a short JSON reason, never a crash.
  server.on('clientError', answerClientError);
  // CONNECT is captured as rejected and answered 405; without this listener Node
  // would close the socket without a word.
  server.on('connect', (req: IncomingMessage, socket: Duplex) => {
    socket.on('error', () => socket.destroy());
    const inbound: InboundRequest = {
      method: 'CONNECT',
      path: req.url ?? '',
      rawHeaders: req.rawHeaders,
      body: Buffer.alloc(0),
      receivedAt: new Date(),
      source: { kind: 'local' },
      refusal: { status: 405, reason: CONNECT_REASON },
    };
    const allow: Array<[string, string]> = [['allow', ALLOWED_METHODS]];
    options.intake.handle(inbound).then(
      (answer) => writeRawAnswer(socket, answer.status, answer.body, allow),
      // The intake is closing (listen is stopping): still an answer, not captured.
      () => writeRawAnswer(socket, 405, jsonReason(CONNECT_REASON), allow),
    );
  });
  const address = await listenOn(server, options.host, options.port);
  return {
    server,
    url: urlFor(options.host, address.port),
    port: address.port,
    async close() {
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Idle keep-alive connections end now; busy ones after their answer (see above).
      for (const socket of sockets) if (!busy.has(socket)) socket.end();
      await closed;
    },
  };
}
