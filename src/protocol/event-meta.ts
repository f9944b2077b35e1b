/**
 * The checks every relayed event passes on the listener, whichever frame carried it:
 * the fields that become the forwarded request line and headers.
 */

const METHOD_PATTERN = /^[A-Za-z-]{1,20}$/;
export const MAX_RAW_HEADERS = 2000;

export const isSeq = (value: unknown): value is number => Number.isSafeInteger(value) && (value as number) >= 0;

/** Why these fields are not a relayable event; undefined when they are. */
export function eventMetaProblem(f: Record<string, unknown>): string | undefined {
  if (!isSeq(f.seq) || f.seq === 0) return 'event needs a seq';
  if (typeof f.method !== 'string' || !METHOD_PATTERN.test(f.method)) return 'event needs a method';
  if (typeof f.path !== 'string' || !f.path.startsWith('/')) return 'event path must start with /';
  const raw = f.rawHeaders;
  if (!Array.isArray(raw) || raw.length % 2 !== 0 || raw.length > MAX_RAW_HEADERS || !raw.every((h) => typeof h === 'string')) {
    return 'event rawHeaders must be [name, value, ...] strings';
  }
  if (typeof f.receivedAt !== 'string' || Number.isNaN(Date.parse(f.receivedAt))) return 'event needs receivedAt';
  if (f.redelivery !== undefined && f.redelivery !== true) return 'event redelivery must be true when present';
  return undefined;
}
