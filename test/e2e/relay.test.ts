import assert from 'node:assert/strict';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { composeBody } from '../../src/events/compose.js';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { sign } from '../../src/signing/index.js';
import { TunnelAuthError } from '../../src/tunnel/client.js';
import { tempDir } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { createTestChannel, forwardTo, openTestTunnel, post, startRelayProcess } from '../helpers/relay.js';

const SECRET = 'relay-test-secret';

const tunnelFor = openTestTunnel;

test('healthz, unknown channel 404, other paths 404', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  const health = await request(`${relay.url}/healthz`);
  assert.equal(health.statusCode, 200);
  assert.deepEqual(await health.body.json(), { ok: true });
  assert.equal((await post(`${relay.url}/c/AAAAAAAAAAAAAAAAAAAAAAAA`, '{}')).status, 404);
  assert.equal((await post(`${relay.url}/c/..%2F..%2Fetc`, '{}')).status, 404);
  assert.equal((await post(`${relay.url}/nope`, '{}')).status, 404);
});

test('files are private: data dirs 0700, channel files 0600', async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const relay = await startRelayProcess(t, dataDir);
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, '{"event":"MessageSent"}')).status, 202);
  assert.equal((await stat(dataDir)).mode & 0o777, 0o700);
  const channelDir = path.join(dataDir, 'channels', channel.id);
  assert.equal((await stat(channelDir)).mode & 0o777, 0o700);
  assert.equal((await stat(path.join(channelDir, 'channel.json'))).mode & 0o777, 0o600);
  assert.equal((await stat(path.join(channelDir, '0000000000000001.jsonl'))).mode & 0o777, 0o600);
});

test('the nine events reach the app with valid signatures, and the sender gets the app status', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  const app = await startReceiver(t, { secret: SECRET });
  const channel = await createTestChannel(relay.url);
  const { tunnel } = tunnelFor(t, relay.url, channel, { handler: forwardTo(app.url) });
  await tunnel.ready;
  for (const name of EVENT_NAMES) {
    const body = composeBody(name, { seed: 7 }).body;
    const answer = await post(`${channel.url}/webhooks/frontengine`, body, { 'x-webhook-signature': sign(body, SECRET) });
    assert.equal(answer.status, 200, answer.text);
    assert.match(answer.text, /"received"/);
  }
  const received = await app.waitFor(EVENT_NAMES.length);
  assert.deepEqual(received.map((r) => JSON.parse(r.body.toString()).event), EVENT_NAMES);
  assert.ok(received.every((r) => r.signatureValid && r.url === '/webhooks/frontengine'));
});

test('byte fidelity: pretty JSON, escapes, invalid UTF-8 and an empty body arrive exactly', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  const app = await startReceiver(t, { secret: SECRET });
  const channel = await createTestChannel(relay.url);
  const { tunnel } = tunnelFor(t, relay.url, channel, { handler: forwardTo(app.url) });
  await tunnel.ready;
  const bodies = [
    Buffer.from('{\n  "event" : "MessageSent",\n\t"payload": {"s": "caf\\u00e9 \\"q\\" \\/ ✓ 😀", "n": 1.0e2}\n}\n'),
    Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x80, 0x7d]),
    Buffer.alloc(0),
  ];
  for (const body of bodies) {
    const answer = await post(`${channel.url}?x=1&y=%20`, body, { 'x-webhook-signature': sign(body, SECRET), 'x-custom': 'a  b' });
    assert.equal(answer.status, 200);
  }
  const received = await app.waitFor(bodies.length);
  received.forEach((r, i) => {
    assert.ok(r.body.equals(bodies[i] as Buffer), `body ${i} differs`);
    assert.ok(r.signatureValid);
    assert.equal(r.url, '/?x=1&y=%20');
    assert.equal(r.headers['x-custom'], 'a  b');
  });
});

test('events posted while no listener is connected get 202 and are delivered in order when it connects', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  for (let i = 1; i <= 5; i++) {
    const answer = await post(channel.url, JSON.stringify({ event: 'MessageSent', n: i }));
    assert.equal(answer.status, 202);
    assert.equal(answer.headers['x-fe-webhooks-seq'], String(i));
  }
  const { tunnel } = tunnelFor(t, relay.url, channel, { handler: forwardTo(app.url) });
  await tunnel.ready;
  const received = await app.waitFor(5);
  assert.deepEqual(received.map((r) => JSON.parse(r.body.toString()).n), [1, 2, 3, 4, 5]);
});

test('a wrong token gets no event and a typed refusal, without retrying', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, '{"event":"MessageSent"}')).status, 202);
  let calls = 0;
  const { tunnel, statuses } = tunnelFor(t, relay.url, { id: channel.id, token: `${channel.token.slice(0, -2)}xx` }, {
    handler: async () => {
      calls++;
      return { status: 200, headers: [], body: Buffer.alloc(0) };
    },
  });
  await assert.rejects(tunnel.ready, TunnelAuthError);
  await assert.rejects(tunnel.done, /refused channel/);
  assert.equal(calls, 0);
  assert.equal(statuses.filter((s) => s.state === 'connecting').length, 1, 'no retry after a refusal');
});

test('limits: 413 over --max-body (declared and chunked), 429 when one channel floods', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'), ['--max-body', '1KiB', '--rate-limit', '2']);
  const channel = await createTestChannel(relay.url);
  const other = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, Buffer.alloc(1025, 0x61))).status, 413);
  const chunked = await request(channel.url, {
    method: 'POST',
    // No Content-Length: the limit must hold while the body streams in.
    body: Readable.from((function* () {
      for (let i = 0; i < 4; i++) yield Buffer.alloc(512, 0x62);
    })()),
  });
  assert.equal(chunked.statusCode, 413);
  await chunked.body.dump();
  const statuses: number[] = [];
  // Burst is 5 s × 2/s = 10 (two already taken by the 413s): 15 quick posts must meet 429.
  for (let i = 0; i < 15; i++) statuses.push((await post(channel.url, '{}')).status);
  assert.ok(statuses.includes(429), statuses.join(','));
  assert.ok(statuses.includes(202));
  const limited = await post(channel.url, '{}');
  assert.equal(limited.status, 429);
  assert.ok(Number(limited.headers['retry-after']) >= 1);
  assert.equal((await post(other.url, '{}')).status, 202, 'another channel is not slowed down');
});
