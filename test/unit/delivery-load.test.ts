import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { createHttp1Pool } from '../../src/delivery/http1/pool.js';
import { runLoad } from '../../src/delivery/load.js';
import { signedHeaderLists, signedHeaders } from '../../src/delivery/request.js';
import { sign, signer } from '../../src/signing/index.js';
import { deadPort } from '../helpers/ports.js';
import { startHangingReceiver, startReceiver } from '../helpers/receiver.js';

const POOL_OPTIONS = { insecure: false };

test('runLoad: one request at a time per connection, never more connections than asked', async (t) => {
  const inFlight = new Map<Socket, number>();
  let maxPerSocket = 0;
  const receiver = await startReceiver(t, {
    respond: async (_request, _index, res) => {
      const socket = res.socket as Socket;
      inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
      maxPerSocket = Math.max(maxPerSocket, inFlight.get(socket) ?? 0);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight.set(socket, (inFlight.get(socket) ?? 1) - 1);
      return 200;
    },
  });
  const url = new URL(`${receiver.url}/load`);
  const pool = createHttp1Pool(url, 4, POOL_OPTIONS);
  t.after(() => pool.close());
  const headersFor = signedHeaderLists({ userAgent: 'test', secret: 's' });
  const summary = await runLoad({
    url,
    count: 200,
    concurrency: 4,
    timeoutMs: 2_000,
    pool,
    makeRequest: (index) => {
      const body = Buffer.from(`{"n":${index}}`);
      return { body, headers: headersFor(body) };
    },
  });
  assert.equal(summary.sent, 200);
  assert.equal(summary.ok, 200);
  assert.equal(maxPerSocket, 1, 'no pipelining');
  assert.ok(inFlight.size <= 4, `${inFlight.size} connections`);
  assert.equal(new Set(receiver.requests.map((r) => r.body.toString())).size, 200);
  assert.ok(receiver.requests.every((r) => r.headers['x-webhook-signature'] === sign(r.body, 's')));
});

test('runLoad counts timeouts (answered late or never) and keeps going on the other connections', async (t) => {
  // Every fourth request hangs until the test ends.
  const receiver = await startHangingReceiver(t, (index) => index % 4 === 3);
  const url = new URL(receiver.url);
  const pool = createHttp1Pool(url, 3, POOL_OPTIONS);
  t.after(() => pool.close());
  const timeoutMs = 200;
  const started = Date.now();
  const outcomes: Array<{ ok: boolean; kind?: string; latencyMs: number }> = [];
  const summary = await runLoad({
    url,
    count: 12,
    concurrency: 3,
    timeoutMs,
    pool,
    makeRequest: (index) => ({ body: `{"n":${index}}`, headers: {} }),
    onDelivery: (_index, outcome) => outcomes.push({ ok: outcome.ok, kind: outcome.error?.kind, latencyMs: outcome.latencyMs }),
  });
  assert.equal(summary.sent, 12);
  assert.equal(summary.failed, 3);
  assert.deepEqual(summary.failures, { timeout: 3 });
  assert.equal(summary.over5s, 0, 'late by the 200 ms timeout, not by the 5 s rule');
  const timedOut = outcomes.filter((o) => o.kind === 'timeout');
  assert.equal(timedOut.length, 3);
  // The shared sweep runs every timeout/20 ms: a timeout is reported at its deadline, not long after.
  assert.ok(timedOut.every((o) => o.latencyMs >= timeoutMs && o.latencyMs < timeoutMs + 1_000), JSON.stringify(timedOut));
  assert.ok(Date.now() - started < 5_000);
});

test('runLoad reports refused connections and a closed pool as failures, without recursing', async (t) => {
  const url = new URL(`http://127.0.0.1:${await deadPort()}/`);
  const pool = createHttp1Pool(url, 2, POOL_OPTIONS);
  t.after(() => pool.close());
  const refused = await runLoad({ url, count: 6, concurrency: 2, timeoutMs: 2_000, pool, makeRequest: () => ({ body: '{}', headers: {} }) });
  assert.deepEqual(refused.failures, { refused: 6 });
  assert.equal(refused.ok, 0);

  // A closed pool throws at dispatch: every request fails at once, the next started from the failure.
  const closed = createHttp1Pool(url, 2, POOL_OPTIONS);
  await closed.close();
  const summary = await runLoad({ url, count: 20_000, concurrency: 2, timeoutMs: 2_000, pool: closed, makeRequest: () => ({ body: '{}', headers: {} }) });
  assert.equal(summary.sent, 20_000);
  assert.deepEqual(summary.failures, { other: 20_000 });
});

test('runLoad stops at once when its signal is aborted: nothing new starts, a request in flight counts as interrupted', async (t) => {
  const receiver = await startReceiver(t);
  const url = new URL(receiver.url);
  const pool = createHttp1Pool(url, 2, POOL_OPTIONS);
  t.after(() => pool.close());
  const stop = new AbortController();
  const summary = await runLoad({
    url,
    count: 1_000,
    concurrency: 2,
    timeoutMs: 2_000,
    pool,
    signal: stop.signal,
    makeRequest: () => ({ body: '{}', headers: {} }),
    onDelivery: (index) => (index === 9 ? stop.abort() : undefined),
  });
  assert.ok(summary.sent >= 10 && summary.sent <= 12, `sent ${summary.sent}`);
  assert.ok(summary.ok >= 10, `ok ${summary.ok}`);
  assert.deepEqual(summary.failures, summary.ok === summary.sent ? {} : { interrupted: summary.sent - summary.ok });
});

test('signedHeaderLists: the same headers as signedHeaders, as a flat list; a user signature wins', () => {
  const body = Buffer.from('{"event":"MessageSent","ü":1}');
  const options = { userAgent: 'fe-webhooks/9', secret: 'whsec_ü', extraHeaders: [['X-Tenant', 'acme'] as const] };
  const asObject = (list: string[]): Record<string, string> => Object.fromEntries(Array.from({ length: list.length / 2 }, (_, i) => [list[2 * i], list[2 * i + 1]]));
  assert.deepEqual(asObject(signedHeaderLists(options)(body)), signedHeaders(body, options));
  assert.equal(signer('whsec_ü')(body), sign(body, 'whsec_ü'));
  const forged = signedHeaderLists({ ...options, extraHeaders: [['x-webhook-signature', 'sha256=00']] })(body);
  assert.deepEqual(asObject(forged), { 'Content-Type': 'application/json', 'User-Agent': 'fe-webhooks/9', 'x-webhook-signature': 'sha256=00' });
  assert.equal(asObject(signedHeaderLists({ userAgent: 'x' })(body))['X-Webhook-Signature'], undefined);
});
