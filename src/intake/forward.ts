import { Agent, errors, request, type Dispatcher } from 'undici';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import type { ForwardResult } from '../capture/record.js';
import { answerHeaders, forwardableRequestHeaders } from './headers.js';
import type { InboundRequest, IntakeAnswer } from './types.js';
import { hasDotSegments } from '../util/url.js';

/** How long an idle connection to the app is kept for the next request. */
const KEEP_ALIVE_MS = 4_000;

export interface ForwardOutcome {
  result: ForwardResult;
  /** What the caller gets: the app's answer, or 502/504 with a short explanation. */
  answer: IntakeAnswer;
}

/** The URL a request goes to: the target's path, then the request's path; both queries kept. */
export function forwardUrl(target: URL, requestPath: string): URL {
  const url = new URL(target.href);
  const queryAt = requestPath.indexOf('?');
  const pathPart = queryAt === -1 ? requestPath : requestPath.slice(0, queryAt);
  const query = queryAt === -1 ? '' : requestPath.slice(queryAt + 1);
  // `/` adds nothing: `--forward localhost:3000/hooks` must reach /hooks, not /hooks/.
  if (pathPart !== '' && pathPart !== '/') {
    url.pathname = url.pathname.replace(/\/+$/, '') + (pathPart.startsWith('/') ? pathPart : `/${pathPart}`);
  }
  if (query !== '') url.search = url.search ? `${url.search}&${query}` : `?${query}`;
  return url;
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function explain(status: number, message: string): IntakeAnswer {
  return { status, headers: [['content-type', 'text/plain; charset=utf-8']], body: Buffer.from(`fe-webhooks: ${message}\n`) };
}

/** A short reason for a failed forward, from undici's or the socket's error. */
function failureReason(error: unknown, timeoutMs: number): { status: 502 | 504; reason: string } {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (
    error instanceof errors.HeadersTimeoutError ||
    error instanceof errors.BodyTimeoutError ||
    error instanceof errors.ConnectTimeoutError ||
    (error as Error).name === 'TimeoutError'
  ) {
    return { status: 504, reason: `timeout: no answer within ${timeoutMs} ms` };
  }
  if (code === 'ECONNREFUSED') return { status: 502, reason: 'refused: nothing listens there' };
  if (code === 'ECONNRESET' || error instanceof errors.SocketError) return { status: 502, reason: 'reset: the app closed the connection' };
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { status: 502, reason: 'unknown host' };
  return { status: 502, reason: (error as Error).message || String(error) };
}

export interface ForwarderOptions {
  /** The whole exchange must finish in this time (FrontEngine's 5 s by default). */
  timeoutMs?: number;
  dispatcher?: Dispatcher;
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

  constructor(options: ForwarderOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? FRONTENGINE_TIMEOUT_MS;
    this.ownsDispatcher = options.dispatcher === undefined;
    this.dispatcher = options.dispatcher ?? new Agent({ keepAliveTimeout: KEEP_ALIVE_MS, connections: 64 });
  }

  async forward(target: URL, inbound: InboundRequest): Promise<ForwardOutcome> {
    if (hasDotSegments(inbound.path)) {
      return {
        result: { target: target.href, latencyMs: 0, error: 'path has dot segments' },
        answer: explain(400, `refusing to forward ${inbound.path.slice(0, 200)}: its . or .. segments would leave ${target.href}`),
      };
    }
    const url = forwardUrl(target, inbound.path);
    const started = performance.now();
    // One timer for the whole exchange, cleared as soon as it ends (AbortSignal.timeout
    // keeps its timer alive until it fires, which adds up under load).
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new TimeoutError()), this.timeoutMs);
    const signal = controller.signal;
    try {
      const response = await request(url, {
        method: inbound.method as Dispatcher.HttpMethod,
        headers: forwardableRequestHeaders(inbound.rawHeaders),
        // Any method keeps its body, even GET: the app gets what the caller sent.
        body: inbound.body.length > 0 ? inbound.body : null,
        dispatcher: this.dispatcher,
        responseHeaders: 'raw',
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
        signal,
      });
      const body = Buffer.from(await response.body.arrayBuffer());
      const latencyMs = performance.now() - started;
      // With responseHeaders 'raw', undici gives the flat [name, value, ...] list.
      const rawHeaders = response.headers as unknown as string[];
      return {
        result: { target: url.href, status: response.statusCode, latencyMs: round(latencyMs) },
        answer: { status: response.statusCode, headers: answerHeaders(rawHeaders), body },
      };
    } catch (error) {
      const latencyMs = round(performance.now() - started);
      const failure = failureReason(signal.aborted ? signal.reason : error, this.timeoutMs);
      const what = failure.status === 504 ? `${url.href} did not answer within ${this.timeoutMs} ms` : `could not reach ${url.href} (${failure.reason})`;
      return {
        result: { target: url.href, latencyMs, error: failure.reason },
        answer: explain(failure.status, what),
      };
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    if (this.ownsDispatcher) await this.dispatcher.close();
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
