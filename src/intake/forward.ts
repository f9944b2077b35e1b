import { Agent, errors, type Dispatcher } from 'undici';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { answerExcerpt, type ForwardResult } from '../capture/record.js';
import { answerHeaders, forwardableRequestHeaders } from './headers.js';
import type { InboundRequest, IntakeAnswer } from './types.js';
import { hasDotSegments } from '../util/url.js';

/** How long an idle connection to the app is kept for the next request. */
const KEEP_ALIVE_MS = 4_000;
/**
 * Connections to the app: enough that every request in flight has its own (a webhook
 * burst comes in parallel and the app should see it so), not so many that a flood
 * opens thousands of sockets; past this, requests queue for a free connection.
 */
const MAX_CONNECTIONS = 128;
/** Request paths whose forward URL is remembered: webhooks hit a handful of paths. */
const ROUTE_CACHE_SIZE = 256;

export interface ForwardOutcome {
  result: ForwardResult;
  /** What the caller gets: the app's answer, or 502/504 with a short explanation. */
  answer: IntakeAnswer;
}

/**
 * Where a request goes: the target's path, then the request's path; both queries kept.
 * Built as text, not through URL setters: those percent-encode `'`, `"`, `<>`, `{}` and
 * the backtick, and the app must see the path and query byte for byte as the caller sent them.
 */
export function forwardUrl(target: URL, requestPath: string): Route {
  const queryAt = requestPath.indexOf('?');
  const pathPart = queryAt === -1 ? requestPath : requestPath.slice(0, queryAt);
  let path = target.pathname;
  // `/` adds nothing: `--forward localhost:3000/hooks` must reach /hooks, not /hooks/.
  if (pathPart !== '' && pathPart !== '/') path = path.replace(/\/+$/, '') + (pathPart.startsWith('/') ? pathPart : `/${pathPart}`);
  let search = target.search;
  if (queryAt !== -1) {
    const query = requestPath.slice(queryAt + 1);
    // A bare `?` is kept too when the target has no query of its own: nothing is dropped.
    if (search === '') search = `?${query}`;
    else if (query !== '') search = `${search}&${query}`;
  }
  return { origin: target.origin, path: `${path}${search}`, href: `${target.origin}${path}${search}` };
}

/** Where one request path goes: the origin and path undici wants, and the href for records. */
export interface Route {
  origin: string;
  path: string;
  href: string;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function explain(status: number, message: string): IntakeAnswer {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`fe-webhooks: ${message}\n`) };
}

/** Errors meaning nothing could be reached at all: no app ran there to answer. */
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A short reason for a failed forward, from undici's or the socket's error, and whether
 * the app was unreachable (nothing accepted the connection): that is no answer at all,
 * unlike a timeout or a reset, which an app that got the request caused.
 */
function failureReason(error: unknown, timeoutMs: number): { status: 502 | 504; reason: string; unreachable?: true } {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError ||
    (error as Error).name === 'TimeoutError'
  ) {
    return { status: 504, reason: `timeout: no answer within ${timeoutMs} ms` };
  }
  if (code === 'ECONNREFUSED') return { status: 502, reason: 'refused: nothing listens there', unreachable: true };
  if (code === 'ECONNRESET' || error instanceof errors.SocketError) return { status: 502, reason: 'reset: the app closed the connection' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { status: 502, reason: 'unknown host', unreachable: true };
  return {
    status: 502,
    reason: (error as Error).message || String(error),
    ...(code !== undefined && UNREACHABLE_CODES.has(code) ? { unreachable: true as const } : {}),
  };
}

export interface ForwarderOptions {
  /** The whole exchange must finish in this time (FrontEngine's 5 s by default). */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
}

/**
 * One exchange with the app, as an undici dispatch handler: the answer is collected
 * into a buffer as it comes (no response stream, no abort signal: this is the hot
 * path, and those cost more than the forward itself under load).
 */
class Exchange implements Dispatcher.DispatchHandler {
  private abortExchange: ((reason: Error) => void) | undefined;
  private timedOut = false;
  private finished = false;
  private status = 0;
  private rawHeaders: Buffer[] = [];
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();

  constructor(
    private readonly route: Route,
    private readonly timeoutMs: number,
    /** A HEAD: the answer keeps the app's content-length (it has no body to measure). */
    private readonly isHead: boolean,
    private readonly done: (outcome: ForwardOutcome) => void,
  ) {
    // One timer for the whole exchange (connect, headers and body), cleared when it ends.
    this.timer = setTimeout(() => this.timeout(), timeoutMs);
  }

  private timeout(): void {
    this.timedOut = true;
    // Still waiting for a connection (an app that accepts nothing): answer now, and
    // undici aborts the request when it gets that far (onConnect below).
    if (this.abortExchange) this.abortExchange(new TimeoutError());
    else this.onError(new TimeoutError());
  }

  onConnect(abort: (reason?: Error) => void): void {
    if (this.timedOut) abort(new TimeoutError());
    else this.abortExchange = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    if (this.finished) return false;
    this.status = statusCode;
    this.rawHeaders = rawHeaders;
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.finished) return false;
    this.chunks.push(chunk);
    this.size += chunk.length;
    return true;
  }

  onComplete(): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const raw = this.rawHeaders;
    // undici hands raw header bytes; latin1 is how HTTP/1.1 header bytes map to a string.
    const headers: string[] = new Array<string>(raw.length);
    for (let i = 0; i < raw.length; i++) headers[i] = (raw[i] as Buffer).toString('latin1');
    const body = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.size);
    this.done({
      result: {
        target: this.route.href,
        status: this.status,
        latencyMs: round(performance.now() - this.started),
        answer: answerExcerpt(headers, body),
      },
      answer: { status: this.status, headers: answerHeaders(headers, this.isHead), body },
    });
  }

  onError(error: Error): void {
    if (this.finished) return;
    this.finished = true;
    clearTimeout(this.timer);
    const failure = failureReason(this.timedOut ? new TimeoutError() : error, this.timeoutMs);
    const href = this.route.href;
    const what =
      failure.status === 504 ? `${href} did not answer within ${this.timeoutMs} ms` : `could not reach ${href} (${failure.reason})`;
    this.done({
      result: { target: href, latencyMs: round(performance.now() - this.started), error: failure.reason },
      answer: { ...explain(failure.status, what), ...(failure.unreachable ? { forwardFailed: true as const } : {}) },
    });
  }
}

/**
 * Sends requests to the app byte for byte: same method, the exact body, the caller's
 * end-to-end headers (order and repeats kept). Redirects are answered, not followed:
 * the caller sees the app's 3xx as FrontEngine would.
 */
export class Forwarder {
  readonly timeoutMs: number;
  private readonly dispatcher: Dispatcher;
  private readonly ownsDispatcher: boolean;
  /** Request path → route, per target; a Map keeps insertion order, so the oldest goes first. */
  private readonly routes = new Map<string, Map<string, Route | null>>();

  constructor(options: ForwarderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? FRONTENGINE_TIMEOUT_MS;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connections: MAX_CONNECTIONS });
  }

  /** The route of a request path (null: refused for dot segments), remembered for the next one. */
  private route(target: URL, requestPath: string): Route | null {
    let routes = this.routes.get(target.href);
    if (routes === undefined) {
      routes = new Map();
      this.routes.set(target.href, routes);
    }
    let route = routes.get(requestPath);
    if (route !== undefined) return route;
    if (hasDotSegments(requestPath)) {
      route = null;
    } else {
      route = forwardUrl(target, requestPath);
    }
    if (routes.size >= ROUTE_CACHE_SIZE) routes.delete(routes.keys().next().value as string);
    routes.set(requestPath, route);
    return route;
  }

  forward(target: URL, inbound: InboundRequest): Promise<ForwardOutcome> {
    return new Promise((resolve) => this.send(target, inbound, resolve));
  }

  /** forward() for hot paths: the outcome to a callback (always called, once), no promise. */
  send(target: URL, inbound: InboundRequest, done: (outcome: ForwardOutcome) => void): void {
    const route = this.route(target, inbound.path);
    if (route === null) {
      return done({
        result: { target: target.href, latencyMs: 0, error: 'path has dot segments' },
        answer: explain(400, `refusing to forward ${inbound.path.slice(0, 200)}: its . or .. segments would leave ${target.href}`),
      });
    }
    const timeoutMs = inbound.forwardTimeoutMs ?? this.timeoutMs;
    const exchange = new Exchange(route, timeoutMs, inbound.method === 'HEAD', done);
    try {
      this.dispatch(route, inbound, timeoutMs, exchange);
    } catch (error) {
      // undici reports through the handler; a throw (a header it refuses) is answered alike.
      exchange.onError(error as Error);
    }
  }

  private dispatch(route: Route, inbound: InboundRequest, timeoutMs: number, exchange: Exchange): void {
    this.dispatcher.dispatch(
      {
        origin: route.origin,
        path: route.path,
        method: inbound.method as Dispatcher.HttpMethod,
        headers: forwardableRequestHeaders(inbound.rawHeaders),
        // Any method keeps its body, even GET: the app gets what the caller sent.
        body: inbound.body.length > 0 ? inbound.body : null,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      },
      exchange,
    );
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
