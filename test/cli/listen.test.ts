import assert from 'node:assert/strict';
import { chmod, readFile, stat } from 'node:fs/promises';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}

const USER_SECRET = 'user-supplied-secret-do-not-print-7f3a';

test('listen --json: ready line, one line per request, captures 0600 without the secret, Ctrl-C exits 130 with captures flushed', async (t) => {
  const dir = await tempDir(t);
  const app = await startReceiver(t, { secret: USER_SECRET });
  const listen = await startListenCli(t, ['--forward', `127.0.0.1:${app.port}/hooks`, '--secret', USER_SECRET], { cwd: dir });
  assert.match(listen.ready.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.match(listen.ready.inspectorUrl, /^http:\/\/127\.0\.0\.1:\d+\/$/);
  assert.equal(listen.ready.forward, `http://127.0.0.1:${app.port}/hooks`);
  assert.equal(listen.ready.signingSecret, undefined, 'a user-supplied secret is never printed');

  const body = '{"event":"MessageSent","payload":{"status":"sent"}}';
  const signed = await request(listen.ready.url, { method: 'POST', body, headers: { 'x-webhook-signature': sign(body, USER_SECRET) } });
  assert.equal(signed.statusCode, 200);
  await signed.body.dump();
  const forged = await request(`${listen.ready.url}?try=2`, { method: 'POST', body, headers: { 'x-webhook-signature': sign(body, 'wrong') } });
  assert.equal(forged.statusCode, 401, "the app's own status comes back");
  await forged.body.dump();
  const lines = (await listen.waitForLines(2)).map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l.type, l.method, l.path, l.event, l.signature, l.responseStatus, (l.forward as { status: number }).status]),
    [
      ['request', 'POST', '/', 'MessageSent', 'valid', 200, 200],
      ['request', 'POST', '/?try=2', 'MessageSent', 'invalid', 401, 401],
    ],
  );

  const { code, stdout, stderr } = await listen.stop('SIGINT');
  assert.equal(code, 130, stderr);
  const file = path.join(dir, '.fe-webhooks/captures.jsonl');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  const captures = await readFile(file, 'utf8');
  assert.equal(captures.trimEnd().split('\n').length, 2);
  for (const text of [captures, stdout, stderr]) assert.ok(!text.includes(USER_SECRET), 'the secret appears nowhere');
});

test('listen shows the generated local secret once at start-up, and send-style signatures with it verify', async (t) => {
  const dir = await tempDir(t);
  const listen = await startListenCli(t, ['--no-save'], { cwd: dir });
  const local = (await readFile(path.join(dir, '.fe-webhooks/secret'), 'utf8')).trim();
  assert.equal(listen.ready.signingSecret, local);
  assert.equal(listen.ready.captures, null);
  const body = '{"event":"DomainDNSError","payload":{}}';
  const res = await request(`${listen.ready.url}x`, { method: 'POST', body, headers: { 'x-webhook-signature': sign(body, local) } });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  const [line] = await listen.waitForLines(1);
  assert.equal(JSON.parse(line as string).signature, 'valid');
  const { code } = await listen.stop('SIGINT');
  assert.equal(code, 130);
  await assert.rejects(stat(path.join(dir, '.fe-webhooks/captures.jsonl')), /ENOENT/, '--no-save writes nothing');
});

test('pretty output: start-up lines and one line per request', async (t) => {
  const dir = await tempDir(t);
  const { spawn } = await import('node:child_process');
  const { BIN } = await import('../helpers/cli.js');
  const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--respond', '202'], { cwd: dir, env: cleanEnv() });
  t.after(() => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (c: Buffer) => {
      stderr += c;
      const match = /Ctrl-C to stop/.test(stderr) && /Webhook URL: (\S+)/.exec(stderr);
      if (match) resolve(match[1] as string);
    });
    child.on('exit', () => reject(new Error(stderr)));
  });
  assert.match(stderr, /Inspector: +http:\/\/127\.0\.0\.1:\d+\//);
  assert.match(stderr, /Your webhook signing secret is fe_dev_/);
  assert.match(stderr, /No --forward: answering 202/);
  const res = await request(`${url}hook`, { method: 'POST', body: '{"event":"MessageBounced"}' });
  assert.equal(res.statusCode, 202);
  await res.body.dump();
  const exit = new Promise<number | null>((resolve) => child.on('exit', resolve));
  // The line is printed before the answer is sent, so it is there by now or shortly after.
  while (!stdout.includes('\n')) await new Promise((resolve) => child.stdout.once('data', resolve));
  child.kill('SIGINT');
  assert.equal(await exit, 130);
  assert.match(stdout, /^\d\d:\d\d:\d\d {2}POST \/hook {2}MessageBounced {2}– unsigned {2}<-- 202\n$/);
  assert.match(stderr, /Stopped after 1 request, captured in \.fe-webhooks\/captures\.jsonl/);
});

test('listen: port in use and contradictory flags are one-line errors (exit 2)', async (t) => {
  const busy = createServer();
  await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
  t.after(() => busy.close());
  const port = (busy.address() as { port: number }).port;
  const dir = await tempDir(t);
  const inUse = await runCli(['listen', '--port', String(port), '--no-save'], { cwd: dir });
  assert.equal(inUse.code, 2);
  assert.equal(inUse.stderr, `error: Port ${port} on 127.0.0.1 is already in use: stop the other program or pick another with --port (0 = any free port)\n`);
  const both = await runCli(['listen', '--forward', 'localhost:3000', '--respond', '500'], { cwd: dir });
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--respond and --delay shape the answer without --forward/);
  const badStatus = await runCli(['listen', '--respond', '99'], { cwd: dir });
  assert.equal(badStatus.code, 2);
  assert.match(badStatus.stderr, /Invalid --respond "99"/);
});

test('captures export --har writes valid HAR 1.2 with exact bodies', async (t) => {
  const dir = await tempDir(t);
  const listen = await startListenCli(t, ['--secret', USER_SECRET], { cwd: dir });
  const text = '{\n  "event": "MessageSent"\n}';
  const bytes = Buffer.from([0x7b, 0xff, 0x00, 0x7d]);
  for (const body of [text, bytes]) {
    const res = await request(`${listen.ready.url}in?a=1`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body, USER_SECRET) } });
    await res.body.dump();
  }
  await listen.waitForLines(2);
  assert.equal((await listen.stop()).code, 130);
  const result = await runCli(['captures', 'export', '--har'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const har = JSON.parse(result.stdout) as { log: { version: string; creator: { name: string }; entries: Array<Record<string, any>> } };
  assert.equal(har.log.version, '1.2');
  assert.equal(har.log.creator.name, 'fe-webhooks');
  assert.equal(har.log.entries.length, 2);
  for (const entry of har.log.entries) {
    for (const key of ['startedDateTime', 'time', 'request', 'response', 'cache', 'timings']) assert.ok(key in entry, key);
    assert.ok(!Number.isNaN(Date.parse(entry.startedDateTime)));
    assert.equal(entry.request.method, 'POST');
    assert.match(entry.request.url, /^http:\/\/127\.0\.0\.1:\d+\/in\?a=1$/);
    assert.deepEqual(entry.request.queryString, [{ name: 'a', value: '1' }]);
    assert.equal(entry.response.status, 200);
    assert.equal(entry._signature, 'valid');
    for (const key of ['httpVersion', 'cookies', 'headers', 'headersSize', 'bodySize']) assert.ok(key in entry.request && key in entry.response, key);
  }
  assert.equal(har.log.entries[0]?.request.postData.text, text);
  assert.equal(har.log.entries[1]?.request.postData.encoding, 'base64');
  assert.ok(Buffer.from(har.log.entries[1]?.request.postData.text, 'base64').equals(bytes));
  const toFile = await runCli(['captures', 'export', '--har', '--output', 'out.har'], { cwd: dir });
  assert.equal(toFile.code, 0);
  assert.equal(await readFile(path.join(dir, 'out.har'), 'utf8'), result.stdout);
  assert.ok(!result.stdout.includes(USER_SECRET));
});

test('Ctrl-C during a forward: the caller still gets the app answer, the capture is flushed, exit 130', async (t) => {
  const dir = await tempDir(t);
  let release: () => void = () => {};
  const held = new Promise<void>((resolve) => (release = resolve));
  t.after(() => release());
  const app = await startReceiver(t, { respond: () => held.then(() => 201) });
  const listen = await startListenCli(t, ['--forward', app.url], { cwd: dir });
  const answer = request(listen.ready.url, { method: 'POST', body: '{"event":"MessageHeld"}' });
  await app.waitFor(1);
  listen.child.kill('SIGINT');
  // Once new connections are refused the listener is stopping, with the forward still
  // in flight: it must wait for the app, which answers now.
  const { port } = new URL(listen.ready.url);
  const deadline = Date.now() + 10_000;
  while (await canConnect(Number(port))) assert.ok(Date.now() < deadline, 'listen kept accepting after SIGINT');
  release();
  const res = await answer;
  assert.equal(res.statusCode, 201);
  await res.body.dump();
  // A second Ctrl-C would force the exit, so this one is only waited for.
  const { code, stderr } = await listen.exited();
  assert.equal(code, 130, stderr);
  const captures = (await readFile(path.join(dir, '.fe-webhooks/captures.jsonl'), 'utf8')).trimEnd().split('\n');
  assert.equal(captures.length, 1);
  assert.equal(JSON.parse(captures[0] as string).forward.status, 201);
});

test('--save FILE in an existing folder keeps that folder mode; a new folder is private', async (t) => {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  const listen = await startListenCli(t, ['--save', 'caps.jsonl'], { cwd: dir });
  const res = await request(listen.ready.url, { method: 'POST', body: '{}' });
  await res.body.dump();
  await listen.waitForLines(1);
  assert.equal((await listen.stop()).code, 130);
  assert.equal((await stat(dir)).mode & 0o777, 0o755, 'the project folder is left alone');
  assert.equal((await stat(path.join(dir, 'caps.jsonl'))).mode & 0o777, 0o600);
  const nested = await startListenCli(t, ['--save', 'new/caps.jsonl'], { cwd: dir });
  const again = await request(nested.ready.url, { method: 'POST', body: '{}' });
  await again.body.dump();
  await nested.waitForLines(1);
  assert.equal((await nested.stop()).code, 130);
  assert.equal((await stat(path.join(dir, 'new'))).mode & 0o777, 0o700);
});
