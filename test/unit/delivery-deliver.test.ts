import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Agent } from 'undici';
import { deliver } from '../../src/delivery/deliver.js';
import { deadPort } from '../helpers/ports.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';
import { startHttpsReceiver } from '../helpers/tls.js';

const TIMEOUT_MS = 2_000;

test('deliver sends the exact bytes and headers and reports a 2xx as ok', async (t) => {
  const receiver = await startReceiver(t);
  const body = Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0xa9, 0x22, 0x7d, 0x0a, 0x20]); // {"a":"é"}\n + space
  const outcome = await deliver({
    url: new URL(`${receiver.url}/hooks?x=1`),
    body,
    headers: { 'content-type': 'application/json', 'x-multi': ['a', 'b'] },
    timeoutMs: TIMEOUT_MS,
  });
  assert.equal(outcome.ok, true);
  assert.equal(outcome.status, 200);
  assert.equal(outcome.error, undefined);
  assert.ok(outcome.latencyMs > 0 && outcome.latencyMs < TIMEOUT_MS);
  const [received] = await receiver.waitFor(1);
  assert.ok(received);
  assert.deepEqual(received.body, body);
  assert.equal(received.method, 'POST');
  assert.equal(received.url, '/hooks?x=1');
  assert.equal(received.headers['content-type'], 'application/json');
  assert.equal(received.headers['content-length'], String(body.length));
  assert.equal(received.headers['x-multi'], 'a, b');
});

test('deliver reports a non-2xx with the first bytes of the answer and does not follow redirects', async (t) => {
  const receiver = await startReceiver(t, {
    respond: (request, _index, res) => {
      if (request.url === '/moved') {
        res.writeHead(302, { location: '/elsewhere' }).end();
        return;
      }
      res.writeHead(500).end(`database is down ${'x'.repeat(2000)}`);
    },
  });
  const failed = await deliver({ url: new URL(`${receiver.url}/`), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS });
  assert.equal(failed.ok, false);
  assert.equal(failed.status, 500);
  assert.equal(failed.error, undefined);
  assert.match(failed.responseSnippet ?? '', /^database is down x+$/);
  assert.equal(failed.responseSnippet?.length, 512);
  const moved = await deliver({ url: new URL(`${receiver.url}/moved`), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS });
  assert.equal(moved.status, 302);
  assert.equal(moved.ok, false);
  assert.equal(receiver.requests.length, 2, 'the redirect was not followed');
});

test('deliver turns network failures into outcomes: refused, timeout, reset, TLS, abort', async (t) => {
  const refused = await deliver({ url: new URL(`http://127.0.0.1:${await deadPort()}/`), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS });
  assert.equal(refused.ok, false);
  assert.equal(refused.status, undefined);
  assert.equal(refused.error?.kind, 'refused');
  assert.match(refused.error?.message ?? '', /connection refused/);

  // The slow server answers once the test says so; the delivery has given up long before.
  const slow = await startHangingReceiver(t);
  const timedOut = await deliver({ url: new URL(slow.url), body: '{}', headers: {}, timeoutMs: 200 });
  assert.equal(timedOut.ok, false);
  assert.equal(timedOut.error?.kind, 'timeout');
  assert.ok(timedOut.latencyMs >= 190 && timedOut.latencyMs < 1_500, `latency ${timedOut.latencyMs}`);

  const resetting = await startReceiver(t, { respond: (_r, _i, res) => { res.socket?.destroy(); } });
  const reset = await deliver({ url: new URL(resetting.url), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS });
  assert.equal(reset.ok, false);
  assert.equal(reset.error?.kind, 'reset');

  const https = await startHttpsReceiver(t);
  const untrusted = await deliver({ url: new URL(https.url), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS });
  assert.equal(untrusted.error?.kind, 'tls');
  assert.match(untrusted.error?.message ?? '', /self[- ]signed/i);
  assert.equal(https.bodies.length, 0);
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  t.after(() => insecure.destroy());
  const accepted = await deliver({ url: new URL(https.url), body: '{"x":1}', headers: {}, timeoutMs: TIMEOUT_MS, dispatcher: insecure });
  assert.equal(accepted.ok, true);
  assert.equal(https.bodies[0]?.toString(), '{"x":1}');

  const controller = new AbortController();
  const pending = deliver({ url: new URL(slow.url), body: '{}', headers: {}, timeoutMs: TIMEOUT_MS, signal: controller.signal });
  await slow.waitFor(2);
  controller.abort();
  const aborted = await pending;
  assert.equal(aborted.ok, false);
  assert.equal(aborted.error?.message, 'aborted');
});
