import assert from 'node:assert/strict';
import { test } from 'node:test';
import { planDuplicates } from '../../src/delivery/duplicate-requests.js';
import { expectUsageErrors, runCli } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'whsec_load_duplicates';

/** How many times each distinct body arrived, and whether every copy carried the same signature. */
function arrivals(requests: Array<{ body: Buffer; headers: Record<string, unknown> }>): Map<string, { times: number; signatures: Set<unknown> }> {
  const seen = new Map<string, { times: number; signatures: Set<unknown> }>();
  for (const request of requests) {
    const key = request.body.toString('utf8');
    const entry = seen.get(key) ?? { times: 0, signatures: new Set() };
    entry.times++;
    entry.signatures.add(request.headers['x-webhook-signature']);
    seen.set(key, entry);
  }
  return seen;
}

test('send --count --duplicates 1: every unique event arrives exactly twice, byte-identical and equally signed', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['send', 'MessageSent', 'MessageBounced', '--count', '40', '--concurrency', '4', '--duplicates', '1', '--url', receiver.url, '--secret', SECRET, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.equal(summary.sent, 80);
  assert.equal(summary.ok, 80);
  assert.equal(summary.duplicates, 40);
  assert.equal(receiver.requests.length, 80);
  assert.ok(receiver.requests.every((r) => r.signatureValid));
  const seen = arrivals(receiver.requests);
  assert.equal(seen.size, 40);
  for (const { times, signatures } of seen.values()) {
    assert.equal(times, 2);
    assert.equal(signatures.size, 1);
  }
});

test('send --count --duplicates 0.5: some events twice, none more, and the summary counts them', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['send', 'MessageSent', '--count', '60', '--duplicates', '0.5', '--url', receiver.url, '--secret', SECRET]);
  assert.equal(result.code, 0, result.stderr);
  const seen = arrivals(receiver.requests);
  assert.equal(seen.size, 60);
  const twice = [...seen.values()].filter((e) => e.times === 2).length;
  assert.ok([...seen.values()].every((e) => e.times <= 2 && e.signatures.size === 1));
  assert.ok(twice > 0 && twice < 60, `${twice} of 60 sent twice`);
  assert.match(result.stdout, new RegExp(`^  duplicates +${twice} \\(sent twice, same bytes and signature\\)$`, 'm'));
  assert.match(result.stdout, new RegExp(`^  sent +${60 + twice}$`, 'm'));
  await expectUsageErrors([
    [['send', 'MessageSent', '--duplicates', '0.5', '--url', receiver.url], /--duplicates needs --count \(load mode\)/],
    [['send', 'MessageSent', '--count', '5', '--duplicates', '2', '--url', receiver.url], /Invalid --duplicates "2"/],
  ]);
});

test('planDuplicates: a copy is its original object, in whatever order the run asks', () => {
  const plan = planDuplicates(1000, 0.3, 11);
  assert.equal(plan.total, 1000 + plan.duplicates);
  assert.ok(plan.duplicates > 200 && plan.duplicates < 400);
  let made = 0;
  const request = plan.wrap((serial) => ({ serial, made: made++ }));
  // Backwards: every copy is asked for before its original.
  const got = Array.from({ length: plan.total }, (_, i) => plan.total - 1 - i).map((index) => request(index));
  assert.equal(made, 1000);
  const bySerial = new Map<number, Set<object>>();
  for (const r of got) bySerial.set(r.serial, (bySerial.get(r.serial) ?? new Set()).add(r));
  assert.equal(bySerial.size, 1000);
  assert.ok([...bySerial.values()].every((objects) => objects.size === 1));
  assert.equal(planDuplicates(10, 0).wrap((s) => s)(7), 7);
});
