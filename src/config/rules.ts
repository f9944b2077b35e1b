import { parseDurationMs } from '../util/units.js';
import { targetUrlProblem } from '../util/url.js';

/** What the config file (`.fe-webhooksrc`, `fe-webhooks.config.js`, `package.json` key) may set. */
export interface FileConfig {
  secret?: string;
  url?: string;
  forward?: string;
  relay?: string;
  /** `relay`: share channels with other instances through this Redis (redis://host:port[/db]). */
  redis?: string;
  channel?: string;
  token?: string;
  port?: number;
  host?: string;
  timeout?: string | number;
  /** `listen`: host names served besides IP addresses and localhost (DNS-rebinding guard). */
  allowHosts?: string[];
}

/** redis://[user:password@]host[:port][/db] — what `relay --redis` can open. */
export const REDIS_URL_PATTERN = /^rediss?:\/\/[^/]+(\/\d+)?\/?$/;

/** Settings whose values are never printed, not even in an error. */
export const SENSITIVE_SETTINGS: ReadonlySet<keyof FileConfig> = new Set(['secret', 'token']);

type Rule = (value: string | number | readonly string[]) => string | undefined;

const nonEmpty: Rule = (value) => (String(value).trim() === '' ? 'must not be empty' : undefined);

const targetUrl: Rule = (value) => {
  const problem = targetUrlProblem(String(value));
  return problem ? `must be an http(s) URL: ${problem}` : undefined;
};

/**
 * What each setting must hold, checked where it is loaded (config file or environment),
 * so that every command, and `config`, refuses a bad value with the rule it broke.
 * Each returns the rule broken, or undefined when the value is fine.
 */
const RULES: Record<keyof FileConfig, Rule> = {
  secret: nonEmpty,
  token: nonEmpty,
  channel: nonEmpty,
  url: targetUrl,
  forward: targetUrl,
  relay: (value) => {
    const parts = String(value).split(',').map((part) => part.trim()).filter((part) => part !== '');
    if (parts.length === 0) return 'must not be empty';
    for (const part of parts) {
      const problem = targetUrlProblem(part);
      if (problem) return `must be an http(s) URL (or several, comma-separated): ${problem}`;
    }
    return undefined;
  },
  redis: (value) => (REDIS_URL_PATTERN.test(String(value)) ? undefined : 'must be a Redis URL, redis://host:port[/db]'),
  host: (value) =>
    /^[^\s/]+$/.test(String(value)) && !String(value).includes('://') ? undefined : 'must be a host name or IP address, e.g. 127.0.0.1',
  port: (value) =>
    Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 65535 ? undefined : 'must be a whole number 0-65535',
  // Each a plain host name (listen checks the exact grammar where it uses them, with --allow-host's).
  allowHosts: (value) =>
    (Array.isArray(value) ? value : String(value).split(',')).every(
      (name: unknown) => typeof name === 'string' && /^\.?[^\s/:@]+$/.test(name.trim()),
    )
      ? undefined
      : 'must be host names such as hooks.example.test (no scheme, no port)',
  timeout: (value) => {
    try {
      if (typeof value !== 'object' && parseDurationMs(value) > 0) return undefined;
    } catch {
      // The rule below says what is expected.
    }
    return typeof value === 'number'
      ? 'must be a number of milliseconds more than 0'
      : 'must be a duration more than 0, e.g. 500ms, 5s or 1m';
  },
};

/** The rule `value` breaks as `key`, or undefined. */
export function settingProblem(key: keyof FileConfig, value: string | number | readonly string[]): string | undefined {
  return RULES[key](value);
}

/** ` (it is "abc")` for an error message; nothing for a secret or token; URLs without their password. */
export function describeValue(key: keyof FileConfig, value: string | number): string {
  if (SENSITIVE_SETTINGS.has(key)) return '';
  return ` (it is ${typeof value === 'string' ? JSON.stringify(maskUrlPasswords(value)) : value})`;
}

/**
 * `redis://user:hunter2@host` → `redis://user:****@host`, for each comma-separated URL;
 * also when the URL is malformed (`redis:/user:hunter2@host`), since a typo must not leak it.
 */
export function maskUrlPasswords(text: string): string {
  return text.split(',').map(maskOnePassword).join(',');
}

function maskOnePassword(url: string): string {
  const scheme = /^\s*[a-z][a-z0-9+.-]*:\/{0,2}/i.exec(url)?.[0] ?? '';
  const rest = url.slice(scheme.length);
  const at = rest.lastIndexOf('@');
  const colon = rest.indexOf(':');
  if (at === -1 || colon === -1 || colon > at) return url;
  return `${scheme}${rest.slice(0, colon + 1)}****${rest.slice(at)}`;
}
