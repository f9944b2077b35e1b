import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expectUsageErrors, runCli } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'whsec_send_seed_test';

test('send --seed sends exactly what generate --seed --compact prints, every time', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  for (let run = 0; run < 2; run++) {
    const result = await runCli(['send', 'MessageBounced', 'MessageSent', '--seed', '7', '--url', receiver.url, '--secret', SECRET]);
    assert.equal(result.code, 0, result.stderr);
  }
  const generated = await Promise.all(['MessageBounced', 'MessageSent'].map((event) => runCli(['generate', event, '--seed', '7', '--compact'])));
  const expected = generated.map((g) => g.stdout.trimEnd());
  assert.deepEqual(receiver.requests.map((r) => r.body.toString('utf8')), [...expected, ...expected]);
  assert.ok(receiver.requests.every((r) => r.signatureValid));
  await expectUsageErrors([
    [['send', 'MessageSent', '--seed', '-1', '--url', receiver.url], /Invalid --seed "-1"/],
    [['send', 'MessageSent', '--seed', '1', '--count', '5', '--url', receiver.url], /--count cannot be combined with --seed/],
    [['send', '--body', '-', '--seed', '1', '--url', receiver.url], /--body cannot be combined with --set\/--data\/--seed/],
  ]);
});

test('send --retry with several events: each has its own schedule, one event\'s retries do not hold up the next', async (t) => {
  let sentAttempts = 0;
  const receiver = await startReceiver(t, {
    secret: SECRET,
    respond: (request) => {
      if (JSON.parse(request.body.toString()).event !== 'MessageSent') return 200;
      sentAttempts++;
      return sentAttempts === 1 ? 503 : 200;
    },
  });
  // 1 min × 0.05 = 3 s: MessageHeld goes out long before MessageSent's retry, even on a slow machine.
  const result = await runCli(['send', 'MessageSent', 'MessageHeld', '--retry', '--time-scale', '0.05', '--url', receiver.url, '--secret', SECRET, '--json']);
  assert.equal(result.code, 0, result.stderr);
  const arrived = receiver.requests.map((r) => JSON.parse(r.body.toString()).event as string);
  assert.deepEqual(arrived, ['MessageSent', 'MessageHeld', 'MessageSent'], 'MessageHeld did not wait for MessageSent\'s retry');
  const lines = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.slice(0, -1).map((l) => [l.event, l.attempt, l.status]), [
    ['MessageSent', 1, 503],
    ['MessageHeld', 1, 200],
    ['MessageSent', 2, 200],
  ]);
  assert.deepEqual({ ...lines.at(-1), durationMs: 0 }, { sent: 2, ok: 2, failed: 0, attempts: 3, durationMs: 0 });
  assert.match(result.stderr, /MessageSent: retry 1 of 5 in 3(\.00)? s \(FrontEngine: 1 min\)/);
});
