import { DEFAULT_SEND_URL, FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { resolveSetting, settingOrigin, type SettingKey } from '../config/settings.js';
import { UserError } from '../errors.js';
import { parseDurationMs } from '../util/units.js';
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

/** The delivery URL and timeout: flag, then env and config settings, then the local `listen`. */
export async function resolveDeliveryTarget(query: TargetQuery, io: CliIO): Promise<DeliveryTarget> {
  const where = { cwd: io.cwd, env: io.env };
  const timeout = await resolveSetting('timeout', { ...where, flag: query.timeoutMs, fallback: FRONTENGINE_TIMEOUT_MS });
  const timeoutMs = parseDurationMs(timeout?.value ?? FRONTENGINE_TIMEOUT_MS, settingOrigin(timeout, 'timeout'));
  if (timeoutMs <= 0) throw new UserError('--timeout must be more than 0');
  if (query.flag !== undefined) return { url: parseTargetUrl(query.flag, query.flagName), isDefault: false, timeoutMs };
  for (const key of query.settings) {
    const setting = await resolveSetting(key, where);
    if (setting) return { url: parseTargetUrl(setting.value, settingOrigin(setting, key)), isDefault: false, timeoutMs };
  }
  return { url: new URL(DEFAULT_SEND_URL), isDefault: true, timeoutMs };
}
