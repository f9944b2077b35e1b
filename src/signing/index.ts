import { createHmac, timingSafeEqual } from 'node:crypto';

/** The header FrontEngine puts on every webhook request. */
export const SIGNATURE_HEADER = 'X-Webhook-Signature';
const SIGNATURE_PREFIX = 'sha256=';
const HEX_SHA256_LENGTH = 64;
const LOWER_HEX = /^[0-9a-f]{64}$/;

export type Body = string | Uint8Array;

function hmacHex(body: Body, secret: string): string {
  // The key is the secret's UTF-8 bytes and the message the exact body bytes, as the
  // page's Python `hmac.new(secret.encode(), payload, hashlib.sha256)` does.
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex');
}

/** `sha256=<lower-case hex HMAC-SHA256>` of the exact bytes of `body`. */
export function sign(body: Body, secret: string): string {
  return SIGNATURE_PREFIX + hmacHex(body, secret);
}

/**
 * Which of `secrets` signed `body`, as an index, or -1 when none did (or the header is
 * malformed). Timing-safe per secret; never throws on bad input.
 */
export function matchingSecretIndex(body: Body, signature: unknown, secrets: string | readonly string[]): number {
  if (typeof signature !== 'string') return -1;
  const candidate = signature;
  if (candidate.length !== SIGNATURE_PREFIX.length + HEX_SHA256_LENGTH) return -1;
  if (!candidate.startsWith(SIGNATURE_PREFIX)) return -1;
  const hex = candidate.slice(SIGNATURE_PREFIX.length);
  // The page compares against the lower-case hexdigest, so upper-case hex is not a match.
  if (!LOWER_HEX.test(hex)) return -1;
  const given = Buffer.from(hex, 'hex');
  const list = typeof secrets === 'string' ? [secrets] : secrets;
  let matched = -1;
  for (let i = 0; i < list.length; i++) {
    const secret = list[i];
    if (typeof secret !== 'string' || secret.length === 0) continue;
    const expected = createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest();
    // Every secret is compared, even after a match, so the time does not tell which one matched.
    if (timingSafeEqual(expected, given) && matched === -1) matched = i;
  }
  return matched;
}

/** True when `signature` is a valid `sha256=` signature of `body` under any of `secrets`. */
export function verify(body: Body, signature: unknown, secrets: string | readonly string[]): boolean {
  return matchingSecretIndex(body, signature, secrets) !== -1;
}
