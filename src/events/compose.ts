import { generate, type GenerateOptions } from './generate.js';
import { applyFieldOverride, deepMerge, type FieldOverride } from './overrides.js';
import { leafPaths } from './schema-paths.js';
import { followTies, tieSources } from './ties.js';
import type { EventName } from './types.js';
import { validateEvent } from './validate.js';
import type { SchemaViolation } from './schema.js';

export interface ComposeOptions {
  seed?: number;
  now?: Date;
  /** The story the event belongs to, and its retry wait (see GenerateOptions). */
  thread?: GenerateOptions['thread'];
  retryInMinutes?: number;
  /** A partial document deep-merged over the sample (`--data`). */
  partial?: Record<string, unknown>;
  /** Single fields set after the merge (`--set`), in order. */
  overrides?: readonly FieldOverride[];
  /** One line instead of two-space indentation. */
  compact?: boolean;
}

export interface ComposedBody {
  event: EventName;
  /** The exact text to sign and send. */
  body: string;
  /** How the overrides broke the event's schema, if they did (the sample itself never does). */
  violations: SchemaViolation[];
}

/** The dotted paths --data and --set change. */
function changedPaths(options: ComposeOptions): string[] {
  const partial = options.partial ? leafPaths(options.partial) : [];
  return [...partial, ...(options.overrides ?? []).map((o) => o.path)].map((path) => path.join('.'));
}

/** A sample with the user's changes, serialised once: these are the bytes that get signed and sent. */
export function composeBody(event: EventName, options: ComposeOptions = {}): ComposedBody {
  const { seed, now, thread, retryInMinutes } = options;
  const document = generate(event, { seed, now, thread, retryInMinutes }) as unknown as Record<string, unknown>;
  const sources = tieSources(event, document);
  if (options.partial) deepMerge(document, options.partial);
  for (const override of options.overrides ?? []) applyFieldOverride(document, override);
  followTies(event, document, sources, changedPaths(options));
  const changed = options.partial !== undefined || (options.overrides?.length ?? 0) > 0;
  return {
    event,
    body: JSON.stringify(document, null, options.compact ? undefined : 2),
    violations: changed ? validateEvent(document).violations : [],
  };
}
