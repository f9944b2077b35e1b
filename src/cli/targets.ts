import { DEFAULT_LISTEN_HOST, DEFAULT_LISTEN_PORT, FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { resolveSetting, settingOrigin, type SettingKey } from '../config/settings.js';
import { UserError } from '../errors.js';
import { parseDurationMs } from '../util/units.js';
import { isIP } from 'node:net';
import { parseTargetUrl } from '../util/url.js';
import type { CliIO } from './io.js';

/** Where a command delivers, and how long a delivery may take. */
export interface DeliveryTarget {
  url: URL;
  /** Nothing named a target: the local `listen`, which may not be running. */
  isDefault: boolean;
  timeoutMs: number;
}

export interface TargetQuery {
  /** The flag's value and name (`--url`, `--to`). */
  flag: string | undefined;
  flagName: string;
  /** Settings tried in order after the flag (send: url; replay: forward, then url). */
  settings: ReadonlyArray<Extract<SettingKey, 'url' | 'forward'>>;
  /** `--timeout` in milliseconds, when given. */
  timeoutMs: number | undefined;
}

/**
 * Where `listen` listens, as a URL to send to: its `host` and `port` settings (env, config),
 * with the unspecified 0.0.0.0 / :: reached through loopback. Undefined when listen's
 * port is 0 (a random free port, which only listen's own output tells).
 */
export async function localListenUrl(io: CliIO): Promise<URL | undefined> {
  const where = { cwd: io.cwd, env: io.env };
  const host = (await resolveSetting('host', { ...where, fallback: DEFAULT_LISTEN_HOST }))?.value ?? DEFAULT_LISTEN_HOST;
  const port = (await resolveSetting('port', { ...where, fallback: DEFAULT_LISTEN_PORT }))?.value ?? DEFAULT_LISTEN_PORT;
  if (port === 0) return undefined;
  const bare = host.replace(/^\[|\]$/g, '');
  const reachable = bare === '0.0.0.0' ? '127.0.0.1' : bare === '::' ? '::1' : bare;
  return new URL(`http://${isIP(reachable) === 6 ? `[${reachable}]` : reachable}:${port}/`);
}

/** The delivery URL and timeout: flag, then env and config settings, then the local `listen`. */
export async function resolveDeliveryTarget(query: TargetQuery, io: CliIO): Promise<DeliveryTarget> {
  const where = { cwd: io.cwd, env: io.env };
  const timeout = await resolveSetting('timeout', { ...where, flag: query.timeoutMs, fallback: FRONTENGINE_TIMEOUT_MS });
  const timeoutMs = parseDurationMs(timeout?.value ?? FRONTENGINE_TIMEOUT_MS, settingOrigin(timeout, 'timeout'));
  // Env and config values were checked when loaded; only a flag can still be 0 here.
  if (timeoutMs <= 0) throw new UserError(`${settingOrigin(timeout, 'timeout')} must be more than 0`);
  if (query.flag !== undefined) return { url: parseTargetUrl(query.flag, query.flagName), isDefault: false, timeoutMs };
  for (const key of query.settings) {
    const setting = await resolveSetting(key, where);
    if (setting) return { url: parseTargetUrl(setting.value, settingOrigin(setting, key)), isDefault: false, timeoutMs };
  }
  const local = await localListenUrl(io);
  if (!local)
    throw new UserError(`listen's port is 0 (a random free port) in the config: pass ${query.flagName} with the URL listen printed`);
  return { url: local, isDefault: true, timeoutMs };
}
