import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/** 144 bits for ids (public: they are in the URL), 256 bits for tokens (the listener's secret). */
const CHANNEL_ID_BYTES = 18;
const TOKEN_BYTES = 32;

export function newChannelId(): string {
  return randomBytes(CHANNEL_ID_BYTES).toString('base64url');
}

export function newToken(): string {
  return randomBytes(TOKEN_BYTES).toString('base64url');
}

/** What the store keeps instead of the token. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant time in the token's content: both sides are hashed to the same length first. */
export function tokenMatches(token: string, tokenHash: string): boolean {
  const given = createHash('sha256').update(token, 'utf8').digest();
  const stored = Buffer.from(tokenHash, 'hex');
  return stored.length === given.length && timingSafeEqual(given, stored);
}
