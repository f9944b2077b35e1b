import type { CaptureRecord } from '../capture/record.js';

/** One received request, from the local HTTP server or from the relay tunnel. */
export interface InboundRequest {
  method: string;
  path: string;
  rawHeaders: string[];
  body: Buffer;
  receivedAt?: Date;
  source?: CaptureRecord['source'];
}

/** What goes back to the caller. */
export interface IntakeAnswer {
  status: number;
  headers: Array<[string, string]>;
  body: Buffer;
}

export interface Intake {
  handle(request: InboundRequest): Promise<IntakeAnswer>;
  close(): Promise<void>;
}
