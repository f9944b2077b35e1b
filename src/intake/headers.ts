import { connectionListedNames, isHopByHop } from '../util/hop-by-hop.js';

/** `Connection: close` names a header called "close" hop-by-hop; kept as one shared set. */
const CLOSE_LISTED: ReadonlySet<string> = new Set(['close']);

/**
 * Names listed in `Connection: a, b` are hop-by-hop too. Undefined when none are: the
 * usual `keep-alive` names only itself (already hop-by-hop), and this runs per request.
 */
function connectionListed(rawHeaders: readonly string[]): ReadonlySet<string> | undefined {
  let values: string[] | undefined;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    if (name.length === 10 && name.toLowerCase() === 'connection') (values ??= []).push(rawHeaders[i + 1] as string);
  }
  if (values === undefined) return undefined;
  if (values.length === 1) {
    const only = (values[0] as string).trim().toLowerCase();
    if (only === 'keep-alive') return undefined;
    if (only === 'close') return CLOSE_LISTED;
  }
  return connectionListedNames(values);
}

/**
 * The end-to-end headers of a request as a flat [name, value, ...] list: order, case and
 * repeats kept, so the app sees what the caller sent.
 */
export function forwardableRequestHeaders(rawHeaders: readonly string[]): string[] {
  const listed = connectionListed(rawHeaders);
  const kept: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (isHopByHop(name) || listed?.has(name) === true) continue;
    kept.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return kept;
}

/**
 * The app's answer headers for the caller, as pairs. `content-length` goes too (the
 * listener sends the body it read, with its own length), except in the answer to a HEAD
 * (`keepContentLength`): there is no body then, and the app's length is the answer.
 */
export function answerHeaders(rawHeaders: readonly string[], keepContentLength = false): Array<[string, string]> {
  const listed = connectionListed(rawHeaders);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (isHopByHop(name) || listed?.has(name) === true || (name === 'content-length' && !keepContentLength)) continue;
    pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  }
  return pairs;
}
