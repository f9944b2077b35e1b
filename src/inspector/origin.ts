import type { IncomingHttpHeaders } from 'node:http';

/**
 * The inspector can replay requests, so no other web page may drive it: the Host must
 * be this loopback address (a DNS-rebinding page would send its own name) and an
 * Origin, which browsers send on every cross-origin request, WebSocket and POST, must
 * be the inspector's own.
 */
export function allowedHosts(port: number): Set<string> {
  return new Set([`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`]);
}

export function isSameOriginRequest(headers: IncomingHttpHeaders, hosts: ReadonlySet<string>): boolean {
  const host = headers.host?.toLowerCase();
  if (host === undefined || !hosts.has(host)) return false;
  const origin = headers.origin;
  if (origin === undefined) return true;
  return hosts.has(origin.toLowerCase().replace(/^http:\/\//, '')) && origin.toLowerCase().startsWith('http://');
}
