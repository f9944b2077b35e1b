import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import { sign } from '../../src/signing/index.js';
import { tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { rawRequest, startRawServer } from '../helpers/raw-http.js';
import { createTestChannel, startRelayProcess } from '../helpers/relay.js';

const SECRET = 'exact-paths-secret';

/**
 * Request targets that URL parsers like to "fix": quotes, angle brackets, braces and
 * backticks, escapes already there (which must not be decoded or doubled), a bare `?`,
 * doubled slashes and characters some encoders touch in queries.
 */
const TRICKY_TARGETS = [
  "/q?c='q'",
  '/a/{b}/`c`/"d"/<e>?x="y"&lt=<z>&br={w}&bt=`v`',
  "/%7Balready%7D/%27enc%27?x=%27&y=%2F&z=%zz&sp=a+b%20c",
  '/p?',
  '/double//slash/?a=1&a=2;b|c^d\\e',
  "/!$&'()*+,;=:@~?!$&'()*+,;=:@/?",
];

/** What `curl --http2` adds to a request over plain http: an offer to switch to HTTP/2. */
const H2C_OFFER = 'Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n';

async function rawApp(t: TestContext) {
  const app = await startRawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
  return { ...app, target: `${new URL(app.url).origin}/hooks` };
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);
}

function jsonError(answer: string): string {
  assert.match(answer, /\r\ncontent-type: application\/json/i, answer);
  return (JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)) as { error: string }).error;
}

function signedPost(target: string, host: string, body = '{"event":"MessageSent"}', extraHeaders = ''): string {
  return `POST ${target} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nX-Webhook-Signature: ${sign(body, SECRET)}\r\n${extraHeaders}Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
}

test('listen: paths and queries reach the app byte for byte; absolute and asterisk form 400, CONNECT 405, long URL 414, big headers 431', async (t) => {
  const dir = await tempDir(t);
  const captures = path.join(dir, 'captures.jsonl');
  const app = await rawApp(t);
  const listen = await startListenCli(t, ['--forward', app.target, '--secret', SECRET, '--save', captures], { cwd: dir });
  const url = listen.ready.url;
  for (const target of TRICKY_TARGETS) {
    const answer = await rawRequest(url, signedPost(target, '127.0.0.1'));
    assert.equal(statusOf(answer), 200, `${target}: ${answer}`);
  }
  assert.deepEqual(
    app.heads.map((head) => head.slice(0, head.indexOf('\r\n'))),
    TRICKY_TARGETS.map((target) => `POST /hooks${target} HTTP/1.1`),
  );

  // An h2c upgrade offer (`curl --http2 http://…`) is an ordinary POST here too.
  const upgraded = await rawRequest(url, signedPost('/h2c', '127.0.0.1', '{"event":"MessageSent"}', H2C_OFFER));
  assert.equal(statusOf(upgraded), 200, upgraded);
  assert.equal(app.requests.at(-1)?.toString(), '{"event":"MessageSent"}');

  const absolute = await rawRequest(url, signedPost('http://evil.example/abs', 'evil.example'));
  assert.equal(statusOf(absolute), 400);
  assert.match(jsonError(absolute), /absolute-form/);
  const asterisk = await rawRequest(url, 'OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
  assert.equal(statusOf(asterisk), 400);
  assert.match(jsonError(asterisk), /asterisk-form/);
  const connect = await rawRequest(url, 'CONNECT 127.0.0.1:22 HTTP/1.1\r\nHost: 127.0.0.1:22\r\n\r\n');
  assert.equal(statusOf(connect), 405, connect);
  assert.match(connect, /\r\nallow: GET, HEAD, POST/i);
  assert.match(jsonError(connect), /not a proxy/);
  const longUrl = await rawRequest(url, `GET /${'a'.repeat(9_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  assert.equal(statusOf(longUrl), 414);
  assert.match(jsonError(longUrl), /URL is over 8192 bytes/);
  const hugeUrl = await rawRequest(url, `GET /${'a'.repeat(40_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  assert.equal(statusOf(hugeUrl), 414);
  assert.match(jsonError(hugeUrl), /URL is over/);
  const hugeHeaders = await rawRequest(url, `POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  assert.equal(statusOf(hugeHeaders), 431);
  assert.match(jsonError(hugeHeaders), /headers are over 16 KiB/);
  assert.equal(app.heads.length, TRICKY_TARGETS.length + 1, 'none of the refused ones reached the app');

  // The refused requests that got as far as a request are captured as rejected.
  const records = (await readFile(captures, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as CaptureRecord);
  assert.deepEqual(records.map((r) => r.path), [...TRICKY_TARGETS, '/h2c', 'http://evil.example/abs', '*', '127.0.0.1:22', `/${'a'.repeat(9_000)}`]);
  assert.deepEqual(records.slice(TRICKY_TARGETS.length + 1).map((r) => [r.method, r.responseStatus, r.forward]), [['POST', 400, undefined], ['OPTIONS', 400, undefined], ['CONNECT', 405, undefined], ['GET', 414, undefined]]);
  assert.ok(records.slice(TRICKY_TARGETS.length + 1).every((r) => typeof r.rejected === 'string'));
});

test('relay + listen: exact paths through the tunnel; an h2c-upgrade POST is stored and delivered; 400/405/414/431 with JSON', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const channel = await createTestChannel(relay.url);
  const app = await rawApp(t);
  await startListenCli(t, ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--forward', app.target, '--secret', SECRET, '--no-save'], { cwd: dir });
  const host = new URL(relay.url).host;
  for (const target of TRICKY_TARGETS) {
    const answer = await rawRequest(relay.url, signedPost(`/c/${channel.id}${target}`, host));
    assert.equal(statusOf(answer), 200, `${target}: ${answer}`);
  }
  assert.deepEqual(
    app.heads.map((head) => head.slice(0, head.indexOf('\r\n'))),
    TRICKY_TARGETS.map((target) => `POST /hooks${target} HTTP/1.1`),
  );

  // What `curl --http2 http://…` sends: an ordinary POST offering an upgrade, with a
  // Content-Length body, and a chunked one too. Both are stored and answered by the app.
  const body = '{"event":"MessageSent","payload":{"via":"h2c"}}';
  const upgraded = await rawRequest(relay.url, signedPost(`/c/${channel.id}/h2c?x='1'`, host, body, H2C_OFFER));
  assert.equal(statusOf(upgraded), 200, upgraded);
  assert.match(upgraded, /\r\nx-fe-webhooks-seq: \d+/i);
  const chunkedBody = '{"event":"MessageSent","payload":{"via":"h2c-chunked"}}';
  const chunked = await rawRequest(
    relay.url,
    `POST /c/${channel.id}/h2c-chunked HTTP/1.1\r\nHost: ${host}\r\n${H2C_OFFER}X-Webhook-Signature: ${sign(chunkedBody, SECRET)}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n${Buffer.byteLength(chunkedBody).toString(16)}\r\n${chunkedBody}\r\n0\r\n\r\n`,
  );
  assert.equal(statusOf(chunked), 200, chunked);
  const lastTwo = app.heads.slice(-2).map((head) => head.slice(0, head.indexOf('\r\n')));
  assert.deepEqual(lastTwo, ["POST /hooks/h2c?x='1' HTTP/1.1", 'POST /hooks/h2c-chunked HTTP/1.1']);
  assert.deepEqual(app.requests.slice(-2).map((b) => b.toString()), [body, chunkedBody]);
  assert.ok(app.heads.slice(-2).every((head) => !/^upgrade:/im.test(head)), 'the upgrade offer is hop-by-hop: not forwarded');

  const absolute = await rawRequest(relay.url, signedPost(`http://${host}/c/${channel.id}/abs`, host));
  assert.equal(statusOf(absolute), 400);
  assert.match(jsonError(absolute), /absolute-form/);
  const asterisk = await rawRequest(relay.url, `OPTIONS * HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
  assert.equal(statusOf(asterisk), 400);
  assert.match(jsonError(asterisk), /asterisk-form/);
  const connect = await rawRequest(relay.url, `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
  assert.equal(statusOf(connect), 405, connect);
  assert.match(jsonError(connect), /not a proxy/);
  for (const length of [9_000, 40_000]) {
    const answer = await rawRequest(relay.url, `POST /c/${channel.id}/${'a'.repeat(length)} HTTP/1.1\r\nHost: ${host}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    assert.equal(statusOf(answer), 414, `${length}: ${answer.slice(0, 200)}`);
    assert.match(jsonError(answer), /URL is over 8192 bytes/);
  }
  const hugeHeaders = await rawRequest(relay.url, `POST /c/${channel.id} HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
  assert.equal(statusOf(hugeHeaders), 431);
  assert.match(jsonError(hugeHeaders), /headers are over 16 KiB/);
  assert.equal(app.heads.length, TRICKY_TARGETS.length + 2, 'none of the refused ones reached the app');
});
