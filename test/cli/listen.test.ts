import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';

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
