import { performance } from 'node:perf_hooks';
import { getGlobalDispatcher, type Dispatcher } from 'undici';
import { classifyDeliveryError, type DeliveryError } from './failure.js';

export type { DeliveryError, DeliveryErrorKind } from './failure.js';

/** How much of a non-2xx answer's body is kept to explain the failure. */
export const RESPONSE_SNIPPET_BYTES = 512;

export interface DeliveryRequest {
  url: URL;
  /**
   * The path and query to send instead of `url`'s, byte for byte: a URL object
   * percent-encodes `'`, `"`, `{}`… and a replayed path must reach the app as captured.
   */
  path?: string;
  /** Sent exactly as given: a string is sent as its UTF-8 bytes, never re-serialised. */
  body: Buffer | string;
  headers: Record<string, string | string[]>;
  /** The whole exchange (connect, send, answer) must finish within this, like FrontEngine's 5 s. */
  timeoutMs: number;
  /** Default: undici's global dispatcher. Pass an Agent/Pool for --insecure or connection reuse. */
  dispatcher?: Dispatcher;
  signal?: AbortSignal;
  /** Default POST, as FrontEngine sends. */
  method?: Dispatcher.HttpMethod;
}

export interface DeliveryOutcome {
  /** The answer's status, when one came (also on a timeout after the status line). */
  status?: number;
  /** A 2xx answered completely within the timeout: FrontEngine's definition of delivered. */
  ok: boolean;
  latencyMs: number;
  error?: DeliveryError;
  /** The first bytes of a non-2xx answer's body, as text. */
  responseSnippet?: string;
  /** The same bytes, raw: printers escape them (a body that is not UTF-8 shows as \xff, not U+FFFD). */
  responseHead?: Buffer;
}

class DeliveryTimeout extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
  }
}

class DeliveryAborted extends Error {
  constructor() {
    super('aborted');
  }
}

function isSuccess(status: number | undefined): boolean {
  return status !== undefined && status >= 200 && status < 300;
}

/**
 * One HTTP request, timed: never throws for network trouble (refused, timeout, TLS,
 * DNS, reset are outcomes), never follows redirects. Built on undici's `dispatch`
 * rather than `request` because it skips the stream machinery, which matters in load mode.
 */
export function deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
  const started = performance.now();
  const { url } = request;
  return new Promise<DeliveryOutcome>((resolve) => {
    let settled = false;
    let status: number | undefined;
    let controller: Dispatcher.DispatchController | undefined;
    let snippet: Buffer[] | undefined;
    let snippetLength = 0;

    const finish = (error?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', onAbort);
      const outcome: DeliveryOutcome = { ok: false, latencyMs: performance.now() - started };
      if (status !== undefined) outcome.status = status;
      if (error instanceof DeliveryTimeout) {
        outcome.error = { kind: 'timeout', message: `timed out after ${error.timeoutMs} ms` };
      } else if (error instanceof DeliveryAborted) {
        outcome.error = { kind: 'other', message: 'aborted' };
      } else if (error !== undefined) {
        outcome.error = classifyDeliveryError(error, url);
      } else {
        outcome.ok = isSuccess(status);
      }
      if (snippet !== undefined) {
        outcome.responseHead = Buffer.concat(snippet);
        outcome.responseSnippet = outcome.responseHead.toString('utf8');
      }
      resolve(outcome);
    };
    const stop = (reason: Error): void => {
      // A request still queued or connecting has no controller yet: it is aborted as soon as it starts.
      if (controller && !controller.aborted) controller.abort(reason);
      finish(reason);
    };
    const onAbort = (): void => stop(new DeliveryAborted());
    const timer = setTimeout(() => stop(new DeliveryTimeout(request.timeoutMs)), request.timeoutMs);
    if (request.signal?.aborted) {
      onAbort();
      return;
    }
    request.signal?.addEventListener('abort', onAbort, { once: true });

    const handler: Dispatcher.DispatchHandler = {
      onRequestStart(ctrl) {
        controller = ctrl;
        if (settled) ctrl.abort(new DeliveryAborted());
      },
      onResponseStart(_ctrl, statusCode) {
        if (statusCode < 200) return;
        status = statusCode;
        if (!isSuccess(statusCode)) snippet = [];
      },
      onResponseData(_ctrl, chunk) {
        if (snippet === undefined || snippetLength >= RESPONSE_SNIPPET_BYTES) return;
        const part = chunk.subarray(0, RESPONSE_SNIPPET_BYTES - snippetLength);
        snippet.push(part);
        snippetLength += part.length;
      },
      onResponseEnd() {
        finish();
      },
      onResponseError(_ctrl, error) {
        finish(error);
      },
    };
    try {
      (request.dispatcher ?? getGlobalDispatcher()).dispatch(
        {
          origin: url.origin,
          path: request.path ?? `${url.pathname}${url.search}`,
          method: request.method ?? 'POST',
          headers: request.headers,
          body: request.body,
        },
        handler,
      );
    } catch (error) {
      // A closed dispatcher or an invalid header throws synchronously: still an outcome.
      finish(error);
    }
  });
}
