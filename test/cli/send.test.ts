import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { validateEvent } from '../../src/events/validate.js';
import { sign } from '../../src/signing/index.js';
import { packageVersion } from '../../src/cli/version.js';
import { cleanEnv, expectUsageErrors, runCli, tempDir } from '../helpers/cli.js';
import { deadPort } from '../helpers/ports.js';
import { pythonVerify } from '../helpers/python.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';
import { startHttpsReceiver } from '../helpers/tls.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'whsec_send_test_Ünïcode';

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

test('send --all: every request is signed as the page verifies it, with our headers; --json reports each', needs('python3'), async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['send', '--all', '--url', `${receiver.url}/webhooks/email`, '--secret', SECRET, '--json', '--header', 'X-Tenant: acme']);
  assert.equal(result.code, 0, result.stderr);
  const lines = jsonLines(result.stdout);
  assert.equal(lines.length, EVENT_NAMES.length + 1);
  assert.deepEqual(lines.slice(0, -1).map((l) => l.event), EVENT_NAMES);
  for (const line of lines.slice(0, -1)) {
    assert.equal(line.status, 200);
    assert.equal(line.ok, true);
    assert.equal(line.attempt, 1);
    assert.equal(typeof line.latencyMs, 'number');
  }
  assert.deepEqual({ ...lines.at(-1), durationMs: 0 }, { sent: 9, ok: 9, failed: 0, attempts: 9, durationMs: 0 });
  assert.equal(receiver.requests.length, EVENT_NAMES.length);
  for (const request of receiver.requests) {
    assert.equal(request.signatureValid, true);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/webhooks/email');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['user-agent'], `fe-webhooks/${packageVersion()}`);
    assert.equal(request.headers['x-tenant'], 'acme');
    assert.deepEqual(validateEvent(JSON.parse(request.body.toString())).violations, []);
  }
  const verdicts = pythonVerify(receiver.requests.map((r) => [r.body, String(r.headers['x-webhook-signature']), SECRET]));
  assert.deepEqual(verdicts, receiver.requests.map(() => true));
  assert.doesNotMatch(result.stdout + result.stderr, /whsec_send_test/, 'the secret is never printed');
});

test('send --body sends the bytes verbatim; --repeat sends the same bytes and signature N times', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t, { secret: SECRET });
  // Pretty JSON, a non-ASCII subject, CRLF and a trailing newline: all must survive untouched.
  const bytes = Buffer.from('{\r\n  "event": "MessageSent",\r\n  "payload": {"message": {"subject": "Grüße ✓"}}\r\n}\n');
  await writeFile(path.join(dir, 'raw.json'), bytes);
  const result = await runCli(['send', '--body', 'raw.json', '--url', receiver.url, '--secret', SECRET, '--repeat', '3'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(receiver.requests.length, 3);
  for (const request of receiver.requests) {
    assert.deepEqual(request.body, bytes);
    assert.equal(request.headers['x-webhook-signature'], sign(bytes, SECRET));
  }
  const lines = result.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0] ?? '', /^#1 {2}MessageSent +200 +\d+ ms$/);
  assert.match(lines[3] ?? '', /^3 of 3 delivered/);
});

test('send --retry follows the scaled schedule against a failing-then-succeeding server', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET, respond: (_r, index) => (index < 2 ? 503 : 200) });
  const result = await runCli(['send', 'MessageHeld', '--url', receiver.url, '--secret', SECRET, '--retry', '--time-scale', '0.001', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const lines = jsonLines(result.stdout);
  assert.deepEqual(lines.slice(0, 3).map((l) => [l.attempt, l.status, l.ok]), [[1, 503, false], [2, 503, false], [3, 200, true]]);
  assert.deepEqual(lines[3], { ...lines[3], sent: 1, ok: 1, failed: 0, attempts: 3 });
  const [first, second, third] = receiver.requests;
  assert.ok(first && second && third && receiver.requests.length === 3);
  assert.deepEqual(second.body, first.body, 'a retry repeats the exact bytes');
  assert.deepEqual(third.body, first.body);
  assert.equal(third.headers['x-webhook-signature'], first.headers['x-webhook-signature']);
  // 1 min and 5 min at 0.001: 60 ms then 300 ms (plus the round trip; generous upper bounds for a busy machine).
  const gap1 = second.receivedAt - first.receivedAt;
  const gap2 = third.receivedAt - second.receivedAt;
  assert.ok(gap1 >= 55 && gap1 < 1_000, `first wait ${gap1} ms`);
  assert.ok(gap2 >= 290 && gap2 < 1_500, `second wait ${gap2} ms`);
  assert.match(result.stderr, /retry 1 of 5 in 60 ms \(FrontEngine: 1 min\)/);
});

test('send reports a slow endpoint as a timeout, a dead port as refused, a 500 with its body: exit 1', async (t) => {
  const slow = await startHangingReceiver(t);
  const timedOut = await runCli(['send', 'MessageSent', '--url', slow.url, '--timeout', '300ms', '--json']);
  assert.equal(timedOut.code, 1, timedOut.stderr);
  const [line] = jsonLines(timedOut.stdout);
  assert.equal(line?.ok, false);
  assert.equal(line?.status, null);
  assert.deepEqual(line?.error, { kind: 'timeout', message: 'timed out after 300 ms' });
  assert.ok(Number(line?.latencyMs) >= 295 && Number(line?.latencyMs) < 2_000);
  assert.match(timedOut.stderr, /^error: 1 of 1 delivery failed/m);

  const refused = await runCli(['send', 'MessageSent', '--url', `127.0.0.1:${await deadPort()}`]);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /^MessageSent +--- +\d+ ms {2}connection refused by 127\.0\.0\.1:\d+$/m);
  const coloured = await runCli(['send', 'MessageSent', '--url', `127.0.0.1:${await deadPort()}`], { env: cleanEnv({ FORCE_COLOR: '1' }) });
  assert.match(coloured.stdout, /\x1b\[31m---\x1b\[39m/, 'a failed status is red on a colour terminal');
  assert.doesNotMatch(refused.stderr, /\n\s+at /);

  const failing = await startReceiver(t, { respond: (_r, _i, res) => { res.writeHead(500).end('Traceback: KeyError \'payload\''); } });
  const failed = await runCli(['send', 'MessageSent', '--url', failing.url]);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^MessageSent +500 +\d+ ms {2}Traceback: KeyError 'payload'$/m);
});

test('send with no URL aims at the local listen port, or the config url', async (t) => {
  const dir = await tempDir(t);
  // Only meaningful while nothing else on this machine holds the default port.
  const probe = createNetServer();
  const free = await new Promise<boolean>((resolve) => {
    probe.once('error', () => resolve(false));
    probe.listen(7878, '127.0.0.1', () => resolve(true));
  });
  if (free) await new Promise<void>((resolve) => probe.close(() => resolve()));
  if (free) {
    const result = await runCli(['send', 'MessageBounced'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /Nothing is listening at http:\/\/127\.0\.0\.1:7878\/.*fe-webhooks listen.*--url/);
  } else {
    t.diagnostic('port 7878 is busy: the default-URL hint was not checked');
  }
  const receiver = await startReceiver(t);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ url: `${receiver.url}/from-config`, secret: SECRET }));
  const configured = await runCli(['send', 'bounced'], { cwd: dir });
  assert.equal(configured.code, 0, configured.stderr);
  assert.equal(receiver.requests[0]?.url, '/from-config');
  assert.equal(receiver.requests[0]?.headers['x-webhook-signature'], sign(receiver.requests[0]?.body ?? '', SECRET));
});

test('send --bad-signature passes against a verifying endpoint and names what a careless one accepted', async (t) => {
  const careful = await startReceiver(t, { secret: SECRET });
  const passed = await runCli(['send', 'MessageSent', 'DomainDNSError', '--url', careful.url, '--secret', SECRET]);
  assert.equal(passed.code, 0, passed.stderr);
  const drill = await runCli(['send', 'MessageSent', 'DomainDNSError', '--url', careful.url, '--secret', SECRET, '--bad-signature']);
  assert.equal(drill.code, 0, drill.stderr);
  assert.match(drill.stdout, /All 6 forged requests were rejected with 4xx/);
  const forged = careful.requests.slice(2);
  assert.equal(forged.length, 6);
  assert.ok(forged.every((r) => !r.signatureValid));
  assert.equal(forged.filter((r) => r.headers['x-webhook-signature'] === undefined).length, 2);

  // Checks that a signature is present, but not that it matches.
  const careless = await startReceiver(t, { respond: (request) => (request.headers['x-webhook-signature'] ? 200 : 401) });
  const failed = await runCli(['send', 'MessageSent', '--url', careless.url, '--secret', SECRET, '--bad-signature', '--json']);
  assert.equal(failed.code, 1);
  const lines = jsonLines(failed.stdout);
  assert.deepEqual(lines.slice(0, 3).map((l) => [l.case, l.status, l.rejected]), [
    ['wrong-secret', 200, false],
    ['tampered-body', 200, false],
    ['missing-signature', 401, true],
  ]);
  assert.match(failed.stderr, /did not reject every forged signature: MessageSent wrong secret \(ACCEPTED a forged request\); MessageSent tampered body/);
  assert.doesNotMatch(failed.stderr, /missing signature header \(/);
});

test('send load mode: N unique signed events over C connections, summary with percentiles', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['send', 'MessageSent', 'SendLimitExceeded', '--url', receiver.url, '--secret', SECRET, '--count', '300', '--concurrency', '8', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const summary = JSON.parse(result.stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(summary), ['sent', 'ok', 'failed', 'failures', 'durationMs', 'rps', 'latencyMs', 'over5s']);
  assert.equal(summary.sent, 300);
  assert.equal(summary.ok, 300);
  assert.equal(summary.failed, 0);
  assert.deepEqual(summary.failures, {});
  assert.equal(summary.over5s, 0);
  assert.ok(Number(summary.rps) > 0);
  assert.deepEqual(Object.keys(summary.latencyMs as object), ['p50', 'p95', 'p99', 'max']);
  assert.equal(receiver.requests.length, 300);
  assert.ok(receiver.requests.every((r) => r.signatureValid));
  assert.equal(new Set(receiver.requests.map((r) => r.body.toString())).size, 300, 'every event is unique');
  const sent = receiver.requests.filter((r) => JSON.parse(r.body.toString()).event === 'MessageSent');
  assert.equal(sent.length, 150);
  assert.equal(new Set(sent.map((r) => JSON.parse(r.body.toString()).payload.message.message_id)).size, 150, 'fresh message ids');

  const human = await runCli(['send', 'MessageSent', '--url', receiver.url, '--count', '20', '--concurrency', '2']);
  assert.equal(human.code, 1, 'signed with another secret: the receiver answers 401');
  assert.match(human.stdout, /failed +20 \(HTTP 401 20\)/);
  assert.match(human.stdout, /latency +p50 [\d.]+ ms {2}p95/);
  assert.equal(human.stderr.includes('⠋'), false, 'no spinner off a terminal');
});

test('send --dry-run sends nothing and prints a curl command that delivers the same signed request', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['send', 'MessageLinkClicked', '--url', `${receiver.url}/hooks`, '--secret', SECRET, '--dry-run', '--header', "X-Note: it's fine", '--set', 'payload.user_agent=O\'Brien "quoted" $HOME'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.equal(receiver.requests.length, 0);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines[1], `POST ${receiver.url}/hooks`);
  assert.match(result.stdout, /^X-Webhook-Signature: sha256=[0-9a-f]{64}$/m);
  const body = lines[lines.length - 3] ?? '';
  const curl = lines.at(-1) ?? '';
  // A body that is not plain printable ASCII (some samples have umlauts) is piped from printf.
  assert.match(curl, /^(printf '[^']*' \| )?curl -sS -X POST /);
  // Async: the receiver runs in this very process and must keep answering while curl waits.
  await promisify(execFile)('sh', ['-c', curl], { timeout: 10_000 });
  await receiver.waitFor(1);
  const [request] = receiver.requests;
  assert.equal(request?.body.toString(), body);
  assert.equal(request?.signatureValid, true);
  assert.equal(request?.headers['x-note'], "it's fine");
  assert.equal(JSON.parse(body).payload.user_agent, 'O\'Brien "quoted" $HOME');
});

test('send over https: a self-signed certificate is a TLS failure unless --insecure', async (t) => {
  const https = await startHttpsReceiver(t);
  const refused = await runCli(['send', 'MessageSent', '--url', https.url, '--json']);
  assert.equal(refused.code, 1);
  const [line] = jsonLines(refused.stdout);
  assert.equal((line?.error as { kind: string }).kind, 'tls');
  assert.equal(https.bodies.length, 0);
  const accepted = await runCli(['send', 'MessageSent', '--url', https.url, '--insecure']);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.equal(https.bodies.length, 1);
});

test('send bad input: exit 2, one line, nothing sent', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t);
  const url = receiver.url;
  const cases: Array<[string[], RegExp]> = [
    [['send', 'MessageBounce', '--url', url], /Unknown event "MessageBounce"\. Did you mean MessageBounced\?/],
    [['send', '--url', url], /Name at least one event/],
    [['send', 'MessageSent', '--url', 'http://'], /Invalid --url "http:\/\/"/],
    [['send', 'MessageSent', '--url', 'ftp://example.com/x'], /only http and https/],
    [['send', 'MessageSent', '--url', url, '--header', 'NoColon'], /Invalid --header "NoColon"/],
    [['send', '--body', 'missing.json', '--url', url], /Cannot read missing\.json: no such file/],
    [['send', 'MessageSent', '--url', 'http://hooks.example.com/x'], /Refusing plain http to hooks\.example\.com: FrontEngine requires HTTPS/],
    [['send', 'MessageSent', '--url', url, '--count', '5', '--repeat', '2'], /--count cannot be combined with --repeat/],
    [['send', 'MessageSent', '--url', url, '--concurrency', '5'], /--concurrency needs --count/],
    [['send', 'MessageSent', '--url', url, '--time-scale', '0.01'], /--time-scale only applies with --retry/],
    [['send', 'MessageSent', '--url', url, '--retry', '--time-scale', '-1'], /Invalid --time-scale/],
    [['send', 'MessageSent', '--url', url, '--timeout', 'soon'], /Invalid --timeout/],
    [['send', 'MessageSent', '--all', '--url', url], /not both/],
  ];
  await expectUsageErrors(cases, { cwd: dir });
  assert.equal(receiver.requests.length, 0, 'nothing was sent');
});
