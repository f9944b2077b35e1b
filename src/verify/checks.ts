import { createHash } from 'node:crypto';
import { validateEvent } from '../events/validate.js';
import { constantTimeEqualAscii, type PreparedSecrets } from '../signing/index.js';
import { hexKey, pairHash, type RepeatKeys } from './duplicates.js';
import { formatDuration } from '../util/duration.js';
import { isUnreadable, type AgeSource, type AppAnswer, type InputItem, type Reason, type ReasonCode, type Verdict } from './types.js';

export interface CheckContext {
  secrets: PreparedSecrets;
  /** --max-age in ms. */
  maxAgeMs?: number;
  nowMs: number;
  /** --event: only this event is checked. */
  event?: string;
  /** --ignore-app-status: a recorded forward's failure does not fail the request. */
  ignoreAppStatus?: boolean;
}

export interface Checked {
  verdict: Verdict;
  /** What repeat detection keys this request by (bytes, event + message_id). */
  keys: RepeatKeys;
}

const WELL_FORMED_SIGNATURE = /^sha256=[0-9a-f]{64}$/;
const SIGNATURE_PREFIX = 'sha256=';
const SIGNATURE_LENGTH = SIGNATURE_PREFIX.length + 64;

function bodyText(body: string | Buffer): string | undefined {
  if (typeof body === 'string') return body;
  const text = body.toString('utf8');
  // Only a lossless round trip is UTF-8; JSON bodies must be.
  return Buffer.byteLength(text, 'utf8') === body.length && Buffer.from(text, 'utf8').equals(body) ? text : undefined;
}

/**
 * Which key signed the body (-1 for none) and the HMAC under the first key, which is the
 * exact-duplicate fingerprint: one HMAC per key per request, nothing hashed twice.
 * The hex digests are compared in constant time without making a Buffer per request
 * (timingSafeEqual would need two), as the spec asks of every signature check.
 */
function signatureMatch(
  body: string | Buffer,
  signature: string | undefined,
  secrets: PreparedSecrets,
): { index: number; fingerprint: string } {
  const { hmacHex } = secrets;
  // Only `sha256=` + 64 lower-case hex can match a hex digest (the page's rule).
  const given =
    signature !== undefined && signature.length === SIGNATURE_LENGTH && signature.startsWith(SIGNATURE_PREFIX)
      ? signature.slice(SIGNATURE_PREFIX.length)
      : undefined;
  let index = -1;
  let fingerprint: string | undefined;
  for (let i = 0; i < hmacHex.length; i++) {
    const hmac = hmacHex[i];
    if (hmac === undefined) continue;
    const hex = hmac(body);
    if (i === 0) fingerprint = hex;
    if (given !== undefined && constantTimeEqualAscii(given, hex) && index === -1) index = i;
  }
  // An empty first secret signs nothing: the bytes are still fingerprinted, by plain SHA-256.
  return { index, fingerprint: fingerprint ?? createHash('sha256').update(body).digest('hex') };
}

function checkSignature(signatures: readonly string[], matched: number, secretCount: number, reasons: Reason[]): number {
  if (signatures.length === 0) {
    reasons.push(reason('signature-missing', 'no X-Webhook-Signature header'));
    return -1;
  }
  if (signatures.length > 1) {
    reasons.push(reason('signature-repeated', `X-Webhook-Signature sent ${signatures.length} times`));
    return -1;
  }
  if (matched !== -1) return matched;
  // The format is checked only to name the failure.
  if (!WELL_FORMED_SIGNATURE.test(signatures[0] as string)) {
    reasons.push(reason('signature-malformed', 'X-Webhook-Signature is not sha256=<64 lower-case hex>'));
  } else {
    const which = secretCount === 1 ? 'the secret' : `any of the ${secretCount} secrets`;
    reasons.push(reason('signature-invalid', `signature does not match ${which} (wrong secret, or the body changed)`));
  }
  return -1;
}

interface Age {
  ms: number;
  source: AgeSource;
}

function ageOf(document: unknown, receivedAt: string | undefined, nowMs: number): Age | undefined {
  const payload = (document as { payload?: Record<string, unknown> } | undefined)?.payload;
  if (typeof payload === 'object' && payload !== null) {
    // Delivery-status events carry Unix seconds; DomainDNSError an ISO 8601 check time.
    if (typeof payload.timestamp === 'number') return { ms: nowMs - payload.timestamp * 1000, source: 'payload.timestamp' };
    if (typeof payload.dns_checked_at === 'string') {
      const at = Date.parse(payload.dns_checked_at);
      if (!Number.isNaN(at)) return { ms: nowMs - at, source: 'payload.dns_checked_at' };
    }
  }
  // Bounces, clicks and send-limit events carry no time: the receipt time is the best there is.
  const receivedAtMs = receivedAt === undefined ? Number.NaN : Date.parse(receivedAt);
  if (!Number.isNaN(receivedAtMs)) return { ms: nowMs - receivedAtMs, source: 'receivedAt' };
  return undefined;
}

function messageIdOf(document: unknown): string | undefined {
  const id = (document as { payload?: { message?: { message_id?: unknown } } }).payload?.message?.message_id;
  return typeof id === 'string' ? id : undefined;
}

/**
 * Every Verdict and Reason is made with all its keys, in the one order the json reporter
 * prints them (JSON.stringify leaves out the undefined ones, so the report is the same):
 * keys added later gave each verdict one of several hidden classes, and V8 threw away
 * and recompiled the optimized checking code as each new one turned up.
 */
function newVerdict(location: string, id: string | undefined, reasons: Reason[]): Verdict {
  return {
    location,
    id,
    ok: false,
    reasons,
    notes: [],
    secretIndex: undefined,
    event: undefined,
    messageId: undefined,
    ageMs: undefined,
    ageSource: undefined,
    redelivery: undefined,
    exactDuplicateOf: undefined,
    samePairAs: undefined,
  };
}

function reason(code: ReasonCode, message: string): Reason {
  return { code, path: undefined, message };
}

/** A verdict with one reason that makes every other check moot, and nothing to key repeats by. */
function soleReason(location: string, id: string | undefined, code: ReasonCode, message: string, event?: string): Checked {
  const verdict = newVerdict(location, id, [reason(code, message)]);
  if (event !== undefined) verdict.event = event;
  return { verdict, keys: { hasBytes: false, bytesHi: 0, bytesLo: 0, hasPair: false, pairHi: 0, pairLo: 0 } };
}

/** Why the app did not take a request that was forwarded to it, if it did not. */
function appFailure(forward: AppAnswer): Reason | undefined {
  // Read from the capture file, which anyone may have written: control characters escaped.
  const to = typeof forward.target === 'string' ? ` (forwarded to ${escapeControls(forward.target)})` : '';
  if (forward.error !== undefined) return reason('app-unreachable', `your app never got it: ${escapeControls(String(forward.error))}${to}`);
  const { status } = forward;
  if (typeof status === 'number' && status >= 200 && status <= 299) return undefined;
  return reason('app-status', `your app answered ${typeof status === 'number' ? status : 'nothing'}${to}`);
}

/** Text with its control characters (and quotes, backslashes) JSON-escaped. */
function escapeControls(text: string): string {
  return JSON.stringify(text).slice(1, -1);
}

const REPLACEMENT_CHARACTER = '\uFFFD';

/** Every check on one request; undefined when --event leaves it out. */
export function checkItem(item: InputItem, ctx: CheckContext): Checked | undefined {
  if (isUnreadable(item)) return soleReason(item.location, item.id, 'unreadable', item.unreadable);
  // The body was never kept (refused, or the HAR left it out): signature and schema
  // failures would only be echoes of that one reason.
  if (item.rejected) return soleReason(item.location, item.id, 'rejected', `refused when captured: ${item.rejected}`, item.event);
  if (item.bodyMissing !== undefined) return soleReason(item.location, item.id, 'body-missing', item.bodyMissing, item.event);
  const text = bodyText(item.body);
  let document: unknown;
  let parseError: string | undefined;
  if (text !== undefined) {
    try {
      document = JSON.parse(text);
    } catch (error) {
      parseError = (error as Error).message;
    }
  }
  const named = (document as { event?: unknown } | null | undefined)?.event;
  // Only a request known to be another event is left out: one we cannot read might be this one.
  if (ctx.event !== undefined && typeof named === 'string' && named !== ctx.event) return undefined;

  const reasons: Reason[] = [];
  const verdict = newVerdict(item.location, item.id, reasons);
  // First: a request the app never took is the failure that matters most in CI.
  if (item.forward !== undefined && ctx.ignoreAppStatus !== true) {
    const failure = appFailure(item.forward);
    if (failure) reasons.push(failure);
  }
  if (item.redelivery === true) verdict.redelivery = true;
  const match = signatureMatch(item.body, item.signatures[0], ctx.secrets);
  const secretIndex = checkSignature(item.signatures, match.index, ctx.secrets.keys.length, reasons);
  if (secretIndex !== -1) verdict.secretIndex = secretIndex;
  else if (reasons.at(-1)?.code === 'signature-invalid' && typeof item.body === 'string' && item.body.includes(REPLACEMENT_CHARACTER)) {
    // Text with U+FFFD in it: whatever saved the body decoded bytes that were not UTF-8
    // and replaced them, so the bytes that were signed are gone.
    reasons[reasons.length - 1] = reason(
      'body-replaced',
      'signature does not match, and the body holds U+FFFD replacement characters: the tool that saved it (a HAR exporter?) likely ' +
        'replaced bytes that were not UTF-8, so the signed bytes are lost; save bodies as base64 or files (Playwright: content "attach")',
    );
  }

  if (text === undefined) reasons.push(reason('body-not-utf8', 'body is not UTF-8 text, so not JSON'));
  else if (parseError !== undefined) reasons.push(reason('body-not-json', `body is not JSON (${parseError})`));
  else {
    const validation = validateEvent(document);
    if (validation.event) verdict.event = validation.event;
    else if (typeof named === 'string') verdict.event = named;
    for (const violation of validation.violations) {
      if (violation.path === 'event' || violation.path === '$') {
        reasons.push(reason('event-unknown', violation.path === '$' ? `body is ${violation.message}` : `event ${violation.message}`));
      } else {
        reasons.push({ code: 'schema', path: violation.path, message: `${violation.path} ${violation.message}` });
      }
    }
    const messageId = messageIdOf(document);
    if (messageId !== undefined) verdict.messageId = messageId;
  }

  if (ctx.maxAgeMs !== undefined) {
    const age = ageOf(document, item.receivedAt, ctx.nowMs);
    // Said once in the summary, not on every line: ageSource carries it per request.
    if (!age) verdict.ageSource = 'none';
    else {
      verdict.ageMs = age.ms;
      verdict.ageSource = age.source;
      if (age.ms > ctx.maxAgeMs) {
        const [ageText, maxText] = [formatDuration(age.ms, { compact: true }), formatDuration(ctx.maxAgeMs, { compact: true })];
        reasons.push(reason('too-old', `${ageText} old (by ${age.source}), over --max-age ${maxText}`));
      }
    }
  }
  verdict.ok = reasons.length === 0;
  const bytes = hexKey(match.fingerprint);
  const hasPair = verdict.event !== undefined && verdict.messageId !== undefined;
  const pair = { hi: 0, lo: 0 };
  if (hasPair) pairHash(verdict.event as string, verdict.messageId as string, pair);
  // Made whole, never written again: the tally's reused keys object has another class.
  const keys: RepeatKeys = { hasBytes: true, bytesHi: bytes.hi, bytesLo: bytes.lo, hasPair, pairHi: pair.hi, pairLo: pair.lo };
  return { verdict, keys };
}

/** What is counted beside the verdicts, for the summary. */
export interface CheckCounts {
  skipped: number;
  filteredOut: number;
  agedByReceipt: number;
  notAged: number;
}

/**
 * checkItem for one input item, counting what gets no verdict: non-POST requests (HAR
 * exports carry page loads) and other events under --event; and how it was aged.
 */
export function checkCounted(item: InputItem, ctx: CheckContext, counts: CheckCounts): Checked | undefined {
  if (!isUnreadable(item) && item.method !== undefined && item.method !== 'POST') {
    counts.skipped++;
    return undefined;
  }
  const checked = checkItem(item, ctx);
  if (!checked) {
    counts.filteredOut++;
    return undefined;
  }
  const { ageSource } = checked.verdict;
  if (ageSource === 'receivedAt') counts.agedByReceipt++;
  else if (ageSource === 'none') counts.notAged++;
  return checked;
}
