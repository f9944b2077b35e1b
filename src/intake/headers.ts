/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1): a forwarder
 * drops them both ways. `host` names the listener, not the app; `expect` would make the
 * forwarder wait for a 100 the caller has already had.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
  'expect',
]);

/** Names listed in `Connection: a, b` are hop-by-hop too. */
function connectionListed(rawHeaders: readonly string[]): Set<string> {
  const listed = new Set<string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if ((rawHeaders[i] as string).toLowerCase() !== 'connection') continue;
    for (const name of (rawHeaders[i + 1] as string).split(',')) listed.add(name.trim().toLowerCase());
  }
  return listed;
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
    if (HOP_BY_HOP.has(name) || listed.has(name)) continue;
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
    if (HOP_BY_HOP.has(name) || listed.has(name) || name === 'content-length') continue;
    pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  }
  return pairs;
}
