/**
 * The request target (the second word of the request line) as listen and the relay
 * accept it: origin-form only (`/path?query`), kept as the exact bytes received.
 * Absolute-form (`POST http://evil.example/x`) is for proxies, asterisk-form (`OPTIONS *`)
 * asks about the server itself: neither names a path to forward, so both get 400
 * rather than being glued onto the forward target.
 */

/**
 * Longer request targets get 414: nginx's default line buffer. Webhook URLs are short;
 * a longer one is a mistake or an attack, and it would be stored and forwarded as is.
 */
export const MAX_REQUEST_TARGET_BYTES = 8 * 1024;

export interface TargetProblem {
  status: 400 | 414;
  reason: string;
}

/** Why a request target is refused, or undefined when it is an ordinary path. */
export function requestTargetProblem(target: string): TargetProblem | undefined {
  if (target === '*') return { status: 400, reason: 'asterisk-form request target (OPTIONS *) is not forwarded: send a path' };
  if (!target.startsWith('/'))
    return { status: 400, reason: 'absolute-form request target is not forwarded: send the path only (/path?query), not a full URL' };
  if (target.length > MAX_REQUEST_TARGET_BYTES) return { status: 414, reason: `the request URL is over ${MAX_REQUEST_TARGET_BYTES} bytes` };
  return undefined;
}
