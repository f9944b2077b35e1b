import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { Http1Connection, type ExchangeHandler } from '../../src/delivery/http1/connection.js';
import { createHttp1Pool } from '../../src/delivery/http1/pool.js';
import { RequestWriter } from '../../src/delivery/http1/request-writer.js';
import { runLoad } from '../../src/delivery/load.js';
import { startRawServer } from '../helpers/raw-http.js';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** One request on `connection`, as a promise of its status (or its error). */
function exchange(connection: Http1Connection, writer: RequestWriter, body: string): Promise<number | Error> {
  return new Promise((resolve) => {
    const handler: ExchangeHandler = { onResponse: resolve, onFailure: resolve };
    connection.send(writer.serialize({ body, headers: ['Content-Type', 'application/json'] }), handler);
  });
}

test('a reused connection closed before answering (the keep-alive race) is resent once on a fresh one; a fresh one is not', async (t) => {
  // Each socket answers its first request and drops its second unanswered.
  const perSocket = new Map<Socket, number>();
  const server = await startRawServer(t, (socket) => {
    const seen = (perSocket.get(socket) ?? 0) + 1;
    perSocket.set(socket, seen);
    if (seen === 1) socket.write(OK);
    else socket.destroy();
  });
  const url = new URL(server.url);
  const pool = createHttp1Pool(url, 1, { insecure: false });
  t.after(() => pool.close());
  const summary = await runLoad({
    url,
    count: 3,
    concurrency: 1,
    timeoutMs: 2_000,
    pool,
    makeRequest: (index) => ({ body: `{"n":${index}}`, headers: {} }),
  });
  assert.deepEqual([summary.sent, summary.ok], [3, 3]);
  // n=1 and n=2 each went out twice: first on the reused socket that dropped it, then on a fresh one.
  assert.deepEqual(server.requests.map(String), ['{"n":0}', '{"n":1}', '{"n":1}', '{"n":2}', '{"n":2}']);
  assert.equal(perSocket.size, 3);

  // A server that drops every request unanswered: no resend on fresh sockets, each is a reset.
  const dropping = await startRawServer(t, (socket) => socket.destroy());
  const dropUrl = new URL(dropping.url);
  const dropPool = createHttp1Pool(dropUrl, 2, { insecure: false });
  t.after(() => dropPool.close());
  const failed = await runLoad({
    url: dropUrl,
    count: 4,
    concurrency: 2,
    timeoutMs: 2_000,
    pool: dropPool,
    makeRequest: () => ({ body: '{}', headers: {} }),
  });
  assert.deepEqual(failed.failures, { reset: 4 });
  assert.equal(dropping.requests.length, 4);
});

test('a connection carries requests one after another on one socket, and reconnects after cancel', async (t) => {
  const sockets = new Set<Socket>();
  let hold = false;
  const server = await startRawServer(t, (socket) => {
    sockets.add(socket);
    if (!hold) socket.write(OK);
  });
  const url = new URL(server.url);
  const connection = new Http1Connection(url, { insecure: false });
  t.after(() => connection.cancel());
  const writer = new RequestWriter(url);
  assert.equal(await exchange(connection, writer, 'a'), 200);
  assert.equal(await exchange(connection, writer, 'b'), 200);
  assert.equal(sockets.size, 1, 'keep-alive: one socket');
  hold = true;
  let abandonedHeard = false;
  void exchange(connection, writer, 'c').then(() => (abandonedHeard = true));
  const ignore: ExchangeHandler = { onResponse: () => {}, onFailure: () => {} };
  assert.throws(() => connection.send(writer.serialize({ body: 'd', headers: [] }), ignore), /already in flight/);
  await new Promise<void>((resolve) => {
    const wait = (): void => (server.requests.length === 3 ? resolve() : void setImmediate(wait));
    wait();
  });
  connection.cancel();
  hold = false;
  assert.equal(await exchange(connection, writer, 'e'), 200);
  assert.equal(sockets.size, 2, 'a fresh socket after cancel');
  assert.deepEqual(server.requests.map(String), ['a', 'b', 'c', 'e']);
  // A cancelled request's handler hears nothing: not its socket's close, nor anything after.
  assert.equal(abandonedHeard, false);
});

test('RequestWriter: request line with path and query, Host, headers, Content-Length in UTF-8 bytes; a user Host wins', () => {
  const writer = new RequestWriter(new URL('http://example.test:8080/hooks/in?x=1&y=%20'));
  assert.equal(
    writer.serialize({ body: '{"s":"ü"}', headers: { 'Content-Type': 'application/json', 'content-length': '999' } }),
    'POST /hooks/in?x=1&y=%20 HTTP/1.1\r\nContent-Type: application/json\r\nHost: example.test:8080\r\nContent-Length: 10\r\n\r\n{"s":"ü"}',
  );
  const body = Buffer.from([0x7b, 0xff, 0x7d]);
  const [head, sent] = writer.serialize({ body, headers: ['host', 'other.test', 'X-A', 'b'] }) as readonly [string, Buffer];
  assert.equal(head, 'POST /hooks/in?x=1&y=%20 HTTP/1.1\r\nhost: other.test\r\nX-A: b\r\nContent-Length: 3\r\n\r\n');
  assert.equal(sent, body, 'the body buffer itself, not a copy');
  assert.match(new RequestWriter(new URL('https://[::1]/')).serialize({ body: '', headers: {} }) as string, /^POST \/ HTTP\/1\.1\r\nHost: \[::1\]\r\n/);
});
