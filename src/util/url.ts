import { BlockList, isIP } from 'node:net';
import { UserError } from '../errors.js';

/** 127.0.0.0/8 and ::1; a BlockList also matches their IPv4-mapped forms (`::ffff:7f00:1`). */
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/**
 * Is this hostname the local machine (localhost, 127.0.0.0/8, ::1, also as
 * `[::ffff:127.0.0.1]` or with the DNS root dot, `localhost.`)? Safe for a bind address:
 * the unspecified 0.0.0.0 is not loopback here (binding it opens the port to the network).
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = isIP(host);
  if (family === 4) return LOOPBACK.check(host, 'ipv4');
  if (family === 6) return LOOPBACK.check(host, 'ipv6');
  return false;
}

/**
 * Does a URL with this host reach the local machine? Loopback, and the unspecified
 * addresses 0.0.0.0 and [::], which a connection takes to mean this host (Linux, macOS).
 */
export function isLocalDestination(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return isLoopbackHost(host) || host === '0.0.0.0' || host === '::';
}

/** Why `input` is not a URL we can send to, or the URL. */
function targetUrlOrProblem(input: string): URL | string {
  const text = input.trim();
  if (text === '') return 'it is empty';
  let candidate = text;
  if (/^\d+(\/|$)/.test(candidate)) candidate = `localhost:${candidate}`;
  if (candidate.startsWith(':')) candidate = `localhost${candidate}`;
  const scheme = /^([a-z][a-z0-9+-]*):(\/\/)?/i.exec(candidate);
  // `mailto:x@y`, `file:x`: a scheme, not a host:port (which is followed by a digit).
  if (scheme && !scheme[2] && !/^\d/.test(candidate.slice(scheme[0].length))) {
    const name = scheme[1]?.toLowerCase();
    return name === 'http' || name === 'https' ? `expected ${name}:// before the host` : `only http and https are supported, not ${name}:`;
  }
  if (!scheme?.[2]) {
    const host = candidate.split(/[/:?#]/)[0] ?? '';
    const bracketed = candidate.startsWith('[') ? candidate.slice(0, candidate.indexOf(']') + 1) : host;
    candidate = `${isLocalDestination(bracketed) ? 'http' : 'https'}://${candidate}`;
  } else if (!/^https?$/i.test(scheme[1] ?? '')) {
    return `only http and https are supported, not ${scheme[1]?.toLowerCase()}:`;
  }
  // WHATWG URL reads `http:///path` as host "path"; nobody means that.
  const authority = /^[a-z]+:\/\/([^/?#]*)/i.exec(candidate)?.[1] ?? '';
  const hostPart = authority.slice(authority.lastIndexOf('@') + 1);
  if (hostPart === '' || hostPart.startsWith(':')) return 'no host name after the scheme';
  const port = /:(\d*)$/.exec(hostPart.replace(/^\[[^\]]*\]/, ''))?.[1];
  if (port !== undefined && port !== '' && (Number(port) < 1 || Number(port) > 65535)) return `port ${port} is out of range (1-65535)`;
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return 'not a URL';
  }
  // Credentials in a URL end up in logs and shell history; headers are the place for them.
  if (url.username || url.password) return 'put credentials in a --header, not in the URL';
  // `localhost.` is localhost, but the system resolver does not know the rooted name.
  if (url.hostname.endsWith('.') && isLoopbackHost(url.hostname)) url.hostname = url.hostname.slice(0, -1);
  return url;
}

/** The reason `input` is not a usable target URL, or undefined when it is one (config checks). */
export function targetUrlProblem(input: string): string | undefined {
  const parsed = targetUrlOrProblem(input);
  return typeof parsed === 'string' ? parsed : undefined;
}

/**
 * A user-typed URL: `localhost:3000/hooks`, `:3000`, `3000` and `127.0.0.1:3000` mean
 * plain http on that host; anything without a scheme otherwise means https.
 */
export function parseTargetUrl(input: string, what = 'URL'): URL {
  const parsed = targetUrlOrProblem(input);
  if (typeof parsed === 'string') throw new UserError(`Invalid ${what} "${input}": ${parsed}`);
  return parsed;
}

/**
 * FrontEngine only calls HTTPS endpoints: plain http is allowed to loopback only,
 * unless the user says --insecure.
 */
export function assertDeliverableUrl(url: URL, insecure: boolean): void {
  if (url.protocol === 'http:' && !insecure && !isLocalDestination(url.hostname)) {
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
