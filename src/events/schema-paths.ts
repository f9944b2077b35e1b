import { eventDefinition } from './catalog.js';
import type { FieldOverride } from './overrides.js';
import type { JsonSchema } from './schema.js';
import type { EventName } from './types.js';

/** The schema a property name or array index leads to, or undefined when the schema does not know it. */
function child(schema: JsonSchema, key: string): JsonSchema | undefined {
  if (schema.items && /^\d+$/.test(key)) return schema.items;
  return schema.properties && Object.prototype.hasOwnProperty.call(schema.properties, key) ? schema.properties[key] : undefined;
}

/** The first prefix of `path` the schema does not describe (`payload.mesage`), or undefined. */
function firstUnknownPrefix(schema: JsonSchema, path: readonly string[]): string | undefined {
  let node: JsonSchema | undefined = schema;
  for (let i = 0; i < path.length; i++) {
    // A schema that lists no properties and no items says nothing about deeper fields.
    if (!node.properties && !node.items) return undefined;
    node = child(node, path[i] as string);
    if (!node) return path.slice(0, i + 1).join('.');
  }
  return undefined;
}

/** Every leaf path of a `--data` document: objects are walked, anything else is a leaf. */
export function leafPaths(value: unknown, prefix: string[] = []): string[][] {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.keys(value).length === 0) return [prefix];
  return Object.entries(value).flatMap(([key, item]) => leafPaths(item, [...prefix, key]));
}

/** A changed field the event's schema does not have. */
export interface FieldOutsideSchema {
  /** The path as given (`payload.mesage.to`). */
  path: string;
  /** Its first part the schema does not know (`payload.mesage`). */
  unknown: string;
  from: '--set' | '--data';
}

/**
 * The fields `--set`/`--data` add that the event's schema does not have: a typo
 * (`payload.mesage.to`) or a field of another event. The schema allows extra fields
 * (real traffic may carry them), so validation cannot catch these; the CLI warns.
 */
export function fieldsOutsideSchema(
  event: EventName,
  changes: { partial?: Record<string, unknown> | undefined; overrides?: readonly FieldOverride[] | undefined },
): FieldOutsideSchema[] {
  const schema = eventDefinition(event)?.schema;
  if (!schema) return [];
  const given: Array<{ path: readonly string[]; from: FieldOutsideSchema['from'] }> = [
    ...(changes.partial ? leafPaths(changes.partial).map((path) => ({ path, from: '--data' as const })) : []),
    ...(changes.overrides ?? []).map((o) => ({ path: o.path, from: '--set' as const })),
  ];
  const seen = new Set<string>();
  const out: FieldOutsideSchema[] = [];
  for (const { path, from } of given) {
    const unknown = firstUnknownPrefix(schema, path);
    const key = `${from} ${path.join('.')}`;
    if (unknown === undefined || seen.has(key)) continue;
    seen.add(key);
    out.push({ path: path.join('.'), unknown, from });
  }
  return out;
}
