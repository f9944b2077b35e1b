import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { verify } from '../../src/signing/index.js';
import { expectUsageErrors, runCli } from '../helpers/cli.js';
import { deadPort } from '../helpers/ports.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'endpoint-secret';

test('check passes a correct endpoint: every case on its own line, then the closing line', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['check', `${receiver.url}/webhooks`, '--secret', SECRET]);
  assert.equal(result.code, 0, result.stdout + result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 15);
  assert.ok(lines.slice(0, 14).every((line) => line.startsWith('✓ ')), result.stdout);
  assert.match(result.stdout, /✓ accepts MessageSent +200/);
  assert.match(result.stdout, /✓ rejects a forgery: tampered body +401/);
  assert.match(result.stdout, /✓ accepts the same delivery twice +200/);
  assert.equal(lines.at(-1), '14 passed, 0 failed');
  // Nine events, three forgeries, two identical deliveries, one unknown event.
  assert.equal(receiver.requests.length, 15);
  const twice = receiver.requests.slice(12, 14);
  assert.ok(twice[0]!.body.equals(twice[1]!.body));
  assert.equal(twice[0]!.headers['x-webhook-signature'], twice[1]!.headers['x-webhook-signature']);
  assert.ok(verify(receiver.requests[0]!.body, receiver.requests[0]!.headers['x-webhook-signature'], SECRET));
});

test('check fails a careless endpoint that accepts forged requests, naming each case', async (t) => {
  const careless = await startReceiver(t); // no secret: answers 200 to anything
  const result = await runCli(['check', careless.url, '--secret', SECRET]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /✗ rejects a forgery: wrong secret +200 .*expected 4xx: ACCEPTED a forged request/);
  assert.match(result.stdout, /✗ rejects a forgery: tampered body +200/);
  assert.match(result.stdout, /✗ rejects a forgery: missing signature header +200/);
  assert.match(result.stdout, /11 passed, 3 failed\n$/);
});

test('check: a redelivery refused, a 5xx on an unknown event, and the JSON and JUnit reports', needs('python3'), async (t) => {
  const seen = new Set<string>();
  const strict = await startReceiver(t, {
    respond: (request) => {
      if (!verify(request.body, request.headers['x-webhook-signature'], SECRET)) return 401;
      const event = (JSON.parse(request.body.toString('utf8')) as { event: string }).event;
      if (event === 'MessageLoaded') return 500;
      const key = request.body.toString('base64');
      if (seen.has(key)) return 409;
      seen.add(key);
      return 200;
    },
  });
  const json = await runCli(['check', strict.url, '--secret', SECRET, '--json']);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { cases: Array<{ name: string; ok: boolean; reason?: string }>; summary: { passed: number; failed: number } };
  assert.deepEqual(report.summary, { passed: 12, failed: 2 });
  const failed = report.cases.filter((c) => !c.ok);
  assert.deepEqual(failed.map((c) => [c.name, c.reason]), [
    ['accepts the same delivery twice', 'second delivery answered 409'],
    ['an unknown event type gets no 5xx', 'answered 500'],
  ]);

  const junit = await runCli(['check', strict.url, '--secret', SECRET, '--reporter', 'junit']);
  assert.equal(junit.code, 1);
  const parsed = spawnSync('python3', ['-c', `
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
cases = list(root.iter('testcase'))
print(root.get('tests'), root.get('failures'), len(cases), sum(1 for c in cases if c.find('failure') is not None))`], { input: junit.stdout, encoding: 'utf8' });
  assert.equal(parsed.status, 0, parsed.stderr);
  assert.equal(parsed.stdout.trim(), '14 2 14 2');

  const wrongSecret = await runCli(['check', strict.url, '--secret', 'not-the-one']);
  assert.equal(wrongSecret.code, 1);
  assert.match(wrongSecret.stderr, /hint: every genuine request was refused: does the endpoint use the same secret/);
  const badUrl = await runCli(['check', 'http://example.com/hooks', '--secret', SECRET]);
  assert.equal(badUrl.code, 2);
  assert.match(badUrl.stderr, /Refusing plain http/);
});

test('check against a refused endpoint: one line saying so, exit 1, no case run (text, JSON and JUnit)', async () => {
  const url = `http://127.0.0.1:${await deadPort()}/webhooks`;
  const text = await runCli(['check', url, '--secret', SECRET]);
  assert.equal(text.code, 1);
  assert.equal(text.stdout, '', 'not 14 identical failures');
  const errors = text.stderr.split('\n').filter((line) => line.startsWith('error:'));
  assert.deepEqual(errors, [`error: Cannot reach ${url}: connection refused by ${new URL(url).host}. No case was run`]);
  const json = await runCli(['check', url, '--json']);
  assert.equal(json.code, 1);
  const report = JSON.parse(json.stdout) as { unreachable: string; cases: unknown[] };
  assert.match(report.unreachable, /connection refused/);
  assert.deepEqual(report.cases, []);
  const junit = await runCli(['check', url, '--reporter', 'junit']);
  assert.equal(junit.code, 1);
  assert.match(junit.stdout, /tests="1" failures="1"/);
  assert.match(junit.stdout, /<testcase classname="fe-webhooks.check" name="the endpoint can be reached"[^]*connection refused/);
});

test('check --timeout bounds each wait, and --only runs the chosen cases', async (t) => {
  const hanging = await startHangingReceiver(t);
  const started = Date.now();
  const result = await runCli(['check', hanging.url, '--secret', SECRET, '--timeout', '300ms', '--only', 'forgery', 'messagesent', 'redelivery']);
  assert.equal(result.code, 1);
  assert.deepEqual(
    result.stdout.trimEnd().split('\n').map((line) => line.replace(/\s{2,}.*/, '')),
    ['✗ accepts MessageSent', '✗ rejects a forgery: wrong secret', '✗ rejects a forgery: tampered body', '✗ rejects a forgery: missing signature header', '✗ accepts the same delivery twice', '0 passed, 5 failed'],
  );
  assert.match(result.stdout, /expected 2xx within 0.3 s: timed out after 300 ms/);
  assert.ok(Date.now() - started < 15_000, 'five cases of 0.3 s, not 5 s each');
  assert.equal(hanging.requests.length, 5);

  const fine = await startReceiver(t, { secret: SECRET });
  const one = await runCli(['check', fine.url, '--secret', SECRET, '--only', 'forgery:tampered-body', '--json']);
  assert.equal(one.code, 0, one.stderr);
  const report = JSON.parse(one.stdout) as { cases: Array<{ id: string; ok: boolean }> };
  assert.deepEqual(report.cases.map((c) => [c.id, c.ok]), [['forgery:tampered-body', true]]);

  await expectUsageErrors([
    [['check', fine.url, '--only', 'forgerz'], /^error: Unknown check case "forgerz". Did you mean forgery\?/],
    [['check', fine.url, '--timeout', 'soon'], /--timeout/],
  ]);
  assert.equal(fine.requests.length, 1, 'a usage error sends nothing');
});

test('check: a 2xx later than 5 s fails even when --timeout waits longer', async (t) => {
  const slow = await startReceiver(t, {
    secret: SECRET,
    respond: async () => {
      await new Promise((resolve) => setTimeout(resolve, 5_300));
      return 200;
    },
  });
  const result = await runCli(['check', slow.url, '--secret', SECRET, '--timeout', '8s', '--only', 'accept:MessageHeld'], { timeoutMs: 30_000 });
  assert.equal(result.code, 1);
  assert.match(result.stdout, /✗ accepts MessageHeld +200 .*expected 2xx within 5 s: answered 200 after 5\.\d s, too late for FrontEngine's 5 s/);
});
