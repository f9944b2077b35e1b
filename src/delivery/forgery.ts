import { randomBytes } from 'node:crypto';
import { signedHeaders, type OutgoingHeaders, type SignedRequestOptions } from './request.js';

export type ForgeryCase = 'wrong-secret' | 'tampered-body' | 'missing-signature';

export const FORGERY_LABELS: Record<ForgeryCase, string> = {
  'wrong-secret': 'wrong secret',
  'tampered-body': 'tampered body',
  'missing-signature': 'missing signature header',
};

export interface ForgedRequest<Headers extends OutgoingHeaders = OutgoingHeaders> {
  case: ForgeryCase;
  body: Buffer;
  headers: Headers;
}

/**
 * The body with one digit changed: still valid JSON of the same event, so only the
 * signature check can catch it (a trailing space would let a lenient parser off).
 */
export function tamper(body: Buffer): Buffer {
  const copy = Buffer.from(body);
  const index = copy.findIndex((byte) => byte >= 0x30 && byte <= 0x39);
  if (index === -1) return Buffer.concat([copy, Buffer.from(' ')]);
  // 9 becomes 8, never 0: a leading zero (`"id":0234`) would make the JSON invalid.
  const digit = (copy[index] as number) - 0x30;
  copy[index] = 0x30 + (digit === 9 ? 8 : digit + 1);
  return copy;
}

/**
 * The three forgeries the page's verification must reject: signed with another secret,
 * the genuine signature over altered bytes, and no signature header at all.
 */
export function forgedRequests(
  body: Buffer,
  options: SignedRequestOptions & { secret: string; extraHeaders?: undefined },
): Array<ForgedRequest<Record<string, string>>>;
export function forgedRequests(body: Buffer, options: SignedRequestOptions & { secret: string }): ForgedRequest[];
export function forgedRequests(body: Buffer, options: SignedRequestOptions & { secret: string }): ForgedRequest[] {
  const otherSecret = `forged_${randomBytes(24).toString('base64url')}`;
  return [
    { case: 'wrong-secret', body, headers: signedHeaders(body, { ...options, secret: otherSecret }) },
    { case: 'tampered-body', body: tamper(body), headers: signedHeaders(body, options) },
    { case: 'missing-signature', body, headers: signedHeaders(body, { ...options, secret: undefined }) },
  ];
}
