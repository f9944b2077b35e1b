import { UserError, errorMessage } from '../errors.js';
import { closestMatch } from '../util/suggest.js';

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

export interface LoadedFileConfig {
  config: FileConfig;
  /** The file it came from, when one was found. */
  filepath?: string;
}

type KeyType = 'string' | 'number' | 'string[]';

const KEY_TYPES: Record<keyof FileConfig, readonly KeyType[]> = {
  secret: ['string'],
  url: ['string'],
  forward: ['string'],
  relay: ['string'],
  redis: ['string'],
  channel: ['string'],
  token: ['string'],
  port: ['number'],
  host: ['string'],
  timeout: ['string', 'number'],
  allowHosts: ['string[]'],
};

function hasType(value: unknown, type: KeyType): boolean {
  if (type === 'string[]') return Array.isArray(value) && value.every((item) => typeof item === 'string');
  return typeof value === type;
}

export const CONFIG_KEYS = Object.keys(KEY_TYPES) as Array<keyof FileConfig>;

/** Checks a loaded config object: known keys with the right types, one clear error otherwise. */
export function validateFileConfig(raw: unknown, filepath: string): FileConfig {
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new UserError(`Invalid config in ${filepath}: expected an object of settings`);
  for (const [key, value] of Object.entries(raw)) {
    const types = KEY_TYPES[key as keyof FileConfig];
    if (!types) {
      const suggestion = closestMatch(key, CONFIG_KEYS);
      throw new UserError(`Unknown config key "${key}" in ${filepath}.${suggestion ? ` Did you mean ${suggestion}?` : ''}`);
    }
    if (!types.some((type) => hasType(value, type))) {
      const names = types.map((type) => (type === 'string[]' ? 'list of strings' : type));
      throw new UserError(`Invalid config in ${filepath}: "${key}" must be a ${names.join(' or ')}`);
    }
  }
  return raw as FileConfig;
}

const cache = new Map<string, Promise<LoadedFileConfig>>();

/** Finds and validates the config file for `cwd`, searching upwards (cosmiconfig, module `fe-webhooks`). */
export function loadFileConfig(cwd: string): Promise<LoadedFileConfig> {
  let loaded = cache.get(cwd);
  if (!loaded) {
    loaded = search(cwd);
    cache.set(cwd, loaded);
  }
  return loaded;
}

async function search(cwd: string): Promise<LoadedFileConfig> {
  // Lazy: cosmiconfig and its YAML parser are the slowest import of the tool, and most
  // runs of most commands never need them.
  const { cosmiconfig } = await import('cosmiconfig');
  let result;
  try {
    // 'project': from the current folder up to the nearest package.json, as users expect of
    // a config that sits at the project root while they work in a subfolder.
    result = await cosmiconfig('fe-webhooks', { searchStrategy: 'project' }).search(cwd);
  } catch (error) {
    // cosmiconfig's parse errors carry a code frame over several lines; keep the words only.
    const oneLine = errorMessage(error)
      .split('\n')
      .filter((line) => line.trim() !== '' && !/^\s*(>|\||\d+\s*\|)/.test(line))
      .map((line) => line.trim())
      .join(' ');
    throw new UserError(`Could not read the fe-webhooks config: ${oneLine}`);
  }
  if (!result || result.isEmpty) return result ? { config: {}, filepath: result.filepath } : { config: {} };
  return { config: validateFileConfig(result.config, result.filepath), filepath: result.filepath };
}
