// fs.promises, a getter: the promises API loads when a config is searched, not at start-up.
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, errorMessage } from '../errors.js';
import { closestMatch } from '../util/suggest.js';
import { describeValue, settingProblem, type FileConfig } from './rules.js';

export type { FileConfig };

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
    const problem = settingProblem(key as keyof FileConfig, value as string | number);
    if (problem) {
      throw new UserError(
        `Invalid config in ${filepath}: "${key}" ${problem}${describeValue(key as keyof FileConfig, value as string | number)}`,
      );
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

/** Cosmiconfig's errors carry a code frame over several lines; keep the words only. */
function oneLine(error: unknown): string {
  return errorMessage(error)
    .split('\n')
    .filter((line) => line.trim() !== '' && !/^\s*(>|\||\d+\s*\||-*\^)/.test(line))
    .map((line) => line.trim())
    .join(' ')
    // The caller names the file once: drop cosmiconfig's own "JSON Error in <file>:".
    .replace(/^(JSON|YAML) Error in .*?: /, '');
}

/** The folders searched, as cosmiconfig's 'project' strategy: from `cwd` up to the nearest package.json. */
async function* projectDirs(cwd: string, exists: (file: string) => Promise<boolean>): AsyncGenerator<string> {
  let dir = path.resolve(cwd);
  for (;;) {
    yield dir;
    if ((await exists(path.join(dir, 'package.json'))) || (await exists(path.join(dir, 'package.yaml')))) return;
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/**
 * The search is ours, the loading cosmiconfig's: its own search skips a file it cannot
 * read (EACCES) as if it were absent, and a JavaScript config's syntax error does not
 * name the file. Here either is an error that names the file.
 */
async function search(cwd: string): Promise<LoadedFileConfig> {
  // Lazy: cosmiconfig and its YAML parser are the slowest import of the tool, and most
  // runs of most commands never need them.
  const { cosmiconfig, getDefaultSearchPlaces } = await import('cosmiconfig');
  const explorer = cosmiconfig('fe-webhooks', { cache: false });
  const exists = (file: string): Promise<boolean> => fs.lstat(file).then(() => true, () => false);
  for await (const dir of projectDirs(cwd, exists)) {
    for (const place of getDefaultSearchPlaces('fe-webhooks')) {
      const filepath = path.join(dir, place);
      let result;
      try {
        result = await explorer.load(filepath);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
        if (code === 'EACCES' || code === 'EPERM') {
          // A file that is there but unreadable is an error; a folder we may not look
          // into (someone else's .config on the way up) hides nothing we could have used.
          if (!(await exists(filepath))) continue;
          throw new UserError(`Cannot read the config file ${filepath}: permission denied`);
        }
        throw new UserError(`Invalid config file ${filepath}: ${oneLine(error)}`);
      }
      // A package.json without an "fe-webhooks" key, or an empty file: keep looking, as cosmiconfig does.
      if (!result || result.isEmpty) continue;
      return { config: validateFileConfig(result.config, filepath), filepath };
    }
  }
  return { config: {} };
}
