import type { CapturedHeaders } from '../capture/record.js';
import { connectionListedNames, isHopByHop } from '../util/hop-by-hop.js';

/** The captured headers to send again, signature included, minus hop-by-hop ones. */
export function replayHeaders(headers: CapturedHeaders): Record<string, string | string[]> {
  // Names are compared in lower case: a capture file not written by listen may keep
  // the sender's spelling. Connection may name more headers meant for that hop only.
  const connection = Object.entries(headers).flatMap(([name, value]) => (name.toLowerCase() === 'connection' ? [value].flat() : []));
  const named = connectionListedNames(connection);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    // Content-Length too: undici computes it for the same bytes.
    if (isHopByHop(lower) || lower === 'content-length' || named.has(lower) || name.startsWith(':')) continue;
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

/**
 * The captured path and query, byte for byte, when a replay to `target` uses them (see
 * replayUrl, whose URL would percent-encode `'`, `"`, `{}`…). Undefined when the target's
 * own path is used, or for a path no HTTP request line can carry (a HAR's space).
 */
export function replayPath(target: URL, capturedPath: string | undefined): string | undefined {
  if (capturedPath === undefined || target.pathname !== '/' || target.search !== '') return undefined;
  const exact = capturedPath.startsWith('/') ? capturedPath : `/${capturedPath}`;
  return /^[\x21-\x7e]*$/.test(exact) ? exact : undefined;
}
