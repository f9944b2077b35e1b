import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from '../helpers/cli.js';
import { startHangingReceiver } from '../helpers/receiver.js';

test('send load mode counts timeouts in the summary and --json, and exits 1', async (t) => {
  // Every other request hangs until the test ends.
  const receiver = await startHangingReceiver(t, (index) => index % 2 === 1);
  const json = await runCli(['send', 'MessageSent', '--url', receiver.url, '--count', '6', '--concurrency', '2', '--timeout', '300ms', '--json']);
  assert.equal(json.code, 1, json.stderr);
  const summary = JSON.parse(json.stdout) as { sent: number; ok: number; failed: number; over5s: number; latencyMs: { max: number } };
  assert.deepEqual([summary.sent, summary.ok, summary.failed, summary.over5s], [6, 3, 3, 0]);
  assert.ok(summary.latencyMs.max >= 300, `max latency ${summary.latencyMs.max}`);
  assert.match(json.stderr, /3 of 6 deliveries failed/);

  const human = await runCli(['send', 'MessageSent', '--url', receiver.url, '--count', '4', '--concurrency', '2', '--timeout', '300ms']);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /failed +2 \(timeout 2\)/);
  assert.match(human.stdout, /over 5 s +0/);
});
