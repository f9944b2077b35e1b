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

type Checker = (value: unknown, path: string, out: SchemaViolation[]) => void;

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/**
 * Turns a schema into a checking function once. verify runs the same nine schemas over
 * every captured request: walking the schema object each time (allocating type lists,
 * property entries and path strings for valid fields too) cost more than parsing the
 * body. Under a known path (everything outside arrays) child paths are computed here,
 * not per request.
 */
function compile(schema: JsonSchema, staticPath: string | undefined): Checker {
  const types = schema.type === undefined ? undefined : Array.isArray(schema.type) ? schema.type : [schema.type];
  const childPath = (key: string): string | undefined => (staticPath === undefined ? undefined : join(staticPath, key));
  const required = (schema.required ?? []).map((key) => ({ key, path: childPath(key) }));
  const properties = Object.entries(schema.properties ?? {}).map(([key, child]) => ({ key, path: childPath(key), check: compile(child, childPath(key)) }));
  const closed = schema.additionalProperties === false ? new Set(Object.keys(schema.properties ?? {})) : undefined;
  const items = schema.items ? compile(schema.items, undefined) : undefined;
  const { format } = schema;
  const hasConst = schema.const !== undefined;
  return (value, path, out) => {
    const actual = typeOf(value);
    if (types !== undefined) {
      let matches = false;
      for (const t of types) if (typeMatches(actual, t)) matches = true;
      if (!matches) {
        out.push({ path, message: `expected ${types.join(' or ')}, got ${actual}` });
        return;
      }
    }
    if (hasConst && value !== schema.const) out.push({ path, message: `expected ${JSON.stringify(schema.const)}` });
    if (actual === 'string' && format === 'date-time' && !RFC3339_DATE_TIME.test(value as string)) {
      out.push({ path, message: 'expected an RFC 3339 date-time' });
    }
    if (actual === 'object') {
      const object = value as Record<string, unknown>;
      for (const r of required) if (!hasOwn(object, r.key)) out.push({ path: r.path ?? join(path, r.key), message: 'is required' });
      for (const p of properties) if (hasOwn(object, p.key)) p.check(object[p.key], p.path ?? join(path, p.key), out);
      if (closed) {
        for (const key of Object.keys(object)) if (!closed.has(key)) out.push({ path: join(path, key), message: 'is not allowed' });
      }
    }
    if (actual === 'array' && items) (value as unknown[]).forEach((item, i) => items(item, join(path, i), out));
  };
}

const compiled = new WeakMap<JsonSchema, Checker>();

/** Every way `value` breaks `schema`; an empty list means it is valid. */
export function validateAgainst(schema: JsonSchema, value: unknown): SchemaViolation[] {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = compile(schema, '$');
    compiled.set(schema, checker);
  }
  const out: SchemaViolation[] = [];
  checker(value, '$', out);
  return out;
}
