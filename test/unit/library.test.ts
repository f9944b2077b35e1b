import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as library from '../../src/index.js';
import type { WebhookEvent } from '../../src/index.js';

test('the package main export offers sign, verify, generate and the typed catalogue', () => {
  const sample = library.generate('MessageBounced', { seed: 5 });
  const body = JSON.stringify(sample);
  const signature = library.sign(body, 'k');
  assert.equal(library.verify(body, signature, ['old', 'k']), true);
  assert.equal(library.events.length, 9);
  assert.deepEqual(library.validateEvent(sample).violations, []);
  // The discriminated union narrows on `event`.
  const event: WebhookEvent = sample;
  if (event.event === 'MessageBounced') assert.equal(typeof event.payload.bounce.subject, 'string');
  assert.ok(!('main' in library), 'no CLI code in the library');
});
