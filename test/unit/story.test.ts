import assert from 'node:assert/strict';
import { test } from 'node:test';
import { composeBody } from '../../src/events/compose.js';
import * as library from '../../src/index.js';
import { generate } from '../../src/events/generate.js';
import { drillOrder } from '../../src/scenario/drill.js';
import { resolveReferences, UnresolvedReference } from '../../src/scenario/references.js';

const parse = (body: string): { payload: Record<string, any> } => JSON.parse(body);

test('--set payload.message.to also changes the details and SMTP output that name the recipient', () => {
  for (let seed = 0; seed < 50; seed++) {
    const sent = parse(composeBody('MessageSent', { seed, overrides: [{ path: ['payload', 'message', 'to'], value: 'ana@new.example' }] }).body);
    assert.match(sent.payload.details, /^Message for ana@new\.example accepted by /);
    const failed = parse(composeBody('MessageDeliveryFailed', { seed, overrides: [{ path: ['payload', 'message', 'to'], value: 'ana@new.example' }] }).body);
    const original = generate('MessageDeliveryFailed', { seed }).payload;
    if (original.output.includes(original.message.to)) assert.ok(failed.payload.output.includes('<ana@new.example>'), failed.payload.output);
    assert.ok(!failed.payload.output.includes(original.message.to));
  }
  // A derived field the user set stays as set.
  const both = parse(
    composeBody('MessageSent', { seed: 1, overrides: [{ path: ['payload', 'message', 'to'], value: 'x@y.example' }, { path: ['payload', 'details'], value: 'mine' }] }).body,
  );
  assert.equal(both.payload.details, 'mine');
  // --data counts as setting it too.
  const data = parse(composeBody('MessageSent', { seed: 1, partial: { payload: { message: { to: 'd@data.example' } } } }).body);
  assert.match(data.payload.details, /^Message for d@data\.example /);
});

test('a bounce comes from the recipient\'s domain back to the sender, and follows --set', () => {
  for (let seed = 0; seed < 50; seed++) {
    const { original_message: original, bounce } = generate('MessageBounced', { seed }).payload;
    assert.match(bounce.from, /^(postmaster|MAILER-DAEMON|mailer-daemon)@/);
    assert.equal(bounce.from.split('@')[1], original.to.split('@')[1]);
    assert.equal(bounce.to, original.from);
  }
  const changed = parse(
    composeBody('MessageBounced', {
      seed: 3,
      overrides: [
        { path: ['payload', 'original_message', 'to'], value: 'bob@elsewhere.example' },
        { path: ['payload', 'original_message', 'from'], value: 'shop@sender.example' },
      ],
    }).body,
  );
  assert.match(changed.payload.bounce.from, /@elsewhere\.example$/);
  assert.equal(changed.payload.bounce.to, 'shop@sender.example');
  const click = parse(composeBody('MessageLinkClicked', { seed: 3, overrides: [{ path: ['payload', 'message', 'token'], value: 'tok123' }] }).body);
  assert.equal(click.payload.token, 'tok123');
});

test('references: a whole reference keeps its type, an embedded one is text; a missing field is named', () => {
  const bodies: Record<string, unknown> = { sent: { payload: { message: { id: 42, to: 'a@b.example', tags: ['x'] } } } };
  const bodyOf = (name: string): unknown => bodies[name];
  assert.equal(resolveReferences('${sent.payload.message.id}', bodyOf), 42);
  assert.equal(resolveReferences('id ${sent.payload.message.id} to ${sent.payload.message.to}', bodyOf), 'id 42 to a@b.example');
  assert.deepEqual(resolveReferences({ list: ['${sent.payload.message.tags.0}'] }, bodyOf), { list: ['x'] });
  assert.throws(
    () => resolveReferences('${sent.payload.message.toString}', bodyOf),
    (error: unknown) => error instanceof UnresolvedReference && /sent has no field payload\.message\.toString/.test(error.message),
  );
});

test('drillOrder: duplicates 1 doubles each item next to it; shuffle is a seeded permutation; duplicates are marked by arrival', () => {
  const items = ['a', 'b', 'c', 'd', 'e', 'f'];
  assert.deepEqual(drillOrder(items, { duplicates: 1, shuffle: false }).map((d) => `${d.item}${d.duplicate ? '+' : ''}`), ['a', 'a+', 'b', 'b+', 'c', 'c+', 'd', 'd+', 'e', 'e+', 'f', 'f+']);
  assert.deepEqual(drillOrder(items, { duplicates: 0, shuffle: false }).map((d) => d.item), items);
  const shuffled = drillOrder(items, { duplicates: 0.5, shuffle: true, seed: 9 });
  assert.deepEqual(shuffled, drillOrder(items, { duplicates: 0.5, shuffle: true, seed: 9 }), 'a seed repeats the drill');
  const seen = new Set<string>();
  for (const { item, duplicate } of shuffled) {
    assert.equal(duplicate, seen.has(item));
    seen.add(item);
  }
  assert.deepEqual([...seen].sort(), items);
  let counts = 0;
  for (let seed = 0; seed < 200; seed++) counts += drillOrder(items, { duplicates: 0.25, shuffle: false, seed }).length - items.length;
  assert.ok(counts > 200 * 6 * 0.15 && counts < 200 * 6 * 0.35, `about a quarter duplicated (${counts})`);
});

test('the library composes a story: one message, times in order, ending at the given clock', () => {
  const now = new Date('2026-05-01T12:00:00Z');
  const story = library.builtinStory('delayed-then-sent');
  assert.ok(story);
  const events = library.composeStory(story, { seed: 3, now });
  assert.deepEqual(events.map((e) => [e.place, e.event]), [[1, 'MessageDelayed'], [2, 'MessageSent']]);
  const [delayed, sent] = events.map((e) => parse(e.body));
  assert.equal(sent?.payload.timestamp, now.getTime() / 1000);
  assert.equal(delayed?.payload.message.id, sent?.payload.message.id);
  assert.ok((delayed?.payload.timestamp as number) < (sent?.payload.timestamp as number));
  assert.deepEqual(library.composeStory(story, { seed: 3, now }), events, 'a seed repeats it');
});
