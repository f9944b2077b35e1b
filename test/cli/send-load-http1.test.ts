// Load mode's built-in HTTP/1.1 client against real local servers that answer in every
// way a webhook endpoint might: chunked, closing after each answer, 500s, idle-closing
// keep-alive, no length (read to the close), garbage, silence, and https.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { packageVersion } from '../../src/cli/version.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { pythonVerify } from '../helpers/python.js';
import { startRawServer } from '../helpers/raw-http.js';
import { startReceiver } from '../helpers/receiver.js';
import { selfSignedCert, startHttpsReceiver } from '../helpers/tls.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'whsec_load_ü';

interface LoadSummaryJson {
  sent: number;
  ok: number;
  failed: number;
}

async function load(url: string, extra: string[] = []): Promise<{ code: number | null; summary: LoadSummaryJson; stderr: string }> {
  const result = await runCli(['send', 'MessageSent', '--url', url, '--secret', SECRET, '--json', ...extra]);
  return { code: result.code, summary: JSON.parse(result.stdout) as LoadSummaryJson, stderr: result.stderr };
}

async function listen(t: TestContext, server: Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return (server.address() as AddressInfo).port;
}

test('load mode: chunked answers, answers that close the connection, path, query, Host, User-Agent; every signature verifies', needs('python3'), async (t) => {
  const ports = new Set<number>();
  const chunked = await startReceiver(t, {
    secret: SECRET,
    respond: (request, _index, res) => {
      res.writeHead(request.signatureValid ? 200 : 401, { 'content-type': 'text/plain' });
      res.write('accepted ');
      res.end('in two chunks');
    },
  });
  const first = await load(`${chunked.url}/hooks/in?tenant=a%20b&x=1`, ['--count', '40', '--concurrency', '4']);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual([first.summary.sent, first.summary.ok], [40, 40]);
  assert.equal(chunked.requests.length, 40);
  assert.ok(chunked.requests.every((r) => r.signatureValid), 'the receiver verified every signature with the page rule');
  const [sample] = chunked.requests;
  assert.equal(sample?.url, '/hooks/in?tenant=a%20b&x=1');
  assert.equal(sample?.method, 'POST');
  assert.equal(sample?.headers.host, new URL(chunked.url).host);
  assert.equal(sample?.headers['user-agent'], `fe-webhooks/${packageVersion()}`);
  assert.equal(sample?.headers['content-type'], 'application/json');
  assert.equal(sample?.headers['content-length'], String(sample?.body.length));
  // The page's own Python check, on a few of the exact bytes received.
  const cases = chunked.requests.slice(0, 5).map((r) => [r.body, String(r.headers['x-webhook-signature']), SECRET] as [Buffer, string, string]);
  assert.deepEqual(pythonVerify(cases), [true, true, true, true, true]);

  const closing = await startReceiver(t, {
    secret: SECRET,
    respond: (_request, _index, res) => {
      ports.add(res.socket?.remotePort ?? 0);
      res.writeHead(200, { connection: 'close', 'content-length': '2' }).end('ok');
    },
  });
  const second = await load(closing.url, ['--count', '30', '--concurrency', '3']);
  assert.equal(second.code, 0, second.stderr);
  assert.deepEqual([second.summary.sent, second.summary.ok], [30, 30]);
  assert.ok(closing.requests.every((r) => r.signatureValid));
  assert.equal(ports.size, 30, 'a fresh connection after each Connection: close');
});

test('load mode: 500s are counted as HTTP 500 failures, exit 1', async (t) => {
  const failing = await startReceiver(t, { respond: (_r, index) => (index % 2 === 0 ? 500 : 200) });
  const human = await runCli(['send', 'MessageSent', '--url', failing.url, '--count', '10', '--concurrency', '2']);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /ok +5\n/);
  assert.match(human.stdout, /failed +5 \(HTTP 500 5\)/);
  assert.match(human.stderr, /5 of 10 deliveries failed/);
});

test('load mode: a server closing idle keep-alive connections, read-to-close bodies, garbage and silence', async (t) => {
  // Node closes a keep-alive connection idle for keepAliveTimeout; at 10 req/s over one connection every request finds it closed.
  const idleClosing = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  idleClosing.keepAliveTimeout = 20;
  const idlePort = await listen(t, idleClosing);
  const paced = await load(`http://127.0.0.1:${idlePort}/`, ['--count', '4', '--concurrency', '1', '--rate', '10']);
  assert.equal(paced.code, 0, paced.stderr);
  assert.equal(paced.summary.ok, 4);

  // No Content-Length, no chunking: the body ends when the server closes.
  const untilClose = await startRawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nbody until the close'));
  const closed = await load(untilClose.url, ['--count', '6', '--concurrency', '2']);
  assert.equal(closed.code, 0, closed.stderr);
  assert.equal(closed.summary.ok, 6);

  // Not HTTP at all, and an answer cut off by the close: failures, never a crash.
  const garbage = await startRawServer(t, (socket, index) =>
    index % 2 === 0 ? socket.write('SSH-2.0-OpenSSH_9.2\r\n\r\n') : socket.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort'),
  );
  const broken = await runCli(['send', 'MessageSent', '--url', garbage.url, '--count', '6', '--concurrency', '1']);
  assert.equal(broken.code, 1, broken.stderr);
  assert.match(broken.stdout, /failed +6 \((protocol 3, reset 3|reset 3, protocol 3)\)/);
  assert.doesNotMatch(broken.stderr, /\n +at /, 'no stack trace');

  // Accepts and reads, never answers: every delivery times out, and the run still ends.
  const silent = await startRawServer(t, () => {});
  const started = Date.now();
  const timedOut = await load(silent.url, ['--count', '4', '--concurrency', '2', '--timeout', '200ms']);
  assert.equal(timedOut.code, 1);
  assert.deepEqual([timedOut.summary.sent, timedOut.summary.failed], [4, 4]);
  assert.equal(silent.requests.length, 4, 'each timed-out request was written, then its socket replaced');
  assert.ok(Date.now() - started < 5_000);
});

test('load mode over https: a self-signed certificate fails as TLS unless --insecure', async (t) => {
  const https = await startHttpsReceiver(t);
  const refused = await runCli(['send', 'MessageSent', '--url', https.url, '--count', '4', '--concurrency', '2']);
  assert.equal(refused.code, 1);
  assert.match(refused.stdout, /failed +4 \(tls 4\)/);
  assert.equal(https.bodies.length, 0);
  const accepted = await load(https.url, ['--count', '20', '--concurrency', '2', '--insecure']);
  assert.equal(accepted.code, 0, accepted.stderr);
  assert.equal(accepted.summary.ok, 20);
  assert.equal(https.bodies.length, 20);
  assert.equal(new Set(https.bodies.map((b) => b.toString())).size, 20);

  // A certificate the system trusts (here via NODE_EXTRA_CA_CERTS) is accepted without
  // --insecure, for the name in the URL, which goes out as SNI.
  const names = new Set<string | false>();
  https.server.on('secureConnection', (socket: TLSSocket) => names.add((socket as TLSSocket & { servername: string | false }).servername));
  const dir = await tempDir(t);
  const ca = path.join(dir, 'ca.pem');
  await writeFile(ca, (await selfSignedCert()).cert);
  const byName = https.url.replace('127.0.0.1', 'localhost');
  const trusted = await runCli(['send', 'MessageSent', '--url', byName, '--count', '4', '--concurrency', '2', '--json'], { env: cleanEnv({ NODE_EXTRA_CA_CERTS: ca }) });
  assert.equal(trusted.code, 0, trusted.stderr);
  assert.equal((JSON.parse(trusted.stdout) as LoadSummaryJson).ok, 4);
  assert.deepEqual([...names], ['localhost']);
});
