import { AppendStalledError, type DurableAppender } from '../capture/appender.js';
import { encodeBody, headersFromRaw, newCaptureId, type CaptureRecord } from '../capture/record.js';
import { DEFAULT_MAX_BODY_BYTES } from '../config/defaults.js';
import { PreparedSecrets } from '../signing/index.js';
import { isoTime } from '../util/iso-time.js';
import { formatBytes } from '../util/units.js';
import { Forwarder } from './forward.js';
import type { InboundRequest, Intake, IntakeAnswer } from './types.js';
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
  const inFlight = new Set<Promise<unknown>>();
  let closed = false;

  async function run(inbound: InboundRequest): Promise<IntakeAnswer> {
    const appender = options.appender;
    // The file refuses writes (disk full): take nothing in until it takes them again.
    const stalled = appender?.stalled;
    if (stalled) return heldAnswer(stalled);
    // Its capture line is on its way: a batch about to be synced may wait for it.
    appender?.expectLine();
    let answer: IntakeAnswer;
    let record: CaptureRecord;
    try {
      ({ answer, record } = await answerOf(inbound));
    } catch (error) {
      appender?.withdrawLine();
      throw error;
    }
    try {
      await appender?.append(JSON.stringify(record));
    } catch (error) {
      // Forwarded already: the app's answer stands (a repeat would be worse), and the
      // appender keeps the line and writes it once the file takes writes again.
      if (!(error instanceof AppendStalledError)) throw error;
    }
    options.onRecord?.(record);
    return answer;
  }

  /** The answer and the capture record of one request (forwarded, or answered here). */
  async function answerOf(inbound: InboundRequest): Promise<{ answer: IntakeAnswer; record: CaptureRecord }> {
    const receivedAtMs = inbound.receivedAt?.getTime() ?? Date.now();
    const id = newCaptureId(receivedAtMs);
    const headers = headersFromRaw(inbound.rawHeaders);
    const tooLarge = inbound.bodyTooLarge === true || inbound.body.length > maxBodyBytes;
    const body = tooLarge ? EMPTY_BODY : inbound.body;
    const encoded = encodeBody(body);
    // Written out, not spread: a spread in a literal is a runtime call per request. The
    // key order is the captures file's.
    const record: CaptureRecord = {
      id,
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

    let answer: IntakeAnswer;
    if (tooLarge) {
      record.rejected = `body over the ${formatBytes(maxBodyBytes)} limit`;
      answer = jsonAnswer(413, { error: `Payload Too Large: the limit is ${maxBodyBytes} bytes`, id });
    } else if (inbound.refusal) {
      record.rejected = inbound.refusal.reason;
      answer = jsonAnswer(inbound.refusal.status, { error: inbound.refusal.reason, id });
    } else if (forwarder && options.forward) {
      // Never too large here: `body` is the inbound's own.
      const outcome = await forwarder.forward(options.forward, inbound);
      record.forward = outcome.result;
      answer = outcome.answer;
    } else {
      const delayMs = options.respondDelayMs ?? 0;
      if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
      answer = jsonAnswer(options.respondStatus ?? 200, { received: true, id });
    }
    record.responseStatus = answer.status;
    inbound.annotate?.(record, answer);
    return { answer, record };
  }

  return {
    forwarder,
    handle(inbound) {
      if (closed) return Promise.reject(new Error('The intake is closed'));
      const work = run(inbound);
      inFlight.add(work);
      const forget = (): void => void inFlight.delete(work);
      work.then(forget, forget);
      return work;
    },
    async close() {
      closed = true;
      // In-flight forwards finish and their captures land before the file closes.
      await Promise.allSettled([...inFlight]);
      await options.appender?.close();
      await forwarder?.close();
    },
  };
}
