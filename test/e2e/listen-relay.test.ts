import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { composeBody } from '../../src/events/compose.js';
import { sign } from '../../src/signing/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { post, startRelayProcess } from '../helpers/relay.js';

const SECRET = 'listen-relay-secret';

interface RelayReady {
  publicUrl: string;
  channel: string;
}

test('listen --relay: a remembered channel, the nine events signed at the app, captures like local listen', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t, { secret: SECRET });
  const args = ['--relay', relay.url, '--forward', `127.0.0.1:${app.port}/hooks`, '--secret', SECRET];
  const listen = await startListenCli(t, args, { cwd: dir });
  const ready = listen.ready as unknown as RelayReady;
  assert.match(ready.publicUrl, new RegExp(`^${relay.url}/c/[A-Za-z0-9_-]{24}$`));
  for (const name of EVENT_NAMES) {
    const body = composeBody(name, { seed: 3 }).body;
    const answer = await post(ready.publicUrl, body, { 'x-webhook-signature': sign(body, SECRET) });
    assert.equal(answer.status, 200, `${name}: ${answer.text}`);
  }
  const received = await app.waitFor(EVENT_NAMES.length);
  assert.ok(received.every((r) => r.signatureValid && r.url === '/hooks'));
  const lines = (await listen.waitForLines(EVENT_NAMES.length)).map((l) => JSON.parse(l) as { event: string; signature: string; source: unknown });
  assert.deepEqual(lines.map((l) => l.event), EVENT_NAMES);
  assert.ok(lines.every((l) => l.signature === 'valid'));
  const stopped = await listen.stop('SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);
  assert.doesNotMatch(stopped.stdout + stopped.stderr, new RegExp(SECRET));

  const captures = (await readFile(path.join(dir, '.fe-webhooks/captures.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { source: unknown });
  assert.deepEqual(captures[0]?.source, { kind: 'relay', channel: ready.channel, seq: 1 });
  const remembered = path.join(dir, '.fe-webhooks/relay.json');
  assert.equal((await stat(remembered)).mode & 0o777, 0o600);

  const again = await startListenCli(t, args, { cwd: dir });
  assert.equal((again.ready as unknown as RelayReady).publicUrl, ready.publicUrl, 'the public URL survives a restart');
  const late = await post(ready.publicUrl, '{"event":"MessageSent"}', { 'x-webhook-signature': sign('{"event":"MessageSent"}', SECRET) });
  assert.ok([200, 202].includes(late.status), `got ${late.status}`);
  await app.waitFor(EVENT_NAMES.length + 1);
  assert.equal(app.requests.length, EVENT_NAMES.length + 1, 'nothing forwarded twice after the restart');
});

test('listen --relay: the app\'s own 502 and 504 are its answer, passed back once and not retried', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const statusFor: Record<number, number> = { 1: 502, 2: 504, 3: 200 };
  const app = await startReceiver(t, {
    respond: (request, _i, res) => {
      const { n } = JSON.parse(request.body.toString()) as { n: number };
      res.writeHead(statusFor[n] ?? 500, { 'content-type': 'text/plain' }).end(`app answers ${statusFor[n]}`);
    },
  });
  const listen = await startListenCli(t, ['--relay', relay.url, '--forward', app.url, '--no-save'], { cwd: dir });
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;
  for (const n of [1, 2, 3]) {
    const answer = await post(publicUrl, JSON.stringify({ n }));
    assert.equal(answer.status, statusFor[n]);
    assert.equal(answer.text, `app answers ${statusFor[n]}`, 'the app\'s own answer, not the relay\'s "kept"');
  }
  // One at a time, in order: #3 reached the app, so #1 and #2 are not being retried.
  assert.deepEqual(app.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n), [1, 2, 3]);
  const stopped = await listen.stop('SIGINT');
  assert.doesNotMatch(stopped.stderr, /app down/);
});

test('listen --relay: an app that cannot be reached keeps the event, retried until the app is back', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const gone = await startReceiver(t);
  await gone.close();
  const listen = await startListenCli(t, ['--relay', relay.url, '--forward', gone.url, '--no-save'], { cwd: dir });
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;
  const first = await post(publicUrl, JSON.stringify({ n: 1 }));
  assert.equal(first.status, 502);
  assert.match(first.text, /could not reach .*refused/, 'listen\'s own answer');
  // Each attempt is a line on stdout: a second one is a retry.
  const attempts = (await listen.waitForLines(2)).map((line) => JSON.parse(line) as { forward?: { error?: string } });
  assert.ok(attempts.every((a) => /^refused/.test(a.forward?.error ?? '')));
  const app = await startReceiver(t, { port: gone.port });
  await app.waitFor(1);
  assert.equal((await post(publicUrl, JSON.stringify({ n: 2 }))).status, 200);
  assert.deepEqual(app.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n), [1, 2], 'kept, then delivered once, in order');
  const stopped = await listen.stop('SIGINT');
  assert.match(stopped.stderr, /relay: #1 got 502 \(app down\?\); kept, retrying/);
});

test('listen --relay with a wrong token exits 2 saying so, and the app gets nothing', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t);
  const created = await post(`${relay.url}/channels`, '');
  const channel = JSON.parse(created.text) as { id: string; url: string };
  assert.equal((await post(channel.url, '{"event":"MessageSent"}')).status, 202);
  const result = await runCli(
    ['listen', '--port', '0', '--no-save', '--relay', relay.url, '--channel', channel.id, '--token', 'not-the-right-token-at-all', '--forward', app.url],
    { cwd: dir, timeoutMs: 15_000 },
  );
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /error: The relay at .* refused channel .*wrong token/);
  assert.equal(app.requests.length, 0);
});

test('a SIGKILLed listen --relay, restarted, delivers everything the relay stored', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t);
  const args = ['--relay', relay.url, '--forward', app.url, '--no-save'];
  const first = await startListenCli(t, args, { cwd: dir });
  const publicUrl = (first.ready as unknown as RelayReady).publicUrl;
  for (let n = 1; n <= 10; n++) assert.equal((await post(publicUrl, JSON.stringify({ n }))).status, 200);
  await first.stop('SIGKILL');
  for (let n = 11; n <= 20; n++) assert.equal((await post(publicUrl, JSON.stringify({ n }))).status, 202);
  await startListenCli(t, args, { cwd: dir });
  await app.waitFor(20);
  const numbers = app.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n);
  assert.deepEqual(numbers, Array.from({ length: 20 }, (_, i) => i + 1), 'in order, none lost, none twice');
});
