import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import WebSocket from 'ws';
import { encodeMessage, TUNNEL_PATH } from '../../src/protocol/messages.js';
import { sign } from '../../src/signing/index.js';
import { BIN, REPO_ROOT, cleanEnv, runCli, tempDir, type CliResult } from '../helpers/cli.js';
import { assertPrintable } from '../helpers/printable-output.js';
import { startReceiver } from '../helpers/receiver.js';
import { createTestChannel } from '../helpers/relay.js';
import { captureRecord, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'output-safety-secret';
/** What a hostile server or sender puts in a body: a title change, a workflow command, colour, NUL, a byte that is not UTF-8. */
const HOSTILE_TEXT = '\x1b]0;pwned\x07 Evil\n::error title=pwned::x\x1b[31m ##[error]y \u009b2J \u202e';
const HOSTILE_BYTES = Buffer.concat([Buffer.from(HOSTILE_TEXT), Buffer.from([0x00, 0xff, 0xfe, 0x0d])]);
const HOSTILE_EVENT_BODY = JSON.stringify({ event: 'Evil\n::error title=pwned::\u001b[31m', payload: { note: HOSTILE_TEXT } });

function assertSafeRun(result: Pick<CliResult, 'stdoutBytes'> & { stderr: string | Buffer }, label: string): void {
  assertPrintable(result.stdoutBytes, `${label} stdout`);
  assertPrintable(result.stderr, `${label} stderr`);
  assert.doesNotMatch(typeof result.stderr === 'string' ? result.stderr : result.stderr.toString(), /\n\s+at /, `${label}: no stack trace`);
}

/** A receiver that answers every request 503 with hostile bytes. */
async function hostileReceiver(t: TestContext): Promise<{ url: string; count(): number }> {
  const receiver = await startReceiver(t, {
    respond: (_request, _index, res) => {
      res.writeHead(503, { 'content-type': 'text/plain' }).end(HOSTILE_BYTES);
    },
  });
  return { url: receiver.url, count: () => receiver.requests.length };
}

test('send, check and replay show a hostile 503 body escaped: no raw control byte, no line starting a CI command', async (t) => {
  const dir = await tempDir(t);
  const receiver = await hostileReceiver(t);

  const sent = await runCli(['send', 'MessageSent', '--url', `${receiver.url}/hooks`, '--secret', SECRET], { cwd: dir });
  assert.equal(sent.code, 1, sent.stderr);
  assertSafeRun(sent, 'send');
  assert.match(sent.stdout, /503 .*\\x1b\]0;pwned\\x07 Evil ::error title=pwned::x\\x1b\[31m ##\\x5berror\]y/, 'the snippet is shown, escaped');

  const retried = await runCli(['send', 'MessageSent', '--url', `${receiver.url}/hooks`, '--secret', SECRET, '--retry', '--time-scale', '0.0001'], { cwd: dir });
  assert.equal(retried.code, 1, retried.stderr);
  assertSafeRun(retried, 'send --retry');

  const checked = await runCli(['check', `${receiver.url}/hooks`, '--secret', SECRET], { cwd: dir });
  assert.equal(checked.code, 1, checked.stderr);
  assertSafeRun(checked, 'check');

  // Captures with a hostile id and event name, replayed to the hostile receiver.
  const file = path.join(dir, 'captures.jsonl');
  await writeCaptures(file, [
    captureRecord({ body: HOSTILE_EVENT_BODY, secret: SECRET, extra: { id: '::error title=id::\x1b[31m' } }),
    captureRecord({ body: HOSTILE_BYTES, secret: SECRET, extra: { id: `req_${HOSTILE_TEXT}` } }),
  ]);
  const replayed = await runCli(['replay', '--from', file, '--last', '2', '--to', `${receiver.url}/hooks`], { cwd: dir });
  assert.equal(replayed.code, 1, replayed.stderr);
  assertSafeRun(replayed, 'replay');
  assert.equal(replayed.stdout.trimEnd().split('\n').length, 2, replayed.stdout);
  assert.ok(receiver.count() >= 4, 'the requests were really sent');
});

test('verify: hostile event names, ids and binary bodies are escaped in the text report; --json keeps the exact text', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'captures.jsonl');
  const binary = Buffer.concat([Buffer.from('\x1b[2J\x00'), Buffer.from([0xff, 0x80]), Buffer.from('\n::error::binary')]);
  await writeCaptures(
    file,
    [
      captureRecord({ body: HOSTILE_EVENT_BODY, secret: SECRET }),
      captureRecord({ body: binary, secret: SECRET, extra: { id: '\n::warning::id' } }),
      captureRecord({ body: `{"event":"MessageSent","payload":${HOSTILE_TEXT}}`, secret: 'other' }),
      captureRecord({ body: HOSTILE_EVENT_BODY, secret: SECRET, extra: { rejected: HOSTILE_TEXT } }),
    ],
    // A torn last line holding raw bytes too.
    '{"id":"x\u001b]0;t\u0007',
  );
  const text = await runCli(['verify', file, '--secret', SECRET, '--expect', 'MessageSent'], { cwd: dir });
  assert.equal(text.code, 1, text.stderr);
  assertSafeRun(text, 'verify text');
  assert.match(text.stdout, /Evil\\n::error title=pwned::\\x1b\[31m/, 'the event name is shown escaped');
  assert.match(text.stdout, /^\d+ passed, \d+ failed$/m);

  const json = await runCli(['verify', file, '--secret', SECRET, '--reporter', 'json'], { cwd: dir });
  const events = (JSON.parse(json.stdout) as { verdicts: Array<{ event?: string }> }).verdicts.map((verdict) => verdict.event);
  assert.ok(events.includes('Evil\n::error title=pwned::\u001b[31m'), 'JSON carries the exact text, JSON-escaped');
  // JSON escapes every C0 control itself (the "keep them so").
  assert.doesNotMatch(json.stdout, /[\x00-\x09\x0b-\x1f]/);

  const junit = await runCli(['verify', file, '--secret', SECRET, '--reporter', 'junit'], { cwd: dir });
  assert.doesNotMatch(junit.stdout, /[\x00-\x09\x0b-\x1f]/, 'junit escapes them too');
});

test('error messages quoting input are one printable line', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ [`port\u001b]0;x\u0007`]: 1 }));
  const cases: string[][] = [
    ['send', `Evil\x1b]0;pwned\x07`],
    ['send', 'MessageSent', '--url', 'http://\x1b[31mhost/\u009b'],
    ['verify', '--expect', '::error::x\x1b'],
    ['send', '--header', '##[error]\x1b: x', 'MessageSent'],
    ['send', `--\x1b]0;x\x07`],
    ['listen', '--port', '\x1b[2J'],
  ];
  for (const args of cases) {
    const result = await runCli(args, { cwd: dir });
    const label = JSON.stringify(args);
    assert.equal(result.code, 2, `${label}: ${result.stderr}`);
    assertSafeRun(result, label);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, `${label}: one line: ${result.stderr}`);
  }
  // The config's unknown key comes from a file: escaped too.
  const config = await runCli(['send', 'MessageSent', '--dry-run'], { cwd: dir });
  assert.equal(config.code, 2, config.stderr);
  assertSafeRun(config, 'config key');
});

/** Spawns a human-mode command (no --json), collecting raw bytes; killed at the end of the test. */
function spawnHuman(t: TestContext, args: string[], cwd: string): { stdout: Buffer[]; stderr: Buffer[]; waitFor(stream: 'stdout' | 'stderr', pattern: RegExp): Promise<RegExpExecArray>; stop(): Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const out = { stdout: [] as Buffer[], stderr: [] as Buffer[] };
  const wakers = new Set<() => void>();
  for (const name of ['stdout', 'stderr'] as const) {
    child[name].on('data', (chunk: Buffer) => {
      out[name].push(chunk);
      for (const wake of wakers) wake();
    });
  }
  return {
    ...out,
    async waitFor(stream, pattern) {
      const deadline = Date.now() + 15_000;
      for (;;) {
        const match = pattern.exec(Buffer.concat(out[stream]).toString('utf8'));
        if (match) return match;
        if (child.exitCode !== null) throw new Error(`${args[0]} exited ${child.exitCode}: ${Buffer.concat(out.stderr).toString()}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} on ${stream}: ${Buffer.concat(out[stream]).toString()}`);
        await new Promise<void>((resolve) => {
          const done = (): void => {
            clearTimeout(timer);
            wakers.delete(done);
            resolve();
          };
          const timer = setTimeout(done, 500);
          wakers.add(done);
        });
      }
    },
    async stop() {
      child.kill('SIGINT');
      return exited;
    },
  };
}

/** One raw HTTP/1.1 request (bytes Node's client would refuse to send); resolves with the status line. */
function rawRequest(port: number, head: Buffer, body: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.setTimeout(10_000, () => socket.destroy(new Error('raw request timed out')));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      if (text.includes('\r\n')) {
        resolve(text.slice(0, text.indexOf('\r\n')));
        socket.destroy();
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1').split('\r\n')[0] ?? ''));
    // write, not end: a half-closed socket may be dropped before its answer.
    socket.write(Buffer.concat([head, Buffer.from(`content-length: ${body.length}\r\nconnection: close\r\n\r\n`), body]));
  });
}

test('listen: request lines for a hostile path, event and body are escaped', async (t) => {
  const dir = await tempDir(t);
  const listen = spawnHuman(t, ['listen', '--port', '0', '--secret', SECRET], dir);
  const [, url] = await listen.waitFor('stderr', /Webhook URL: (http:\/\/\S+)/);
  const port = Number(new URL(url as string).port);
  const body = Buffer.from(HOSTILE_EVENT_BODY);
  const signature = sign(body, SECRET);
  // Node's parser refuses raw control bytes in a path (400), so the path carries escapes and
  // a CI command; the signed body carries the hostile event; then a binary body, and a Host
  // with a byte past ASCII (a refusal reason may quote it).
  const statuses = [
    await rawRequest(port, Buffer.from(`POST /in/%ff%1b]0;x%07?q=::error::x HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nx-webhook-signature: ${signature}\r\n`), body),
    await rawRequest(port, Buffer.from(`POST /::error::path HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\n`), HOSTILE_BYTES),
    await rawRequest(port, Buffer.concat([Buffer.from('POST /x HTTP/1.1\r\nhost: evil'), Buffer.from([0xe9, 0x9b]), Buffer.from(`.example:${port}\r\n`)]), body),
  ];
  for (const status of statuses) assert.match(status, /^HTTP\/1\.1 \d{3}/);
  await listen.waitFor('stdout', /(?:.*\n){3}/);
  const code = await listen.stop();
  assert.ok(code === 0 || code === 130, `listen stopped: ${code}`);
  const stdout = Buffer.concat(listen.stdout);
  assertPrintable(stdout, 'listen stdout');
  assertPrintable(Buffer.concat(listen.stderr), 'listen stderr');
  assert.match(stdout.toString(), /POST \/in\/%ff%1b\]0;x%07\?q=::error::x {2}Evil\\n::error title=pwned::\\x1b\[31m/);
});

test('relay: log lines stay printable whatever clients send', async (t) => {
  const dir = await tempDir(t);
  const relay = spawnHuman(t, ['relay', '--port', '0', '--data-dir', path.join(dir, 'relay')], REPO_ROOT);
  const [, port] = await relay.waitFor('stderr', /curl -X POST http:\/\/127\.0\.0\.1:(\d+)\/channels/);
  const relayUrl = `http://127.0.0.1:${port}`;
  const channel = await createTestChannel(relayUrl);
  const posted = await request(`${channel.url}/::error::x?y=\u001b`, { method: 'POST', body: HOSTILE_BYTES, headers: { 'x-note': '##[error]x' } });
  await posted.body.dump();
  assert.equal(posted.statusCode, 202);
  // A listener that subscribes to a hostile channel id with a wrong token, then one that
  // subscribes rightly and closes with a hostile reason.
  const refused = new WebSocket(`ws://127.0.0.1:${port}${TUNNEL_PATH}`);
  refused.on('open', () => refused.send(encodeMessage({ type: 'subscribe', channel: `::error::\u001b]0;x${channel.id}`, token: '\u001b[31m' })));
  await new Promise<void>((resolve) => refused.once('close', () => resolve()));
  const listener = new WebSocket(`ws://127.0.0.1:${port}${TUNNEL_PATH}`);
  listener.on('open', () => listener.send(encodeMessage({ type: 'subscribe', channel: channel.id, token: channel.token })));
  listener.on('error', () => undefined);
  await new Promise<void>((resolve) => listener.on('message', () => resolve()));
  listener.close(4000, '\u001b]0;pwned\u0007\n::error::x');
  await relay.waitFor('stderr', /listener of \S+ disconnected/);
  await relay.stop();
  assertPrintable(Buffer.concat(relay.stderr), 'relay stderr');
  assertPrintable(Buffer.concat(relay.stdout), 'relay stdout');
});

test('config prints values from a config file escaped (the file may come with a cloned repository)', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ forward: 'localhost:3000/\u001b]0;pwned\u0007\n::error::x' }));
  const result = await runCli(['config'], { cwd: dir });
  assertSafeRun(result, 'config');
  assert.match(result.stdout, /forward +localhost:3000\/\\x1b\]0;pwned\\x07\\n::error::x/);
});
