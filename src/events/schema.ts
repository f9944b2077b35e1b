/**
 * A small JSON Schema (2020-12 subset: type, properties, required, items, format)
 * and its validator. The schemas are real JSON Schema documents users can export;
 * the validator is ours because verify runs it on every captured request and needs
 * no compile step at start-up.
 */

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  items?: JsonSchema;
  format?: 'date-time';
  const?: string | number | boolean | null;
  examples?: unknown[];
}

export interface SchemaViolation {
  /** Where in the document, e.g. `payload.message.id` (`$` for the root). */
  path: string;
  message: string;
}

function typeOf(value: unknown): JsonType {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return 'string';
    case 'boolean':
      return 'boolean';
    case 'number':
      return Number.isInteger(value) ? 'integer' : 'number';
    default:
      return 'object';
  }
}

function typeMatches(actual: JsonType, expected: JsonType): boolean {
  return actual === expected || (expected === 'number' && actual === 'integer');
}

const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '$' ? key : `${path}.${key}`;
}

function check(schema: JsonSchema, value: unknown, path: string, out: SchemaViolation[]): void {
  const actual = typeOf(value);
  if (schema.type !== undefined) {
    const expected = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!expected.some((t) => typeMatches(actual, t))) {
      out.push({ path, message: `expected ${expected.join(' or ')}, got ${actual}` });
      return;
    }
  }
  if (schema.const !== undefined && value !== schema.const) {
    out.push({ path, message: `expected ${JSON.stringify(schema.const)}` });
  }
  if (actual === 'string' && schema.format === 'date-time' && !RFC3339_DATE_TIME.test(value as string)) {
    out.push({ path, message: 'expected an RFC 3339 date-time' });
  }
  if (actual === 'object') {
    const object = value as Record<string, unknown>;
    for (const key of schema.required ?? []) {
      if (!Object.prototype.hasOwnProperty.call(object, key)) out.push({ path: join(path, key), message: 'is required' });
    }
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      if (Object.prototype.hasOwnProperty.call(object, key)) check(child, object[key], join(path, key), out);
    }
    if (schema.additionalProperties === false) {
      for (const key of Object.keys(object)) {
        if (!schema.properties || !(key in schema.properties)) out.push({ path: join(path, key), message: 'is not allowed' });
      }
    }
  }
  if (actual === 'array' && schema.items) {
    (value as unknown[]).forEach((item, i) => check(schema.items as JsonSchema, item, join(path, i), out));
  }
}

/** Every way `value` breaks `schema`; an empty list means it is valid. */
export function validateAgainst(schema: JsonSchema, value: unknown): SchemaViolation[] {
  const out: SchemaViolation[] = [];
  check(schema, value, '$', out);
  return out;
}
