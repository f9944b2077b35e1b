import type { CaptureRecord } from '../capture/record.js';

/** One received request, from the local HTTP server or from the relay tunnel. */
export interface InboundRequest {
  method: string;
  path: string;
  rawHeaders: string[];
  body: Buffer;
  receivedAt?: Date;
  source?: CaptureRecord['source'];
  /** The relay sent it on an earlier connection too (see CaptureRecord.redelivery). */
  redelivery?: true;
  /**
   * Set by a transport that stopped keeping the body once it passed its size limit:
   * `body` is then empty and the request is answered 413. The intake also refuses a
   * `body` over its own limit, so a transport that reads everything needs no care.
   */
  bodyTooLarge?: boolean;
  /** How long the app may take for this one request (default: the forwarder's budget). */
  forwardTimeoutMs?: number;
  /**
   * Called with the capture record once the answer is known, before the record is
   * written: a transport adds what only it knows (the relay tunnel: retry attempt, failed).
   */
  annotate?: (record: CaptureRecord, answer: IntakeAnswer) => void;
  /**
   * Set by a transport that refuses the request itself (listen's Host rule, a request
   * target that is not a path, CONNECT): it is captured as rejected with this reason,
   * answered with this status and a JSON reason, and never forwarded.
   */
  refusal?: { status: number; reason: string };
}

/** What goes back to the caller. */
export interface IntakeAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /**
   * Set only on listen's own 502 when the app could not be reached at all (nothing
   * listens there, unknown host): the relay tunnel holds such an event and tries again
   * soon, without counting it as an attempt. A timeout or a reset is not set: the app
   * got the request. An app that answers 502 or 504 itself never has it either.
   */
  forwardFailed?: true;
  /**
   * Set when listen did not take the request at all (its captures file cannot be
   * written): nothing was forwarded. Locally the caller gets 503 with Retry-After; the
   * relay tunnel does not acknowledge it, so the event waits at the relay.
   */
  held?: true;
}

/** The answer to one request, or why there is none (exactly one of the two is set). */
export type IntakeCallback = (error: Error | undefined, answer: IntakeAnswer | undefined) => void;

export interface Intake {
  handle(request: InboundRequest): Promise<IntakeAnswer>;
  /** handle() for hot paths: the same pipeline, the outcome to a callback, no promise. */
  submit(request: InboundRequest, done: IntakeCallback): void;
  close(): Promise<void>;
}
