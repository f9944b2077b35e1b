/**
 * Headers that describe one connection, not the message (RFC 9110 §7.6.1), so a
 * forwarder, a replay or the relay's answer drops them: plus `host` (it names the
 * receiving hop, not the next one) and `expect` (a 100-continue was already had).
 * One list for listen, replay and relay, so the three never disagree.
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

/** Is this (lower-case) header name hop-by-hop? */
export function isHopByHop(lowerCaseName: string): boolean {
  return HOP_BY_HOP.has(lowerCaseName);
}

/** The names a `Connection: a, b` value marks hop-by-hop too (lower-case). */
export function connectionListedNames(connectionValues: ReadonlyArray<string | undefined>): Set<string> {
  const listed = new Set<string>();
  for (const value of connectionValues) {
    for (const name of (value ?? '').split(',')) {
      const trimmed = name.trim().toLowerCase();
      if (trimmed) listed.add(trimmed);
    }
  }
  return listed;
}
