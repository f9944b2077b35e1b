/**
 * JSON Schema (2020-12) documents and their validation, by Ajv. The catalog's nine schemas
 * are compiled at build time into standalone code (scripts/build-schemas.mjs), which verify
 * runs on every captured request with nothing to load or compile; any other schema is
 * compiled by Ajv on first use. Either way a schema means what JSON Schema says: `enum`,
 * `pattern`, `oneOf` and the rest are enforced.
 */
import type { ErrorObject } from 'ajv/dist/2020.js';
import { newAjv } from './ajv.js';
import { CATALOG_VALIDATORS } from './generated/catalog-validators.js';

export type JsonType = 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean' | 'null';

export interface JsonSchema {
  $schema?: string;
  $id?: string;
  title?: string;
  description?: string;
  type?: JsonType | JsonType[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  /** `date-time` (RFC 3339) is checked; other formats are ignored. */
  format?: string;
  const?: string | number | boolean | null;
  enum?: Array<string | number | boolean | null>;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  allOf?: JsonSchema[];
  not?: JsonSchema;
  $comment?: string;
  examples?: unknown[];
}

export interface SchemaViolation {
  /** Where in the document, e.g. `payload.message.id` (`$` for the root). */
  path: string;
  message: string;
}

/** Ajv's compiled function and the standalone ones alike. */
interface Validate {
  (data: unknown): boolean;
  errors?: ErrorObject[] | null;
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

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '$' ? key : `${path}.${key}`;
}

/** An Ajv instancePath (`/payload/items/0`) as our path (`payload.items[0]`), and the value there. */
function locate(document: unknown, instancePath: string): { path: string; value: unknown } {
  let path = '$';
  let value = document;
  if (instancePath === '') return { path, value };
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(value)) {
      path = join(path, Number(key));
      value = value[Number(key)];
    } else {
      path = join(path, key);
      value = typeof value === 'object' && value !== null ? (value as Record<string, unknown>)[key] : undefined;
    }
  }
  return { path, value };
}

const quoteAll = (values: unknown[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** One Ajv error in this tool's words (the words verify and generate have always printed). */
function violation(error: ErrorObject, document: unknown): SchemaViolation {
  const { path, value } = locate(document, error.instancePath);
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type': {
      const types = Array.isArray(params.type) ? params.type : String(params.type).split(',');
      return { path, message: `expected ${types.join(' or ')}, got ${typeOf(value)}` };
    }
    case 'required':
      return { path: join(path, String(params.missingProperty)), message: 'is required' };
    case 'additionalProperties':
      return { path: join(path, String(params.additionalProperty)), message: 'is not allowed' };
    case 'const':
      return { path, message: `expected ${JSON.stringify(params.allowedValue)}` };
    case 'enum':
      return { path, message: `expected one of ${quoteAll(params.allowedValues as unknown[])}` };
    case 'format':
      return {
        path,
        message: params.format === 'date-time' ? 'expected an RFC 3339 date-time' : `expected format ${String(params.format)}`,
      };
    case 'pattern':
      return { path, message: `must match the pattern ${String(params.pattern)}` };
    case 'oneOf':
      return { path, message: params.passingSchemas ? 'matches more than one of its oneOf schemas' : 'matches none of its oneOf schemas' };
    case 'anyOf':
      return { path, message: 'matches none of its anyOf schemas' };
    default:
      return { path, message: error.message ?? `breaks ${error.keyword}` };
  }
}

/**
 * The errors worth reading: a value of the wrong type says nothing more about that schema
 * node (Ajv still checks its `const` or `enum`), and a failed oneOf/anyOf is one line, not
 * every branch's reasons.
 */
function relevant(errors: ErrorObject[]): ErrorObject[] {
  const wrongType = errors
    .filter((e) => e.keyword === 'type')
    .map((e) => ({ at: e.instancePath, node: e.schemaPath.slice(0, -'type'.length) }));
  const branches = errors.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf').map((e) => `${e.schemaPath}/`);
  if (wrongType.length === 0 && branches.length === 0) return errors;
  return errors.filter(
    (e) =>
      !branches.some((branch) => e.schemaPath.startsWith(branch)) &&
      (e.keyword === 'type' || !wrongType.some((w) => w.at === e.instancePath && e.schemaPath.startsWith(w.node))),
  );
}

function compile(schema: JsonSchema): Validate {
  const precompiled = CATALOG_VALIDATORS.get(JSON.stringify(schema)) as Validate | undefined;
  return precompiled ?? newAjv({ standalone: false }).compile(schema as object);
}

const compiled = new WeakMap<JsonSchema, Validate>();

/** Every way `value` breaks `schema`; an empty list means it is valid. */
export function validateAgainst(schema: JsonSchema, value: unknown): SchemaViolation[] {
  let validate = compiled.get(schema);
  if (!validate) {
    validate = compile(schema);
    compiled.set(schema, validate);
  }
  if (validate(value)) return [];
  return relevant(validate.errors ?? []).map((error) => violation(error, value));
}
