import assert from 'node:assert/strict';
import { createServer, type Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { test } from 'node:test';
import { Forwarder } from '../../src/intake/forward.js';

test('forwarder: an app that accepts but never answers gets 504 within the budget; nothing listening gets 502', async (t) => {
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => void sockets.add(socket));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const port = (silent.address() as { port: number }).port;
  const forwarder = new Forwarder({ timeoutMs: 300 });
  t.after(() => forwarder.close());
  const inbound = { method: 'POST', path: '/hooks?x=1', rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from('{}') };
  const started = performance.now();
  const slow = await forwarder.forward(new URL(`http://127.0.0.1:${port}/base`), inbound);
  const elapsed = performance.now() - started;
  assert.equal(slow.answer.status, 504);
  assert.match(slow.result.error ?? '', /timeout/);
  assert.equal(slow.result.target, `http://127.0.0.1:${port}/base/hooks?x=1`);
  assert.ok(elapsed >= 250 && elapsed < 3000, `answered after ${elapsed} ms`);
  silent.close();
  for (const socket of sockets) socket.destroy();
  const down = await forwarder.forward(new URL(`http://127.0.0.1:${port}/base`), inbound);
  assert.equal(down.answer.status, 502);
  assert.match(down.result.error ?? '', /refused|reset/);
  const dots = await forwarder.forward(new URL(`http://127.0.0.1:${port}/base`), { ...inbound, path: '/a/../../etc' });
  assert.equal(dots.answer.status, 400);
});
