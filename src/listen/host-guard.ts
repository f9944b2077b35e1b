import { isIP } from 'node:net';

/**
 * listen's guard against DNS rebinding. A web page can make the browser send requests
 * to 127.0.0.1 under the page's own domain name; forwarded, they would read the app's
 * answers (cookies included) and slip past the app's own Host checks. Such a request
 * always names that domain in `Host`, and a browser marks it with `Origin` or
 * `Sec-Fetch-Site`, which webhook senders never send. So listen takes requests for an
 * IP address, `localhost`, or a name the user allowed (`--allow-host`), from non-browsers.
 */

export interface HostRefusal {
  status: 400 | 403;
  reason: string;
}

/** Names as the user gave them: `hooks.example.com` exactly, `.example.com` for it and its subdomains. */
export class AllowedHosts {
  private readonly exact = new Set<string>();
  private readonly suffixes: string[] = [];
  /** The last Host value judged and its verdict: a sender names the same host every time. */
  lastHost: string | undefined;
  lastVerdict: HostRefusal | undefined;

  constructor(names: readonly string[] = []) {
    for (const raw of names) {
      const name = raw.trim().toLowerCase().replace(/\.$/, '');
      if (name.startsWith('.')) {
        this.suffixes.push(name);
        this.exact.add(name.slice(1));
      } else if (name !== '') {
        this.exact.add(name);
      }
    }
  }

  allows(hostname: string): boolean {
    if (this.exact.has(hostname)) return true;
    for (const suffix of this.suffixes) if (hostname.endsWith(suffix)) return true;
    return false;
  }
}

/** One DNS label: letters, digits, `_` and inner `-`. */
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?';
/** A DNS name, with a leading dot for "and its subdomains", and an optional final dot. */
const ALLOWED_HOST_PATTERN = new RegExp(`^\\.?${LABEL}(?:\\.${LABEL})*\\.?$`);

/** A name the user may pass to --allow-host (or `allowHosts`): no scheme, no port, no wildcard. */
export function isValidAllowedHost(name: string): boolean {
  const trimmed = name.trim();
  return trimmed.length <= 253 && ALLOWED_HOST_PATTERN.test(trimmed);
}

/**
 * The host name of a Host header without its port, lower-case; IPv6 stays bracketed.
 * Undefined when the value is not a host[:port] at all.
 */
function hostnameOf(value: string): string | undefined {
  const host = value.trim().toLowerCase();
  if (host.startsWith('[')) {
    const match = /^\[([0-9a-f:.]+)\](?::\d*)?$/.exec(host);
    return match && isIP(match[1] as string) === 6 ? `[${match[1]}]` : undefined;
  }
  const match = /^([^:]*)(?::\d*)?$/.exec(host);
  return match ? (match[1] as string).replace(/\.$/, '') : undefined;
}

/** Is this hostname one the capture port serves: an IP literal, localhost, or allowed? */
function hostAllowed(hostname: string, allowed: AllowedHosts): boolean {
  if (hostname.startsWith('[')) return true;
  if (isIP(hostname) === 4 || hostname === 'localhost') return true;
  return allowed.allows(hostname);
}

/** A name that can be shown in a reason as is; anything stranger is described, not quoted. */
function quotable(hostname: string): string {
  return /^[a-z0-9._-]{1,100}$/.test(hostname) ? ` "${hostname}"` : '';
}

/**
 * Why listen refuses a request from its headers (flat raw list, as received), or
 * undefined. A request without Host (HTTP/1.0) passes: no browser sends one, so it
 * cannot come from a rebinding page; Node already refuses HTTP/1.1 without Host.
 */
export function hostRefusal(rawHeaders: readonly string[], allowed: AllowedHosts): HostRefusal | undefined {
  let host: string | undefined;
  let hosts = 0;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i] as string;
    // Length first: this runs for every request, and most names match none of the three.
    if (name.length === 4 && name.toLowerCase() === 'host') {
      host = rawHeaders[i + 1] as string;
      hosts++;
    } else if (name.length === 6 && name.toLowerCase() === 'origin') {
      return {
        status: 403,
        reason: 'a browser sent this request (it has an Origin header): listen takes webhooks, not cross-site requests',
      };
    } else if (name.length === 14 && name.toLowerCase() === 'sec-fetch-site') {
      const site = (rawHeaders[i + 1] as string).trim().toLowerCase();
      if (site === 'cross-site' || site === 'same-site') {
        return {
          status: 403,
          reason: `a browser sent this request (Sec-Fetch-Site: ${site}): listen takes webhooks, not cross-site requests`,
        };
      }
    }
  }
  if (hosts > 1) return { status: 400, reason: 'more than one Host header' };
  if (host === undefined) return undefined;
  if (host === allowed.lastHost) return allowed.lastVerdict;
  const verdict = hostVerdict(host, allowed);
  allowed.lastHost = host;
  allowed.lastVerdict = verdict;
  return verdict;
}

/** Why this Host value is refused, or undefined (from the value alone: the same value, the same verdict). */
function hostVerdict(host: string, allowed: AllowedHosts): HostRefusal | undefined {
  const hostname = hostnameOf(host);
  if (hostname === undefined) return { status: 400, reason: 'the Host header is not a host name' };
  if (hostAllowed(hostname, allowed)) return undefined;
  return {
    status: 403,
    reason: `Host${quotable(hostname)} is not allowed (DNS-rebinding guard): listen takes requests for an IP address, localhost, or a ` +
      `name given with --allow-host`,
  };
}
