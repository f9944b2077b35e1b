import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES, eventDefinition, events } from '../../src/events/catalog.js';
import { composeBody } from '../../src/events/compose.js';
import { generate } from '../../src/events/generate.js';
import { findEventName, resolveEventName } from '../../src/events/names.js';
import { validateEvent } from '../../src/events/validate.js';
import { UserError } from '../../src/errors.js';
import type { DeliveryStatusPayload, DomainDNSErrorPayload, SendLimitPayload } from '../../src/events/types.js';
import { REPO_ROOT } from '../helpers/cli.js';

const FIXTURES = path.join(REPO_ROOT, 'fixtures/events');

test('the catalogue has the nine events of the page with their categories', () => {
  assert.deepEqual(EVENT_NAMES, [
    'MessageSent',
    'MessageDelayed',
    'MessageDeliveryFailed',
    'MessageHeld',
    'MessageBounced',
    'MessageLinkClicked',
    'SendLimitApproaching',
    'SendLimitExceeded',
    'DomainDNSError',
  ]);
  assert.deepEqual(
    events.filter((e) => e.category === 'server').map((e) => e.name),
    ['SendLimitApproaching', 'SendLimitExceeded', 'DomainDNSError'],
  );
  assert.equal(eventDefinition('SendLimitApproaching')?.description, 'Server has reached 90% of sending capacity');
});

test("the page's example payloads validate against their schemas", () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 5);
  for (const file of files) {
    const body = JSON.parse(readFileSync(path.join(FIXTURES, file), 'utf8'));
    assert.deepEqual(validateEvent(body), { event: path.basename(file, '.json'), violations: [] }, file);
  }
  // The page shows one limit payload for both limit events.
  const approaching = JSON.parse(readFileSync(path.join(FIXTURES, 'SendLimitApproaching.json'), 'utf8'));
  assert.deepEqual(validateEvent({ ...approaching, event: 'SendLimitExceeded' }).violations, []);
});

test('every generated sample validates, over many seeds', () => {
  for (const name of EVENT_NAMES) {
    for (let seed = 0; seed < 200; seed++) {
      const sample = generate(name, { seed });
      assert.equal(sample.event, name);
      assert.deepEqual(validateEvent(sample).violations, [], `${name} seed ${seed}`);
    }
    assert.deepEqual(validateEvent(generate(name)).violations, []);
  }
});

test('a seed repeats the sample byte for byte; no seed gives fresh ids and the current time', () => {
  for (const name of EVENT_NAMES) {
    assert.equal(JSON.stringify(generate(name, { seed: 7 })), JSON.stringify(generate(name, { seed: 7 })));
    assert.notEqual(JSON.stringify(generate(name, { seed: 7 })), JSON.stringify(generate(name, { seed: 8 })));
  }
  const a = generate('MessageSent');
  const b = generate('MessageSent');
  assert.notEqual(a.payload.message.id === b.payload.message.id && a.payload.message.token === b.payload.message.token, true);
  const now = Math.floor(Date.now() / 1000);
  assert.ok(Math.abs(a.payload.timestamp - now) <= 2);
  assert.ok(a.payload.message.timestamp <= a.payload.timestamp);
});

test('samples look like real FrontEngine (Postal) traffic', () => {
  const statuses = { MessageSent: 'sent', MessageDelayed: 'softfail', MessageDeliveryFailed: 'hardfail', MessageHeld: 'held' } as const;
  const smtpClass = { MessageSent: /^250 2\.\d\.\d /, MessageDelayed: /^4\d\d 4\.\d\.\d /, MessageDeliveryFailed: /^5\d\d 5\.\d\.\d / };
  for (let seed = 0; seed < 100; seed++) {
    for (const [name, status] of Object.entries(statuses)) {
      const payload = generate(name as keyof typeof statuses, { seed }).payload as DeliveryStatusPayload;
      assert.equal(payload.status, status);
      assert.match(payload.message.message_id, /^<[^<>@\s]+@[a-z0-9.-]+\.[a-z]+>$/);
      assert.match(payload.message.to, /^[^@\s]+@[a-z0-9.-]+\.[a-z]+$/);
      assert.ok(['NotChecked', 'Spam', 'NotSpam'].includes(payload.message.spam_status));
      assert.match(payload.message.token, /^[a-z0-9]{12}$/);
      if (name === 'MessageHeld') {
        assert.equal(payload.time, null);
        assert.equal(payload.sent_with_ssl, null);
      } else {
        assert.match(payload.output, smtpClass[name as keyof typeof smtpClass]);
        assert.equal(typeof payload.time, 'number');
      }
    }
    const approaching = generate('SendLimitApproaching', { seed }).payload as SendLimitPayload;
    assert.ok(approaching.volume >= approaching.limit * 0.9 && approaching.volume < approaching.limit);
    const exceeded = generate('SendLimitExceeded', { seed }).payload as SendLimitPayload;
    assert.ok(exceeded.volume > exceeded.limit);
    const dns = generate('DomainDNSError', { seed }).payload as DomainDNSErrorPayload;
    const checks = (['spf', 'dkim', 'mx', 'return_path'] as const).map((c) => [dns[`${c}_status`], dns[`${c}_error`]] as const);
    const failing = checks.filter(([s]) => s !== 'OK');
    assert.equal(failing.length, 1);
    assert.ok(['Missing', 'Invalid'].includes(failing[0]?.[0] as string));
    assert.equal(typeof failing[0]?.[1], 'string');
    assert.ok(checks.filter(([s]) => s === 'OK').every(([, e]) => e === null));
    const bounced = generate('MessageBounced', { seed }).payload;
    assert.equal(bounced.bounce.to, bounced.original_message.from);
  }
});

test('schema violations name their JSON path', () => {
  const sample = generate('MessageSent', { seed: 1 }) as unknown as { payload: Record<string, unknown> & { message: Record<string, unknown> } };
  sample.payload.message.id = '12345';
  delete sample.payload.timestamp;
  sample.payload.sent_with_ssl = 'yes';
  assert.deepEqual(validateEvent(sample).violations, [
    { path: 'payload.timestamp', message: 'is required' },
    { path: 'payload.sent_with_ssl', message: 'expected boolean or null, got string' },
    { path: 'payload.message.id', message: 'expected integer, got string' },
  ]);
  assert.deepEqual(validateEvent({ event: 'MessageSnet', payload: {} }).violations, [{ path: 'event', message: 'unknown event "MessageSnet"' }]);
  assert.deepEqual(validateEvent([1]).violations, [{ path: '$', message: 'expected a JSON object' }]);
  // Words the page does not document are not enforced, and extra fields are allowed.
  const delayed = generate('MessageDelayed', { seed: 2 }) as unknown as { payload: Record<string, unknown> };
  delayed.payload.status = 'deferred';
  delayed.payload.new_field = { any: 'thing' };
  assert.deepEqual(validateEvent(delayed).violations, []);
});

test('event names match case-insensitively, with dotted aliases, and suggest on typos', () => {
  assert.equal(findEventName('messagebounced'), 'MessageBounced');
  assert.equal(findEventName('message.bounced'), 'MessageBounced');
  assert.equal(findEventName('MESSAGE_LINK_CLICKED'), 'MessageLinkClicked');
  assert.equal(findEventName('domain.dns_error'), 'DomainDNSError');
  assert.equal(findEventName('bounced'), 'MessageBounced');
  assert.equal(findEventName('nope'), undefined);
  assert.throws(() => resolveEventName('MessageBounce'), (e: unknown) => e instanceof UserError && /Did you mean MessageBounced\?/.test(e.message));
  assert.throws(() => resolveEventName('zzzz'), (e: unknown) => e instanceof UserError && /fe-webhooks events/.test(e.message));
});

test('composeBody applies --data then --set, and reports what broke the schema', () => {
  const composed = composeBody('MessageSent', {
    seed: 3,
    partial: { payload: { message: { to: 'ana@example.com', tag: 'x' } } },
    overrides: [
      { path: ['payload', 'message', 'tag'], value: 'final' },
      { path: ['payload', 'time'], value: 'slow' },
    ],
    compact: true,
  });
  const body = JSON.parse(composed.body);
  assert.equal(body.payload.message.to, 'ana@example.com');
  assert.equal(body.payload.message.tag, 'final');
  assert.equal(typeof body.payload.message.id, 'number');
  assert.ok(!composed.body.includes('\n'));
  assert.deepEqual(composed.violations, [{ path: 'payload.time', message: 'expected number or null, got string' }]);
});
