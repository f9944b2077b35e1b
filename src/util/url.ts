import { isIP } from 'node:net';
import { UserError } from '../errors.js';

/** Is this hostname the local machine (localhost, 127.0.0.0/8, ::1)? */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(host);
  return false;
}

/**
 * A user-typed URL: `localhost:3000/hooks`, `:3000`, `3000` and `127.0.0.1:3000` mean
 * plain http on that host; anything without a scheme otherwise means https.
 */
export function parseTargetUrl(input: string, what = 'URL'): URL {
  const text = input.trim();
  if (text === '') throw new UserError(`Invalid ${what}: it is empty`);
  let candidate = text;
  if (/^\d+(\/|$)/.test(candidate)) candidate = `localhost:${candidate}`;
  if (candidate.startsWith(':')) candidate = `localhost${candidate}`;
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(candidate)) {
    const host = candidate.split(/[/:?#]/)[0] ?? '';
    const bracketed = candidate.startsWith('[') ? candidate.slice(0, candidate.indexOf(']') + 1) : host;
    candidate = `${isLoopbackHost(bracketed) ? 'http' : 'https'}://${candidate}`;
  }
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    throw new UserError(`Invalid ${what} "${input}": not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserError(`Invalid ${what} "${input}": only http and https are supported`);
  }
  if (url.username || url.password) {
    // Credentials in a URL end up in logs and shell history; headers are the place for them.
    throw new UserError(`Invalid ${what} "${input}": put credentials in a --header, not in the URL`);
  }
  return url;
}

/**
 * FrontEngine only calls HTTPS endpoints: plain http is allowed to loopback only,
 * unless the user says --insecure.
 */
export function assertDeliverableUrl(url: URL, insecure: boolean): void {
  if (url.protocol === 'http:' && !insecure && !isLoopbackHost(url.hostname)) {
    throw new UserError(
      `Refusing plain http to ${url.host}: FrontEngine requires HTTPS webhook URLs. Use https://, or --insecure to send anyway`,
    );
  }
}

/**
 * Does a request path hold `.` or `..` segments (also percent-encoded)? Appended to a
 * forward target, such a path would climb out of it (`/hooks` + `/../admin` is `/admin`),
 * so the relay and the forwarder refuse it.
 */
export function hasDotSegments(requestPath: string): boolean {
  const queryAt = requestPath.search(/[?#]/);
  const pathPart = queryAt === -1 ? requestPath : requestPath.slice(0, queryAt);
  // Encoded slashes count as separators too: some servers decode them before routing.
  return pathPart.split(/\/|\\|%2f|%5c/i).some((segment) => {
    const decoded = segment.replace(/%2e/gi, '.');
    return decoded === '.' || decoded === '..';
  });
}
