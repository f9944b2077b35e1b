import { UserError } from '../errors.js';
import { CONFIG_KEYS, loadFileConfig, type FileConfig } from './file-config.js';
import { describeValue, settingProblem } from './rules.js';

export type SettingKey = keyof FileConfig;
export type SettingSource = 'flag' | 'env' | 'config' | 'default';

export interface Setting<K extends SettingKey> {
  value: NonNullable<FileConfig[K]>;
  source: SettingSource;
  /** The env variable or config file it came from. */
  origin?: string;
}

/** Every setting can also come from the environment; flags beat env beat the config file. */
export const SETTING_ENV: Record<SettingKey, string> = {
  secret: 'FE_WEBHOOKS_SECRET',
  url: 'FE_WEBHOOKS_URL',
  forward: 'FE_WEBHOOKS_FORWARD',
  relay: 'FE_WEBHOOKS_RELAY',
  channel: 'FE_WEBHOOKS_CHANNEL',
  token: 'FE_WEBHOOKS_TOKEN',
  port: 'FE_WEBHOOKS_PORT',
  host: 'FE_WEBHOOKS_HOST',
  timeout: 'FE_WEBHOOKS_TIMEOUT',
  redis: 'FE_WEBHOOKS_REDIS_URL',
  allowHosts: 'FE_WEBHOOKS_ALLOW_HOSTS',
};

export const SETTING_KEYS: readonly SettingKey[] = CONFIG_KEYS;

/** An environment value, converted (ports are numbers) and checked against its setting's rule. */
function fromEnv<K extends SettingKey>(key: K, raw: string): NonNullable<FileConfig[K]> {
  // A list in one variable: comma-separated, as in FE_WEBHOOKS_ALLOW_HOSTS=a.test,b.test.
  const value =
    key === 'allowHosts'
      ? raw
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== '')
      : key === 'port' && /^\d+$/.test(raw.trim())
        ? Number(raw)
        : raw;
  const problem = settingProblem(key, value);
  if (problem) throw new UserError(`Invalid ${SETTING_ENV[key]}: ${problem}${describeValue(key, raw)}`);
  return value as NonNullable<FileConfig[K]>;
}

export interface SettingQuery<K extends SettingKey> {
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** The flag's value when the user gave the flag. */
  flag?: FileConfig[K] | undefined;
  /** Used when nothing else sets it. */
  fallback?: NonNullable<FileConfig[K]>;
}

/** One setting: flag, else FE_WEBHOOKS_<KEY>, else the config file, else the fallback. */
export async function resolveSetting<K extends SettingKey>(key: K, query: SettingQuery<K>): Promise<Setting<K> | undefined> {
  if (query.flag !== undefined && query.flag !== null) return { value: query.flag as NonNullable<FileConfig[K]>, source: 'flag' };
  const envName = SETTING_ENV[key];
  const raw = query.env[envName];
  // An empty variable means unset (`FE_WEBHOOKS_URL= fe-webhooks send`), except for the
  // secret: an empty FE_WEBHOOKS_SECRET is a CI secret that was never filled in.
  if (raw === '' && key === 'secret') throw new UserError(`${envName} is set but empty: give it the webhook secret, or unset it`);
  if (raw !== undefined && raw !== '') return { value: fromEnv(key, raw), source: 'env', origin: envName };
  const { config, filepath } = await loadFileConfig(query.cwd);
  const configured = config[key];
  if (configured !== undefined && configured !== null) {
    return { value: configured as NonNullable<FileConfig[K]>, source: 'config', ...(filepath ? { origin: filepath } : {}) };
  }
  if (query.fallback !== undefined) return { value: query.fallback, source: 'default' };
  return undefined;
}

/** Where a setting came from, for error messages: `--url`, `FE_WEBHOOKS_URL`, `url in /path/.fe-webhooksrc`. */
export function settingOrigin<K extends SettingKey>(setting: Setting<K> | undefined, key?: K): string {
  if (!setting) return key ?? 'setting';
  if (setting.source === 'flag') return `--${key ?? 'flag'}`;
  if (setting.source === 'env') return setting.origin ?? 'environment';
  if (setting.source === 'config') return `${key ?? 'setting'} in ${setting.origin ?? 'the config'}`;
  return `default ${key ?? ''}`.trim();
}
