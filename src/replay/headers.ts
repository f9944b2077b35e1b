import type { CapturedHeaders } from '../capture/record.js';

/**
 * Headers that belong to one connection, not to the request (RFC 9110 §7.6.1), plus
 * the ones the new connection sets itself: Host for the new target, Content-Length
 * for the same bytes (undici computes it).
 */
const NOT_REPLAYED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'content-length',
  'expect',
]);

/** The captured headers to send again, signature included, minus hop-by-hop ones. */
export function replayHeaders(headers: CapturedHeaders): Record<string, string | string[]> {
  // Connection may name more headers that were meant for that hop only.
  const connection = headers.connection;
  const named = new Set(
    (Array.isArray(connection) ? connection.join(',') : (connection ?? ''))
      .split(',')
      .map((token) => token.trim().toLowerCase())
      .filter(Boolean),
  );
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (NOT_REPLAYED.has(name) || named.has(name) || name.startsWith(':')) continue;
    out[name] = value;
  }
  return out;
}

/**
 * Where a replay goes: the URL as given, except that a bare origin (`localhost:3000`)
 * gets the captured path, so the request reaches the same route it first did.
 */
export function replayUrl(target: URL, capturedPath: string | undefined): URL {
  if (capturedPath === undefined || target.pathname !== '/' || target.search !== '') return target;
  return new URL(capturedPath.startsWith('/') ? capturedPath : `/${capturedPath}`, target);
}
