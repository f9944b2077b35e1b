/**
 * A small JSON Schema (2020-12 subset: type, properties, required, items, format)
 * and its validator. The schemas are real JSON Schema documents users can export;
 * the validator is ours because verify runs it on every captured request: each schema
 * becomes one generated function on first use (no dependency, no start-up cost).
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


const RFC3339_DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function join(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  return path === '$' ? key : `${path}.${key}`;
}

type Checker = (value: unknown, out: SchemaViolation[]) => void;

const hasOwn = (object: object, key: string): boolean => Object.prototype.hasOwnProperty.call(object, key);

/** What typeOf(value) === type tests, as a JS expression over `v`. */
function typeTest(type: JsonType, v: string): string {
  switch (type) {
    case 'string':
    case 'boolean':
      return `typeof ${v} === '${type}'`;
    case 'null':
      return `${v} === null`;
    case 'array':
      return `Array.isArray(${v})`;
    case 'integer':
      return `(typeof ${v} === 'number' && Number.isInteger(${v}))`;
    // An integer is a number too.
    case 'number':
      return `typeof ${v} === 'number'`;
    default:
      return objectTest(v);
  }
}

/**
 * typeOf(v) === 'object' spelled out (typeOf calls 'object' anything not null, an array,
 * a string, a boolean or a number): as a call, V8 inlined typeOf's whole switch at every
 * object node of every schema, which made the generated checkers slow to optimize.
 */
function objectTest(v: string): string {
  return `(typeof ${v} === 'object' ? ${v} !== null && !Array.isArray(${v}) : typeof ${v} !== 'string' && typeof ${v} !== 'boolean' && ` +
    `typeof ${v} !== 'number')`;
}

/** A path known when compiling (a JSON string literal), or an expression (inside arrays). */
interface PathCode {
  known?: string;
  expression?: string;
}

const pathJs = (path: PathCode): string => (path.known !== undefined ? JSON.stringify(path.known) : (path.expression as string));
const childPath = (path: PathCode, key: string): PathCode =>
  path.known !== undefined ? { known: join(path.known, key) } : { expression: `${path.expression} + ${JSON.stringify(`.${key}`)}` };

interface Generated {
  lines: string[];
  names: number;
  closed: Set<string>[];
}

/**
 * The checking code of one schema node, in the order the violations are reported: type
 * (a mismatch ends the node), const, format, then an object's required keys, its
 * properties and unknown keys, or an array's items.
 */
function emit(schema: JsonSchema, v: string, path: PathCode, g: Generated): void {
  const p = pathJs(path);
  const types = schema.type === undefined ? undefined : Array.isArray(schema.type) ? schema.type : [schema.type];
  let closeType = false;
  if (types !== undefined) {
    g.lines.push(
      `if (!(${types.map((t) => typeTest(t, v)).join(' || ')})) out.push({ path: ${p}, message: ` +
        `${JSON.stringify(`expected ${types.join(' or ')}, got `)} + typeOf(${v}) });`,
      'else {',
    );
    closeType = true;
  }
  if (schema.const !== undefined)
    g.lines.push(
      `if (${v} !== ${JSON.stringify(schema.const)}) out.push({ path: ${p}, message: ` +
        `${JSON.stringify(`expected ${JSON.stringify(schema.const)}`)} });`,
    );
  if (schema.format === 'date-time')
    g.lines.push(
      `if (typeof ${v} === 'string' && !DATE_TIME.test(${v})) out.push({ path: ${p}, message: 'expected an RFC 3339 date-time' });`,
    );
  const required = schema.required ?? [];
  const properties = Object.entries(schema.properties ?? {});
  const closed = schema.additionalProperties === false;
  if (required.length > 0 || properties.length > 0 || closed) {
    // Under a type check of 'object' alone, the value is known to be one here.
    const knownObject = types !== undefined && types.length === 1 && types[0] === 'object';
    g.lines.push(knownObject ? '{' : `if (${objectTest(v)}) {`);
    // Each key is read once by its literal name, and hasOwn asked only when that gives
    // undefined (absent, or present as undefined): hasOwnProperty on every key of every
    // request was ~1.5% of verify. JSON data has no inherited keys but Object.prototype's,
    // which always go through hasOwn.
    const names = new Map<string, string>();
    const read = (key: string): string => {
      let name = names.get(key);
      if (name === undefined) {
        name = `v${++g.names}`;
        names.set(key, name);
        g.lines.push(`const ${name} = ${v}[${JSON.stringify(key)}];`);
      }
      return name;
    };
    const present = (key: string): string =>
      key in Object.prototype
        ? `hasOwn(${v}, ${JSON.stringify(key)})`
        : `(${read(key)} !== undefined || hasOwn(${v}, ${JSON.stringify(key)}))`;
    for (const key of required)
      g.lines.push(`if (!${present(key)}) out.push({ path: ${pathJs(childPath(path, key))}, message: 'is required' });`);
    for (const [key, child] of properties) {
      g.lines.push(`if (${present(key)}) {`);
      const name = key in Object.prototype ? `v${++g.names}` : read(key);
      if (key in Object.prototype) g.lines.push(`const ${name} = ${v}[${JSON.stringify(key)}];`);
      emit(child, name, childPath(path, key), g);
      g.lines.push('}');
    }
    if (closed) {
      g.closed.push(new Set(Object.keys(schema.properties ?? {})));
      g.lines.push(
        `for (const key of Object.keys(${v})) if (!closed[${g.closed.length - 1}].has(key)) out.push({ path: join(${p}, key), message: ` +
          `'is not allowed' });`,
      );
    }
    g.lines.push('}');
  }
  if (schema.items) {
    const index = `i${++g.names}`;
    const name = `v${++g.names}`;
    // forEach's way: holes in a sparse array are not items.
    g.lines.push(
      `if (Array.isArray(${v})) for (let ${index} = 0; ${index} < ${v}.length; ${index}++) {`,
      `if (!(${index} in ${v})) continue;`,
      `const ${name} = ${v}[${index}];`,
    );
    emit(schema.items, name, { expression: `(${p} + "[" + ${index} + "]")` }, g);
    g.lines.push('}');
  }
  if (closeType) g.lines.push('}');
}

/**
 * Turns a schema into a checking function once, as JavaScript source (the way ajv does).
 * verify runs the same nine schemas over every captured request: walking the schema, or
 * even closures per node reading properties by variable keys, cost more than parsing the
 * body; generated code reads each property by its literal name (V8 caches those lookups)
 * and builds every path outside arrays here, not per request. The source holds only the
 * schema's own names and constants, quoted by JSON.stringify.
 */
function compile(schema: JsonSchema): Checker {
  const g: Generated = { lines: [], names: 0, closed: [] };
  emit(schema, 'v0', { known: '$' }, g);
  const factory = new Function('hasOwn', 'typeOf', 'join', 'DATE_TIME', 'closed', `return (v0, out) => {\n${g.lines.join('\n')}\n};`) as (
    ...helpers: unknown[]
  ) => Checker;
  return factory(hasOwn, typeOf, join, RFC3339_DATE_TIME, g.closed);
}

const compiled = new WeakMap<JsonSchema, Checker>();

/** Every way `value` breaks `schema`; an empty list means it is valid. */
export function validateAgainst(schema: JsonSchema, value: unknown): SchemaViolation[] {
  let checker = compiled.get(schema);
  if (!checker) {
    checker = compile(schema);
    compiled.set(schema, checker);
  }
  const out: SchemaViolation[] = [];
  checker(value, out);
  return out;
}
