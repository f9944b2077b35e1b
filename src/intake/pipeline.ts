import { AppendStalledError, type DurableAppender } from '../capture/appender.js';
import { encodeBody, headersFromRaw, newCaptureId, type CaptureRecord } from '../capture/record.js';
import { DEFAULT_MAX_BODY_BYTES } from '../config/defaults.js';
import { PreparedSecrets } from '../signing/index.js';
import { isoTime } from '../util/iso-time.js';
import { formatBytes } from '../util/units.js';
import { Forwarder } from './forward.js';
import type { InboundRequest, Intake, IntakeAnswer, IntakeCallback } from './types.js';
import { eventOf, signatureVerdict } from './verdict.js';

export interface IntakeOptions {
  /** Where requests go; without it the intake answers by itself. */
  forward?: URL;
  /** Checks signatures; without it the verdict is `unchecked`. */
  secret?: string;
  /** Durable captures; without it nothing is written (`--no-save`). */
  appender?: DurableAppender;
  /** The answer without a target (`--respond`, default 200). */
  respondStatus?: number;
  /** Wait before that answer (`--delay`), to drill the caller's timeout handling. */
  respondDelayMs?: number;
  maxBodyBytes?: number;
  /** The forward budget; FrontEngine's 5 s by default. */
  forwardTimeoutMs?: number;
  /** Called once per request, after the capture is durable and the answer is ready. */
  onRecord?: (record: CaptureRecord) => void;
  forwarder?: Forwarder;
}

function jsonAnswer(status: number, value: unknown): IntakeAnswer {
  return { status, headers: [['content-type', 'application/json']], body: Buffer.from(`${JSON.stringify(value)}\n`) };
}

const EMPTY_BODY: Buffer = Buffer.alloc(0);
/** Shared by every local record (records are never changed once written). */
const LOCAL_SOURCE: CaptureRecord['source'] = { kind: 'local' };

/** Seconds a caller refused while captures cannot be written is asked to wait. */
const HELD_RETRY_AFTER_S = 30;

/** Captures cannot be written: the request is not taken (not forwarded), so nothing goes unrecorded. */
function heldAnswer(stalled: AppendStalledError): IntakeAnswer {
  return {
    status: 503,
    headers: [['content-type', 'text/plain; charset=utf-8'], ['retry-after', String(HELD_RETRY_AFTER_S)]],
    body: Buffer.from(`fe-webhooks: ${stalled.message}; not forwarded, try again later\n`),
    held: true,
  };
}

/**
 * The one pipeline every received request goes through, whatever brought it: record →
 * signature verdict → forward byte-exact → capture (durable) → answer → notify.
 * The capture is written after the forward so the line holds its result, and before
 * the answer, so a caller that got an answer can count on the line being on disk.
 */
export function createIntake(options: IntakeOptions = {}): Intake & { forwarder: Forwarder | undefined } {
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const forwarder = options.forward ? (options.forwarder ?? new Forwarder({ timeoutMs: options.forwardTimeoutMs })) : undefined;
  // The secret as an HMAC key once, not per request.
  const secret = options.secret === undefined ? undefined : new PreparedSecrets(options.secret);
  // Requests taken and not answered yet; close() waits for them.
  let inFlight = 0;
  const idle: Array<() => void> = [];
  let closed = false;

  /**
   * One request through the pipeline, its answer (or why there is none) to `done`, once.
   * Callbacks, not async functions: this runs per request, and the promises and
   * microtask turns of an async chain cost more than the pipeline's own work.
   */
  function submit(inbound: InboundRequest, done: IntakeCallback): void {
    if (closed) return done(new Error('The intake is closed'), undefined);
    inFlight++;
    const finish: IntakeCallback = (error, answer) => {
      if (--inFlight === 0 && idle.length > 0) for (const wake of idle.splice(0)) wake();
      done(error, answer);
    };
    const appender = options.appender;
    // The file refuses writes (disk full): take nothing in until it takes them again.
    const stalled = appender?.stalled;
    if (stalled) return finish(undefined, heldAnswer(stalled));
    // Its capture line is on its way: a batch about to be synced may wait for it.
    appender?.expectLine();
    answerOf(inbound, (error, answer, record) => {
      if (error !== undefined) {
        appender?.withdrawLine();
        return finish(error, undefined);
      }
      if (appender === undefined) return notify(record as CaptureRecord, answer as IntakeAnswer, finish);
      appender.appendLine(JSON.stringify(record), (appendError) => {
        // Forwarded already: the app's answer stands (a repeat would be worse), and the
        // appender keeps the line and writes it once the file takes writes again.
        if (appendError !== null && !(appendError instanceof AppendStalledError)) return finish(appendError, undefined);
        notify(record as CaptureRecord, answer as IntakeAnswer, finish);
      });
    });
  }

  /** The record to whoever watches (printer, inspector), then the answer to the caller. */
  function notify(record: CaptureRecord, answer: IntakeAnswer, finish: IntakeCallback): void {
    try {
      options.onRecord?.(record);
    } catch (error) {
      return finish(error as Error, undefined);
    }
    finish(undefined, answer);
  }

  /** The answer and the capture record of one request (forwarded, or answered here). */
  function answerOf(
    inbound: InboundRequest,
    done: (error: Error | undefined, answer?: IntakeAnswer, record?: CaptureRecord) => void,
  ): void {
    let record: CaptureRecord;
    const complete = (answer: IntakeAnswer): void => {
      record.responseStatus = answer.status;
      try {
        inbound.annotate?.(record, answer);
      } catch (error) {
        return done(error as Error);
      }
      done(undefined, answer, record);
    };
    try {
      record = newRecord(inbound);
    } catch (error) {
      return done(error as Error);
    }
    // Outside the try: the answer's callbacks run from here on, and an error they throw
    // must not come back as a second outcome of this request.
    const id = record.id;
    if (isTooLarge(inbound)) {
      record.rejected = `body over the ${formatBytes(maxBodyBytes)} limit`;
      return complete(jsonAnswer(413, { error: `Payload Too Large: the limit is ${maxBodyBytes} bytes`, id }));
    }
    if (inbound.refusal) {
      record.rejected = inbound.refusal.reason;
      return complete(jsonAnswer(inbound.refusal.status, { error: inbound.refusal.reason, id }));
    }
    if (forwarder && options.forward) {
      // Never too large here: the body is the inbound's own.
      return forwarder.send(options.forward, inbound, (outcome) => {
        record.forward = outcome.result;
        complete(outcome.answer);
      });
    }
    const answer = jsonAnswer(options.respondStatus ?? 200, { received: true, id });
    const delayMs = options.respondDelayMs ?? 0;
    if (delayMs > 0) setTimeout(() => complete(answer), delayMs);
    else complete(answer);
  }

  function isTooLarge(inbound: InboundRequest): boolean {
    return inbound.bodyTooLarge === true || inbound.body.length > maxBodyBytes;
  }

  /** The capture record of a request as received: its verdict and event, no outcome yet. */
  function newRecord(inbound: InboundRequest): CaptureRecord {
    const receivedAtMs = inbound.receivedAt?.getTime() ?? Date.now();
    const headers = headersFromRaw(inbound.rawHeaders);
    const tooLarge = isTooLarge(inbound);
    const body = tooLarge ? EMPTY_BODY : inbound.body;
    const encoded = encodeBody(body);
    // Written out, not spread: a spread in a literal is a runtime call per request. The
    // key order is the captures file's.
    const record: CaptureRecord = {
      id: newCaptureId(receivedAtMs),
      receivedAt: isoTime(receivedAtMs),
      method: inbound.method,
      path: inbound.path,
      headers,
      body: encoded.body,
      bodyEncoding: encoded.bodyEncoding,
      bodySize: encoded.bodySize,
      signature: tooLarge ? 'unchecked' : signatureVerdict(headers, body, secret),
      source: inbound.source ?? LOCAL_SOURCE,
    };
    if (inbound.redelivery) record.redelivery = true;
    // The text is decoded once: a UTF-8 body's record text is the body as a string.
    const event = eventOf(body, encoded.bodyEncoding === 'utf8' ? encoded.body : undefined);
    if (event !== undefined) record.event = event;
    return record;
  }

  return {
    forwarder,
    submit,
    handle(inbound) {
      return new Promise((resolve, reject) =>
        submit(inbound, (error, answer) => (error === undefined ? resolve(answer as IntakeAnswer) : reject(error))),
      );
    },
    async close() {
      closed = true;
      // In-flight forwards finish and their captures land before the file closes.
      if (inFlight > 0) await new Promise<void>((resolve) => idle.push(resolve));
      await options.appender?.close();
      await forwarder?.close();
    },
  };
}
