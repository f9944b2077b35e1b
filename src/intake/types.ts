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
}

/** What goes back to the caller. */
export interface IntakeAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
  /**
   * Set only on listen's own 502/504 when the forward got no answer (target down, too
   * slow): the relay tunnel keeps such an event and retries it. An app that answers
   * 502 or 504 itself never has it, so its answer is passed back like any other.
   */
  forwardFailed?: true;
}

export interface Intake {
  handle(request: InboundRequest): Promise<IntakeAnswer>;
  close(): Promise<void>;
}
