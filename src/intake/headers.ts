import { connectionListedNames, isHopByHop } from '../util/hop-by-hop.js';

/** Names listed in `Connection: a, b` are hop-by-hop too. */
function connectionListed(rawHeaders: readonly string[]): Set<string> {
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() === 'connection') values.push(rawHeaders[i + 1] as string);
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
    if (isHopByHop(name) || listed.has(name)) continue;
    kept.push(rawHeaders[i] as string, rawHeaders[i + 1] as string);
  }
  return kept;
}

/**
 * The app's answer headers for the caller, as pairs. `content-length` goes too: the
 * listener sends the body it read, with its own length.
 */
export function answerHeaders(rawHeaders: readonly string[]): Array<[string, string]> {
  const listed = connectionListed(rawHeaders);
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    if (isHopByHop(name) || listed.has(name) || name === 'content-length') continue;
    pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  }
  return pairs;
}
