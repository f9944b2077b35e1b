import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { events } from '../../src/events/catalog.js';
import { CATALOG_VALIDATORS } from '../../src/events/generated/catalog-validators.js';
import { validateAgainst, type JsonSchema } from '../../src/events/schema.js';
import { generate } from '../../src/events/generate.js';

const ajvLoaded = (): boolean => Object.keys(createRequire(import.meta.url).cache).some((file) => /[/\\]node_modules[/\\]ajv[/\\]/.test(file));

// First in this file: verify runs the catalog's schemas on every request, from the code
// the build generated, so neither Ajv nor a compile is paid at run time.
test('the catalog validates with the standalone code built from it, without loading Ajv', () => {
  // In `npm run test:unit` other files share this process and may have loaded Ajv already.
  const loadedBefore = ajvLoaded();
  for (const [i, { name, schema }] of events.entries()) {
    assert.ok(CATALOG_VALIDATORS.has(JSON.stringify(schema)), `${name} has built code (run scripts/build-schemas.mjs after changing the catalog)`);
    assert.deepEqual(validateAgainst(schema, generate(name, { seed: i + 1 })), [], name);
  }
  assert.deepEqual(validateAgainst(events[0]!.schema, { event: 'MessageSent', payload: 3 }), [{ path: 'payload', message: 'expected object, got integer' }]);
  if (!loadedBefore) assert.equal(ajvLoaded(), false);
});

test('the built code and Ajv at run time give the same violations for a catalog schema', () => {
  for (const [i, { name, schema }] of events.entries()) {
    const body = generate(name, { seed: i + 7 }) as unknown as { event: unknown; payload: Record<string, unknown> };
    const first = Object.keys(body.payload)[0]!;
    body.payload[first] = [1];
    delete body.payload[Object.keys(body.payload)[1]!];
    body.event = 5;
    // A schema with other text is compiled by Ajv now, not taken from the build.
    const other = { ...structuredClone(schema), $comment: 'compiled at run time' } as JsonSchema;
    assert.ok(!CATALOG_VALIDATORS.has(JSON.stringify(other)));
    assert.deepEqual(validateAgainst(other, body), validateAgainst(schema, body), name);
    assert.ok(validateAgainst(schema, body).length >= 3, name);
  }
});

test('a schema means what JSON Schema says: enum, pattern, oneOf, anyOf and bounds are enforced', () => {
  const schema: JsonSchema = {
    type: 'object',
    required: ['status', 'token', 'target'],
    properties: {
      status: { type: 'string', enum: ['sent', 'held'] },
      token: { type: 'string', pattern: '^[a-z0-9]{8}$' },
      target: { oneOf: [{ type: 'string', pattern: '^https?://' }, { type: 'integer', minimum: 1 }] },
      tag: { anyOf: [{ type: 'null' }, { type: 'string', maxLength: 3 }] },
      count: { type: 'integer', minimum: 0, maximum: 10 },
    },
  };
  assert.deepEqual(validateAgainst(schema, { status: 'sent', token: 'abcd1234', target: 'https://x', tag: null, count: 10 }), []);
  assert.deepEqual(validateAgainst(schema, { status: 'held', token: 'abcd1234', target: 3, tag: 'abc' }), []);
  assert.deepEqual(validateAgainst(schema, { status: 'bounced', token: 'ABC', target: 'ftp://x', tag: 'abcd', count: 11 }), [
    { path: 'status', message: 'expected one of "sent", "held"' },
    { path: 'token', message: 'must match the pattern ^[a-z0-9]{8}$' },
    { path: 'target', message: 'matches none of its oneOf schemas' },
    { path: 'tag', message: 'matches none of its anyOf schemas' },
    { path: 'count', message: 'must be <= 10' },
  ]);
  // oneOf means exactly one: a value both branches accept breaks it.
  const either: JsonSchema = { oneOf: [{ type: 'integer' }, { type: 'number' }] };
  assert.deepEqual(validateAgainst(either, 2), [{ path: '$', message: 'matches more than one of its oneOf schemas' }]);
  assert.deepEqual(validateAgainst(either, 2.5), []);
  assert.equal(ajvLoaded(), true, 'a schema of its own is compiled by Ajv');
});

test('paths inside objects and arrays, required, const, format, closed objects; a wrong type ends its node', () => {
  const schema: JsonSchema = {
    type: 'object',
    required: ['event', 'items'],
    properties: {
      event: { type: 'string', const: 'X' },
      at: { type: 'string', format: 'date-time' },
      items: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, n: { type: ['number', 'null'] } }, additionalProperties: false } },
      'a/b~c': { type: 'string' },
    },
  };
  assert.deepEqual(validateAgainst(schema, { event: 'X', at: '2026-03-30T14:00:00Z', items: [{ id: 1, n: null }, { id: 2, n: 1.5 }] }), []);
  assert.deepEqual(validateAgainst(schema, { event: 'Y', at: 'yesterday', items: [{ id: 'a' }, { n: true, extra: 1 }], 'a/b~c': 1 }), [
    { path: 'event', message: 'expected "X"' },
    { path: 'at', message: 'expected an RFC 3339 date-time' },
    { path: 'items[0].id', message: 'expected integer, got string' },
    { path: 'items[1].id', message: 'is required' },
    { path: 'items[1].extra', message: 'is not allowed' },
    { path: 'items[1].n', message: 'expected number or null, got boolean' },
    { path: 'a/b~c', message: 'expected string, got integer' },
  ]);
  // The const is not reported on top of the wrong type.
  assert.deepEqual(validateAgainst(schema, { event: 5, items: [] }), [{ path: 'event', message: 'expected string, got integer' }]);
  assert.deepEqual(validateAgainst(schema, [1]), [{ path: '$', message: 'expected object, got array' }]);
  assert.deepEqual(validateAgainst(schema, {}), [
    { path: 'event', message: 'is required' },
    { path: 'items', message: 'is required' },
  ]);
  // Inherited names are not present: JSON.parse gives every object Object.prototype.
  assert.deepEqual(validateAgainst({ type: 'object', required: ['constructor'] }, JSON.parse('{}')), [{ path: 'constructor', message: 'is required' }]);
  // The same schema object again: the cached validator gives the same answers.
  assert.deepEqual(validateAgainst(schema, { event: 'X', items: 3 }), [{ path: 'items', message: 'expected array, got integer' }]);
});
