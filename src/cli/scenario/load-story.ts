import { promises as fs } from 'node:fs';
import path from 'node:path';
import { UserError, errorMessage } from '../../errors.js';
import { BUILTIN_STORY_NAMES, builtinStory } from '../../scenario/builtin.js';
import { parseStory } from '../../scenario/parse-story.js';
import type { Story } from '../../scenario/story.js';
import { closestMatch } from '../../util/suggest.js';
import { BOM } from '../../capture/lines.js';
import { readBytes } from '../inputs.js';
import type { CliIO } from '../io.js';

const YAML_FILE = /\.ya?ml$/i;
/** A story file is a few steps; a larger file is a mistake (or a hostile one). */
const MAX_STORY_FILE_BYTES = 1024 * 1024;

/** A word that could only be meant as a story name, not a file. */
function looksLikeName(input: string): boolean {
  return /^[a-z0-9-]+$/i.test(input);
}

async function isFile(file: string): Promise<boolean> {
  return fs.stat(file).then(
    (stats) => stats.isFile(),
    () => false,
  );
}

/** The document a story file holds: YAML for .yaml/.yml (through cosmiconfig's loader, as config files), else JSON. */
async function readDocument(file: string, io: CliIO): Promise<unknown> {
  const bytes = await readBytes(file, io);
  if (bytes.length > MAX_STORY_FILE_BYTES) throw new UserError(`Invalid story ${file}: larger than 1 MiB`);
  const decoded = bytes.toString('utf8');
  const text = decoded.charCodeAt(0) === BOM ? decoded.slice(1) : decoded;
  try {
    if (!YAML_FILE.test(file)) return JSON.parse(text);
    // Lazy, as for config files: cosmiconfig and its YAML parser are the tool's slowest import.
    const { defaultLoadersSync } = await import('cosmiconfig');
    return defaultLoadersSync['.yaml'](file, text);
  } catch (error) {
    // The parsers' messages may span lines (a code frame): keep the first, without cosmiconfig's "YAML Error in <file>:".
    const first = errorMessage(error).replace(/^(JSON|YAML) Error in [^\n]*:\n/, '').split('\n')[0];
    throw new UserError(`Invalid story ${file}: not valid ${YAML_FILE.test(file) ? 'YAML' : 'JSON'} (${first})`);
  }
}

/** `bounced` → the built-in story; `x.yaml` → the story in that file; anything else → exit 2 with a hint. */
export async function loadStory(input: string, io: CliIO): Promise<Story> {
  const builtin = builtinStory(input);
  if (builtin) return builtin;
  const file = path.resolve(io.cwd, input);
  if (!looksLikeName(input) || (await isFile(file))) return parseStory(await readDocument(file, io).catch(renamed(file, input)), input);
  const suggestion = closestMatch(input, BUILTIN_STORY_NAMES);
  throw new UserError(
    `Unknown story "${input}".${suggestion ? ` Did you mean ${suggestion}?` : ''} Run \`fe-webhooks scenario --list\`, or give a story ` +
      `file`,
  );
}

/** Errors name the file as the user typed it, not its absolute path. */
function renamed(file: string, input: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof UserError) throw new UserError(error.message.replaceAll(file, input));
    throw error;
  };
}
