import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, symlink, unlink } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import { WebSocket, WebSocketServer } from 'ws';
import { encodeMessage, TUNNEL_PATH } from '../../src/protocol/index.js';
import { startRelay } from '../../src/relay/server.js';
import { memoryCursor } from '../../src/tunnel/cursor-file.js';
import { openTunnel, type TunnelStatus } from '../../src/tunnel/client.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { waitFor } from '../helpers/poll.js';
import { startReceiver } from '../helpers/receiver.js';
import { createTestChannel, forwardTo, openTestTunnel, post, startRelayProcess } from '../helpers/relay.js';


test('an unwritable log answers 503 (never a false 202) and the relay recovers', async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const relay = await startRelayProcess(t, dataDir);
  const channel = await createTestChannel(relay.url);
  const segment = path.join(dataDir, 'channels', channel.id, '0000000000000001.jsonl');
  await symlink('/dev/full', segment);
  const full = await post(channel.url, '{"event":"MessageSent"}');
  assert.equal(full.status, 503);
  assert.ok(full.headers['retry-after']);
  await unlink(segment);
  const ok = await post(channel.url, '{"event":"MessageSent"}');
  assert.equal(ok.status, 202);
  assert.equal(ok.headers['x-fe-webhooks-seq'], '1', 'the failed request burnt no sequence number');
  assert.ok(relay.lines.some((line) => /"store-error"/.test(line)));
});

test('retention drops the oldest events and the listener is told about the gap', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'), ['--retain-events', '3']);
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  for (let n = 1; n <= 5; n++) assert.equal((await post(channel.url, JSON.stringify({ n }))).status, 202);
  const { tunnel, statuses } = openTestTunnel(t, relay.url, channel, { handler: forwardTo(app.url) });
  await tunnel.ready;
  const received = await app.waitFor(3);
  assert.deepEqual(received.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n), [3, 4, 5]);
  assert.deepEqual(statuses.find((s) => s.state === 'gap'), { state: 'gap', from: 1, to: 2, reason: "dropped by the relay's retention" });
  assert.ok(relay.lines.some((line) => /"dropped"/.test(line)));
});

test('a silent relay connection is noticed by heartbeat and re-dialled', async (t) => {
  // A server that subscribes the listener and then never says another word.
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  t.after(() => new Promise<void>((resolve) => { for (const c of wss.clients) c.terminate(); wss.close(() => resolve()); }));
  await new Promise((resolve) => wss.once('listening', resolve));
  let connections = 0;
  wss.on('connection', (ws) => {
    connections++;
    ws.once('message', () => ws.send(encodeMessage({ type: 'subscribed', channel: 'c'.repeat(24), after: 0, head: 0 })));
  });
  const statuses: TunnelStatus[] = [];
  const started = Date.now();
  const tunnel = openTunnel({
    relayUrl: new URL(`http://127.0.0.1:${(wss.address() as { port: number }).port}`),
    channel: 'c'.repeat(24),
    token: 't'.repeat(43),
    cursor: memoryCursor(),
    handler: async () => ({ status: 200, headers: [], body: Buffer.alloc(0) }),
    pingIntervalMs: 100,
    deadAfterMs: 400,
    reconnect: { initialMs: 20, maxMs: 50 },
    onStatus: (s) => statuses.push(s),
  });
  t.after(() => tunnel.close());
  const reconnecting = await waitFor('a reconnect', () => statuses.find((s) => s.state === 'reconnecting'));
  assert.match((reconnecting as { reason: string }).reason, /no heartbeat/);
  assert.ok(Date.now() - started < 3_000);
  await waitFor('a second connection', () => (connections >= 2 ? true : undefined));
});

test('the relay answers a listener\'s ping, and drops a listener that goes silent', { timeout: 10_000 }, async (t) => {
  const relay = await startRelay({
    port: 0,
    host: '127.0.0.1',
    dataDir: path.join(await tempDir(t), 'data'),
    maxBodyBytes: 1024,
    retention: { maxEvents: 100, maxAgeMs: 60_000 },
    rateLimit: { perSecond: 100, burst: 100 },
    pingIntervalMs: 100,
    deadAfterMs: 400,
  });
  t.after(() => relay.close());
  const channel = await createTestChannel(relay.url);
  // A listener that subscribes, pings once, and then says nothing (pings unanswered).
  const ws = new WebSocket(`ws://127.0.0.1:${relay.port}${TUNNEL_PATH}`);
  t.after(() => ws.terminate());
  const frames: Array<{ type: string; t?: number }> = [];
  ws.on('message', (data: Buffer) => frames.push(JSON.parse(data.toString()) as { type: string; t?: number }));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  const started = Date.now();
  ws.send(encodeMessage({ type: 'subscribe', channel: channel.id, token: channel.token }));
  ws.send(encodeMessage({ type: 'ping', t: 42 }));
  const closed = await new Promise<number>((resolve) => ws.once('close', resolve));
  assert.ok(Date.now() - started < 3_000, 'dropped within seconds');
  assert.equal(closed, 1006, 'terminated, not closed politely');
  assert.ok(frames.some((f) => f.type === 'pong' && f.t === 42), 'its ping was answered');
  assert.ok(frames.filter((f) => f.type === 'ping').length >= 2, 'the relay pinged it');
});

test('relay refuses plain http on a public interface unless --insecure', async () => {
  const result = await runCli(['relay', '--host', '0.0.0.0', '--port', '0']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /Refusing to serve plain http on 0\.0\.0\.0.*--insecure/);
  assert.equal(result.stderr.trim().split('\n').length, 1);
});

test('relay serves HTTPS with --tls-cert/--tls-key', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'tls'));
  const cert = path.join(dir, 'tls/cert.pem');
  const key = path.join(dir, 'tls/key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const relay = await startRelayProcess(t, path.join(dir, 'data'), ['--tls-cert', cert, '--tls-key', key]);
  assert.match(relay.url, /^https:\/\//);
  const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
  t.after(() => dispatcher.close());
  const health = await request(`${relay.url}/healthz`, { dispatcher });
  assert.equal(health.statusCode, 200);
  await health.body.dump();
});
