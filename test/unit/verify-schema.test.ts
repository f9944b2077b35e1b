import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateAgainst, type JsonSchema } from '../../src/events/schema.js';

// The compiled validator (built once per schema for verify's speed) must say exactly
// what the schema-walking one said: same paths, same messages, same order.
test('compiled schemas: paths inside objects and arrays, required, const, format, closed objects', () => {
  const schema: JsonSchema = {
    type: 'object',
    required: ['event', 'items'],
    properties: {
      event: { type: 'string', const: 'X' },
      at: { type: 'string', format: 'date-time' },
      items: { type: 'array', items: { type: 'object', required: ['id'], properties: { id: { type: 'integer' }, n: { type: ['number', 'null'] } }, additionalProperties: false } },
    },
  };
  assert.deepEqual(validateAgainst(schema, { event: 'X', at: '2026-03-30T14:00:00Z', items: [{ id: 1, n: null }, { id: 2, n: 1.5 }] }), []);
  assert.deepEqual(validateAgainst(schema, { event: 'Y', at: 'yesterday', items: [{ id: 'a' }, { n: true, extra: 1 }] }), [
    { path: 'event', message: 'expected "X"' },
    { path: 'at', message: 'expected an RFC 3339 date-time' },
    { path: 'items[0].id', message: 'expected integer, got string' },
    { path: 'items[1].id', message: 'is required' },
    { path: 'items[1].n', message: 'expected number or null, got boolean' },
    { path: 'items[1].extra', message: 'is not allowed' },
  ]);
  assert.deepEqual(validateAgainst(schema, [1]), [{ path: '$', message: 'expected object, got array' }]);
  assert.deepEqual(validateAgainst(schema, {}), [
    { path: 'event', message: 'is required' },
    { path: 'items', message: 'is required' },
  ]);
  // The same schema object again: the cached checker gives the same answers.
  assert.deepEqual(validateAgainst(schema, { event: 'X', items: 3 }), [{ path: 'items', message: 'expected array, got integer' }]);
});
