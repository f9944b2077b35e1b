/** Why a delivery got no usable answer, in the words a user acts on. */
/**
 * `protocol`: the server answered bytes that are not a well-framed HTTP/1.x response (load mode's own client).
 * `too-many-open-files` and `no-local-ports`: this machine, not the endpoint, ran out (load mode's usual limits).
 * `interrupted`: the run was stopped (Ctrl-C) before the answer came.
 */
export type DeliveryErrorKind =
  | 'timeout'
  | 'refused'
  | 'tls'
  | 'dns'
  | 'reset'
  | 'protocol'
  | 'too-many-open-files'
  | 'no-local-ports'
  | 'interrupted'
  | 'other';

export interface DeliveryError {
  kind: DeliveryErrorKind;
  message: string;
  /** For `other`: the system's error code when there is one (`EHOSTUNREACH`), so that causes can still be told apart. */
  code?: string;
}

const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const DNS_CODES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA', 'EAI_NONAME']);
const RESET_CODES = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'ECONNABORTED']);
const FILE_LIMIT_CODES = new Set(['EMFILE', 'ENFILE']);
// OpenSSL's certificate verdicts as Node reports them (`err.code`), not prefixed ERR_TLS_.
const TLS_CERT_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_REVOKED',
  'CERT_UNTRUSTED',
  'HOSTNAME_MISMATCH',
]);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  errors?: unknown;
  hostname?: unknown;
}

/** The error and everything it wraps (undici nests the socket error in `cause`; happy eyeballs in `errors`). */
function chain(error: unknown): ErrorLike[] {
  const seen: ErrorLike[] = [];
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.length < 16) {
    const next = queue.shift();
    if (typeof next !== 'object' || next === null || seen.includes(next as ErrorLike)) continue;
    const item = next as ErrorLike;
    seen.push(item);
    queue.push(item.cause);
    if (Array.isArray(item.errors)) queue.push(...(item.errors as unknown[]));
  }
  return seen;
}

function isTlsCode(code: string): boolean {
  return code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_') || TLS_CERT_CODES.has(code);
}

/** Classifies a network error from undici or the socket below it; never throws. */
export function classifyDeliveryError(error: unknown, target: URL): DeliveryError {
  const links = chain(error);
  const codes = links.map((e) => (typeof e.code === 'string' ? e.code : '')).filter((c) => c !== '');
  const deepest = links.at(-1);
  const detail = typeof deepest?.message === 'string' && deepest.message !== '' ? deepest.message : String(error);
  if (codes.some((c) => TIMEOUT_CODES.has(c))) return { kind: 'timeout', message: `timed out (${detail})` };
  const fileLimit = codes.find((c) => FILE_LIMIT_CODES.has(c));
  if (fileLimit !== undefined) {
    return {
      kind: 'too-many-open-files',
      message: `this machine's open-file limit was reached (${fileLimit}): use fewer connections or raise \`ulimit -n\``,
    };
  }
  if (codes.includes('EADDRNOTAVAIL')) {
    return {
      kind: 'no-local-ports',
      message: `this machine ran out of local ports for new connections (EADDRNOTAVAIL): use fewer connections`,
    };
  }
  if (codes.includes('ECONNREFUSED')) return { kind: 'refused', message: `connection refused by ${target.host}` };
  if (codes.some((c) => DNS_CODES.has(c))) return { kind: 'dns', message: `DNS lookup failed for ${target.hostname}` };
  const tlsCode = codes.find(isTlsCode);
  if (tlsCode !== undefined || /\b(ssl|tls)\b|certificate/i.test(detail)) {
    return { kind: 'tls', message: `TLS error: ${detail}${tlsCode && !detail.includes(tlsCode) ? ` (${tlsCode})` : ''}` };
  }
  if (codes.includes('HTTP_PROTOCOL_ERROR')) return { kind: 'protocol', message: detail };
  if (codes.some((c) => RESET_CODES.has(c)))
    return { kind: 'reset', message: `connection closed by ${target.host} without an answer (${detail})` };
  const code = codes.find((c) => /^E[A-Z]+$/.test(c));
  return code !== undefined ? { kind: 'other', message: detail, code } : { kind: 'other', message: detail };
}
