import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyFieldOverride, deepMerge, parseFieldOverride } from '../../src/events/overrides.js';
import { UserError } from '../../src/errors.js';

test('--set values are JSON when they parse, else strings', () => {
  assert.deepEqual(parseFieldOverride('payload.volume=9500'), { path: ['payload', 'volume'], value: 9500 });
  assert.deepEqual(parseFieldOverride('payload.message.to=a@b.c'), { path: ['payload', 'message', 'to'], value: 'a@b.c' });
  assert.deepEqual(parseFieldOverride('payload.x=null'), { path: ['payload', 'x'], value: null });
  assert.deepEqual(parseFieldOverride('payload.x={"a":[1]}'), { path: ['payload', 'x'], value: { a: [1] } });
  assert.deepEqual(parseFieldOverride('payload.x="12"'), { path: ['payload', 'x'], value: '12' });
  assert.deepEqual(parseFieldOverride('payload.url=https://x.example/?a=b'), { path: ['payload', 'url'], value: 'https://x.example/?a=b' });
  assert.deepEqual(parseFieldOverride('a='), { path: ['a'], value: '' });
});

test('malformed --set is a user error', () => {
  for (const bad of ['payload.message.to', '=x', 'a..b=1', '__proto__.x=1', 'a.constructor=1']) {
    assert.throws(() => parseFieldOverride(bad), UserError, bad);
  }
});

test('overrides create missing objects; deepMerge merges objects and replaces the rest', () => {
  const doc: Record<string, unknown> = { payload: { a: 1, list: [1, 2], nested: { keep: true } } };
  applyFieldOverride(doc, { path: ['payload', 'new', 'deep'], value: 'x' });
  deepMerge(doc, { payload: { list: [3], nested: { add: 1 } }, extra: 'y' });
  assert.deepEqual(doc, { payload: { a: 1, list: [3], nested: { keep: true, add: 1 }, new: { deep: 'x' } }, extra: 'y' });
  deepMerge(doc, JSON.parse('{"__proto__":{"polluted":true}}'));
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});
