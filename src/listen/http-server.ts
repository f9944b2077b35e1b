import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenOn, urlFor } from '../util/listen-on.js';
import type { InboundRequest, Intake, IntakeAnswer } from '../intake/types.js';
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

/** A body read to its end (or cut off past the drain limit), or why it could not be. */
type BodyCallback = (error: Error | undefined, body: Buffer, tooLarge: boolean) => void;

const EMPTY_BODY: Buffer = Buffer.alloc(0);

/**
 * Reads a body up to the limit; past it, keeps reading (to answer cleanly) but keeps
 * nothing. `done` runs once. Events and a callback rather than `for await` or a promise:
 * this is the hot path, and stream iterators and promises cost more.
 */
function readBody(req: IncomingMessage, maxBodyBytes: number, done: BodyCallback): void {
  const declared = Number(req.headers['content-length']);
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = Number.isFinite(declared) && declared > maxBodyBytes;
  let settled = false;
  const settle = (error: Error | undefined, body: Buffer, cut: boolean): void => {
    if (settled) return;
    settled = true;
    done(error, body, cut);
  };
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBodyBytes) tooLarge = true;
    if (!tooLarge) return void chunks.push(chunk);
    chunks.length = 0;
    if (size > drainLimitBytes(maxBodyBytes)) req.destroy();
  });
  req.on('end', () => settle(undefined, tooLarge ? EMPTY_BODY : Buffer.concat(chunks, size), tooLarge));
  req.on('error', (error: Error) => settle(error, EMPTY_BODY, false));
  req.on('close', () => {
    if (req.complete) return;
    // Cut off past the drain limit: recorded as refused. Otherwise the caller went away mid-body.
    if (tooLarge) settle(undefined, EMPTY_BODY, true);
    else settle(new Error('the caller closed the connection before the body ended'), EMPTY_BODY, false);
  });
}

/**
 * A node request in the intake's transport-agnostic shape, with the refusal of a request
 * that is not a path or fails the Host rule (captured, answered, not forwarded).
 */
function toInbound(
  req: IncomingMessage,
  receivedAt: Date,
  refusal: InboundRequest['refusal'],
  body: Buffer,
  tooLarge: boolean,
): InboundRequest {
  const path = req.url ?? '/';
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
  let closing = false;
  // Callbacks all the way (body, intake, answer): no promise or microtask turn per request.
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    busy.add(req.socket);
    try {
      const receivedAt = new Date();
      const refusal = requestTargetProblem(req.url ?? '/') ?? hostRefusal(req.rawHeaders, allowed);
      readBody(req, options.maxBodyBytes, (error, body, tooLarge) => {
        if (error !== undefined) return respond(req, res, error, undefined);
        try {
          const inbound = toInbound(req, receivedAt, refusal, body, tooLarge);
          options.intake.submit(inbound, (failure, answer) => respond(req, res, failure, answer));
        } catch (thrown) {
          respond(req, res, thrown as Error, undefined);
        }
      });
    } catch (error) {
      respond(req, res, error as Error, undefined);
    }
  });

  /** The intake's answer (or a 500 saying why there is none) to the caller; never throws. */
  function respond(req: IncomingMessage, res: ServerResponse, error: Error | undefined, answer: IntakeAnswer | undefined): void {
    try {
      if (answer !== undefined) writeAnswer(req, res, answer);
      else fail(res, error);
    } catch (thrown) {
      fail(res, thrown as Error);
    }
    busy.delete(req.socket);
    if (closing) req.socket.end();
  }

  function writeAnswer(req: IncomingMessage, res: ServerResponse, answer: IntakeAnswer): void {
    if (res.destroyed) return;
    const headers: string[] = [];
    for (const [name, value] of answer.headers) headers.push(name, value);
    // A HEAD answer has no body: it carries the app's content-length, if any, not ours
    // (listen's own explanations, 502/504, still give the length a GET would get).
    if (req.method !== 'HEAD' || answer.body.length > 0) headers.push('content-length', String(answer.body.length));
    if (closing) headers.push('connection', 'close');
    // A flat [name, value, ...] list keeps repeated headers (set-cookie) as separate lines.
    res.writeHead(answer.status, headers).end(answer.body);
  }

  function fail(res: ServerResponse, error: Error | undefined): void {
    if (res.headersSent || res.destroyed) return;
    try {
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`fe-webhooks: ${error?.message ?? 'no answer'}\n`);
    } catch {
      res.destroy();
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
