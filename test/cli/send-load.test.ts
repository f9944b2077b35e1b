import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BIN, runCli, tempDir } from '../helpers/cli.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';
import { runShell } from '../helpers/shell.js';

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

test('load mode names why deliveries failed (the open-file limit here), in text and --json', async (t) => {
  const receiver = await startReceiver(t);
  const cwd = await tempDir(t);
  // A low open-file limit for the CLI alone: 1000 connections cannot all open.
  const run = (extra: string[]) =>
    runShell(`ulimit -n 256 && exec "${process.execPath}" "${BIN}" send MessageSent --url ${receiver.url} --count 1500 --concurrency 1000 --timeout 20s ${extra.join(' ')}`, { cwd });
  const json = await run(['--json']);
  assert.equal(json.code, 1, json.stderr);
  const summary = JSON.parse(json.stdout) as { failed: number; failures: Record<string, { count: number; reason: string }> };
  assert.ok(summary.failed > 0);
  assert.deepEqual(Object.keys(summary.failures), ['too-many-open-files'], json.stdout);
  assert.equal(summary.failures['too-many-open-files']?.count, summary.failed);
  assert.match(summary.failures['too-many-open-files']?.reason ?? '', /open-file limit .*EMFILE.*ulimit -n/);
  const human = await run([]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /failed +\d+ \(too-many-open-files \d+\)/);
  assert.match(human.stdout, /too-many-open-files: this machine's open-file limit was reached \(EMFILE\)/);
  assert.doesNotMatch(human.stdout, /\bother\b/);
});

test('load mode opens no more connections than events', async (t) => {
  const receiver = await startReceiver(t);
  const result = await runCli(['send', 'MessageSent', '--url', receiver.url, '--count', '3', '--concurrency', '100000']);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /^Load: 3 events to .* over 3 connections$/m);
  assert.equal(receiver.requests.length, 3);
});
