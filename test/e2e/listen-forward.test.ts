import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { decodeBody, type CaptureRecord } from '../../src/capture/record.js';
import { startListen, type ListenOptions } from '../../src/listen/index.js';
import { sign } from '../../src/signing/index.js';
import { tempDir } from '../helpers/cli.js';
import { rawRequest } from '../helpers/raw-http.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'whsec_test_listen_Ü';

async function listen(t: TestContext, options: Partial<ListenOptions>) {
  const dir = await tempDir(t);
  const capturesFile = path.join(dir, 'captures.jsonl');
  const listener = await startListen({ port: 0, secret: SECRET, capturesFile, ...options });
  t.after(() => listener.close());
  return { listener, capturesFile };
}

async function readCaptures(file: string): Promise<CaptureRecord[]> {
  const text = await readFile(file, 'utf8');
  return text.trimEnd().split('\n').map((line) => JSON.parse(line) as CaptureRecord);
}

const PRETTY = Buffer.from('{\n  "event": "MessageSent",\n  "payload": {\n    "status": "sent",\n    "time": 1.230\n  }\n}\n');
const ESCAPES = Buffer.from('{"event":"MessageBounced","payload":{"subject":"Gr\\u00fc\\u00dfe \\ud83d\\ude00 \\/ \\"q\\""}}');
const NOT_UTF8 = Buffer.concat([Buffer.from('{"event":"MessageHeld","payload":{"x":"'), Buffer.from([0xff, 0xfe, 0xc3, 0x28, 0x80]), Buffer.from('"}}')]);
function largeBody(bytes: number): Buffer {
  const filler = 'x'.repeat(1000);
  const items: string[] = [];
  for (let size = 0; size < bytes; size += filler.length + 20) items.push(`{"i":${items.length},"f":"${filler}"}`);
  return Buffer.from(`{"event":"MessageSent","payload":{"items":[\n${items.join(',\n')}\n]}}`);
}

test('forwards byte for byte: signatures verify at the app for awkward bodies', async (t) => {
  const app = await startReceiver(t, { secret: SECRET });
  const { listener, capturesFile } = await listen(t, { forward: new URL(`${app.url}/hooks`) });
  const bodies = [PRETTY, ESCAPES, NOT_UTF8, largeBody(3 * 1024 * 1024)];
  for (const body of bodies) {
    const res = await request(`${listener.url}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body, SECRET) },
      body,
    });
    assert.equal(res.statusCode, 200, await res.body.text());
  }
  assert.equal(app.requests.length, bodies.length);
  app.requests.forEach((received, i) => {
    assert.ok(received.body.equals(bodies[i] as Buffer), `body ${i} arrived byte for byte`);
    assert.equal(received.signatureValid, true, `signature ${i} verifies at the app`);
    assert.equal(received.url, '/hooks', 'request path "/" adds nothing to the target path');
  });
  const records = await readCaptures(capturesFile);
  assert.deepEqual(records.map((r) => r.signature), ['valid', 'valid', 'valid', 'valid']);
  assert.deepEqual(records.map((r) => r.bodyEncoding), ['utf8', 'utf8', 'base64', 'utf8']);
  records.forEach((r, i) => {
    assert.ok(decodeBody(r).equals(bodies[i] as Buffer), `capture ${i} holds the exact bytes`);
    assert.equal(r.forward?.status, 200);
    assert.equal(r.responseStatus, 200);
  });
  // The event is read from the body where it parses (even around bad bytes); large bodies are not parsed.
  assert.deepEqual(records.map((r) => r.event), ['MessageSent', 'MessageBounced', 'MessageHeld', undefined]);
  assert.equal((await stat(capturesFile)).mode & 0o777, 0o600);
  assert.ok(!(await readFile(capturesFile, 'utf8')).includes(SECRET), 'the secret is never captured');
});

test('passes the app status, headers and body back; keeps method, path, query and repeated headers; drops hop-by-hop', async (t) => {
  const app = await startReceiver(t, {
    respond: (req, _i, res) => {
      if (req.url.startsWith('/base/redirect')) {
        res.writeHead(302, { location: '/elsewhere' }).end();
        return;
      }
      res.writeHead(418, [['set-cookie', 'a=1'], ['set-cookie', 'b=2'], ['x-app', 'yes'], ['content-type', 'text/plain']]);
      res.end('short and stout');
    },
  });
  const { listener, capturesFile } = await listen(t, { forward: new URL(`${app.url}/base?k=v`) });
  const res = await request(`${listener.url}deep/path?x=1&x=2`, {
    method: 'PUT',
    headers: ['X-Repeat', 'one', 'X-Repeat', 'two', 'Content-Type', 'text/plain'],
    body: 'not json at all',
  });
  assert.equal(res.statusCode, 418);
  assert.deepEqual(res.headers['set-cookie'], ['a=1', 'b=2']);
  assert.equal(res.headers['x-app'], 'yes');
  assert.equal(await res.body.text(), 'short and stout');
  const received = app.requests[0];
  assert.ok(received);
  assert.equal(received.method, 'PUT');
  assert.equal(received.url, '/base/deep/path?k=v&x=1&x=2');
  assert.deepEqual(received.headers['x-repeat'], 'one, two');
  const repeats = received.rawHeaders.filter((_, i) => i % 2 === 0 && received.rawHeaders[i] === 'X-Repeat');
  assert.equal(repeats.length, 2, 'repeated headers stay separate');
  assert.equal(received.headers.host, `127.0.0.1:${app.port}`, 'host names the app, not the listener');

  const redirect = await request(`${listener.url}redirect`, { method: 'POST', body: '{}' });
  assert.equal(redirect.statusCode, 302, 'redirects go back to the caller, not followed');
  assert.equal(redirect.headers.location, '/elsewhere');
  await redirect.body.dump();
  // undici manages Connection itself, so this one goes over a raw socket.
  const raw = await rawRequest(
    listener.url,
    'POST /raw HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close, X-Drop-Me\r\nX-Drop-Me: gone\r\nKeep-Alive: timeout=5\r\nX-Keep: kept\r\nContent-Length: 2\r\n\r\n{}',
  );
  assert.match(raw, /^HTTP\/1\.1 418 /);
  const rawReceived = app.requests[2];
  assert.equal(rawReceived?.headers['x-drop-me'], undefined, 'headers named in Connection are hop-by-hop');
  assert.equal(rawReceived?.headers['keep-alive'], undefined);
  assert.equal(rawReceived?.headers['x-keep'], 'kept');
  const withBody = await request(`${listener.url}get`, { method: 'GET', body: 'odd but sent' });
  assert.equal(withBody.statusCode, 418);
  await withBody.body.dump();
  assert.equal(app.requests[3]?.method, 'GET');
  assert.equal(app.requests[3]?.body.toString(), 'odd but sent', 'any method keeps its body');
  assert.equal(app.requests.length, 4);
  const records = await readCaptures(capturesFile);
  assert.equal(records[0]?.signature, 'unsigned');
  assert.deepEqual(records[0]?.headers['x-repeat'], ['one', 'two']);
  assert.deepEqual(records.map((r) => r.responseStatus), [418, 302, 418, 418]);
});

test('a HEAD answer carries the app\'s content-length and headers, as the GET does, with no body', async (t) => {
  const page = Buffer.alloc(1234, 'x');
  const app = await startReceiver(t, {
    respond: (req, _i, res) => {
      // /chunked: an app that streams its answer and so names no length.
      if (req.url === '/chunked') return void res.writeHead(200, [['content-type', 'text/plain'], ['transfer-encoding', 'chunked']]).end();
      res.writeHead(200, [['content-type', 'text/plain'], ['etag', '"v1"'], ['content-length', String(page.length)]]);
      res.end(req.method === 'HEAD' ? undefined : page);
    },
  });
  const { listener, capturesFile } = await listen(t, { forward: new URL(app.url) });
  const get = await request(`${listener.url}page`, { method: 'GET' });
  assert.equal((await get.body.arrayBuffer()).byteLength, page.length);
  const head = await request(`${listener.url}page`, { method: 'HEAD' });
  assert.equal(head.statusCode, 200);
  assert.equal(head.headers['content-length'], String(page.length), 'the app\'s length, as the GET had');
  assert.equal(head.headers['content-length'], get.headers['content-length']);
  assert.equal(head.headers.etag, '"v1"');
  assert.equal(head.headers['content-type'], 'text/plain');
  assert.equal((await head.body.arrayBuffer()).byteLength, 0);
  // Over a raw socket: exactly one content-length line, then nothing after the headers.
  const raw = await rawRequest(listener.url, 'HEAD /page HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.deepEqual(raw.match(/^content-length: .*$/gim), [`content-length: ${page.length}`]);
  assert.ok(raw.endsWith('\r\n\r\n'), 'no body after the headers');
  const chunked = await rawRequest(listener.url, 'HEAD /chunked HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.match(chunked, /^HTTP\/1\.1 200 /);
  assert.doesNotMatch(chunked, /content-length/i, 'no length claimed when the app named none');
  assert.equal(app.requests.filter((r) => r.method === 'HEAD').length, 3);
  const records = await readCaptures(capturesFile);
  assert.deepEqual(records.map((r) => `${r.method} ${r.responseStatus}`), ['GET 200', 'HEAD 200', 'HEAD 200', 'HEAD 200']);
});

test('target down answers 502 and a slow target 504, with the reason captured', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const down = await listen(t, { forward: new URL(`http://127.0.0.1:${deadPort}/`) });
  const refused = await request(down.listener.url, { method: 'POST', body: '{}' });
  assert.equal(refused.statusCode, 502);
  assert.match(await refused.body.text(), /could not reach .* \(refused/);

  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  const slowApp = await startReceiver(t, { respond: () => held.then(() => 200) });
  const slow = await listen(t, { forward: new URL(slowApp.url), forwardTimeoutMs: 300 });
  const started = Date.now();
  const timedOut = await request(slow.listener.url, { method: 'POST', body: '{}' });
  assert.equal(timedOut.statusCode, 504);
  assert.match(await timedOut.body.text(), /did not answer within 300 ms/);
  assert.ok(Date.now() - started < 3000, 'the 504 comes at the timeout, not later');
  release();

  const [refusedRecord] = await readCaptures(down.capturesFile);
  assert.equal(refusedRecord?.forward?.status, undefined);
  assert.match(refusedRecord?.forward?.error ?? '', /^refused/);
  assert.equal(refusedRecord?.responseStatus, 502);
  const [slowRecord] = await readCaptures(slow.capturesFile);
  assert.match(slowRecord?.forward?.error ?? '', /^timeout/);
  assert.equal(slowRecord?.responseStatus, 504);
});

test('without a target: --respond after --delay; bodies over the limit get 413 and a capture line', async (t) => {
  const { listener, capturesFile } = await listen(t, { respondStatus: 503, respondDelayMs: 250, maxBodyBytes: 1024 });
  const started = Date.now();
  const res = await request(listener.url, { method: 'POST', body: '{"event":"MessageSent"}', headers: { 'x-webhook-signature': 'sha256=00' } });
  assert.equal(res.statusCode, 503);
  await res.body.dump();
  assert.ok(Date.now() - started >= 240, 'the answer waits for --delay');
  const big = await request(listener.url, { method: 'POST', body: Buffer.alloc(5000, 0x61) });
  assert.equal(big.statusCode, 413);
  await big.body.dump();
  // Chunked (no content-length): the limit holds while reading too.
  const chunked = await request(listener.url, {
    method: 'POST',
    body: Readable.from((function* () {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(512, 0x62);
    })()),
  });
  assert.equal(chunked.statusCode, 413);
  await chunked.body.dump();
  const records = await readCaptures(capturesFile);
  assert.equal(records[0]?.signature, 'invalid');
  assert.equal(records[0]?.responseStatus, 503);
  for (const record of records.slice(1)) {
    assert.equal(record.responseStatus, 413);
    assert.match(record.rejected ?? '', /body over the 1 KiB limit/);
    assert.equal(record.bodySize, 0);
  }
  assert.equal(records.length, 3);
});

test('malformed HTTP and absurd headers are answered, and the listener keeps serving', async (t) => {
  const { listener, capturesFile } = await listen(t, {});
  assert.match(await rawRequest(listener.url, 'NOT HTTP AT ALL\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await rawRequest(listener.url, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`), /^HTTP\/1\.1 431 /);
  const weird = await rawRequest(listener.url, 'POST /ok HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Empty:\r\nConnection: close\r\nContent-Length: 3\r\n\r\n\xff\x00\x01');
  assert.match(weird, /^HTTP\/1\.1 200 /);
  const records = await readCaptures(capturesFile);
  assert.equal(records.length, 1);
  assert.equal(records[0]?.bodyEncoding, 'base64');
  assert.equal(records[0]?.headers['x-empty'], '');
});
