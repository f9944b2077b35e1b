import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { test } from 'node:test';
import WebSocket from 'ws';
import { encodeMessage, TUNNEL_PATH } from '../../src/protocol/messages.js';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, tempDir } from '../helpers/cli.js';
import { hostileCases, playCases, residentBytes, type HostileOutcome } from '../helpers/hostile.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';

const CASES_PER_TARGET = 600;
const MAX_BODY = '64KiB';
const MAX_BODY_BYTES = 64 * 1024;
/** Growth allowed over the whole run: bodies are bounded, captures go to disk. */
const MAX_RSS_GROWTH_BYTES = 150 * 1024 * 1024;

function summarise(target: string, outcomes: HostileOutcome[]): HostileOutcome[] {
  const misbehaved = outcomes.filter((o) => !o.ok);
  // The one summary line the issue asks for: how many cases ran, how many misbehaved.
  console.log(`hostile input vs ${target}: ${outcomes.length} cases, ${misbehaved.length} misbehaved`);
  return misbehaved;
}

test('listen survives 600 hostile requests: answers 4xx where due, stays up, memory bounded', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const secret = 'fuzz-secret';
  const listen = await startListenCli(t, ['--max-body', MAX_BODY, '--secret', secret, '--save', path.join(dir, 'captures.jsonl')], {
    cwd: dir,
    env: cleanEnv(),
  });
  const port = Number(new URL(listen.ready.url).port);
  const pid = listen.child.pid as number;
  const before = await residentBytes(pid);
  const cases = hostileCases({ postPaths: ['/', '/hooks/email?x=1', '/%2e%2e/%2e%2e/etc/passwd'], refusedPaths: [], maxBodyBytes: MAX_BODY_BYTES }, CASES_PER_TARGET);
  const misbehaved = summarise('listen', await playCases(port, cases));
  assert.deepEqual(misbehaved, []);
  assert.equal(listen.child.exitCode, null, 'listen is still running');
  const body = '{"event":"MessageHeld","payload":{}}';
  const after = await post(listen.ready.url, body, { 'x-webhook-signature': sign(body, secret), 'content-type': 'application/json' });
  assert.equal(after.status, 200, 'a normal request is still served');
  const growth = (await residentBytes(pid)) - before;
  assert.ok(growth < MAX_RSS_GROWTH_BYTES, `listen grew by ${Math.round(growth / 2 ** 20)} MiB`);
});

test('relay survives 600 hostile requests and wrong tokens: 4xx where due, nothing leaked, memory bounded', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay'), ['--max-body', MAX_BODY]);
  const channel = await createTestChannel(relay.url);
  const pid = relay.child.pid as number;
  const before = await residentBytes(pid);
  const unknown = randomBytes(16).toString('base64url');
  const cases = hostileCases(
    {
      postPaths: [`/c/${channel.id}`, `/c/${channel.id}/hooks?x=1`],
      refusedPaths: [
        { path: `/c/${unknown}`, status: 404 },
        { path: '/c/../../etc/passwd', status: 404 },
        { path: `/c/${channel.id}/../../../../etc/passwd`, status: 404 },
        { path: '/c/%2e%2e%2f%2e%2e%2fetc%2fpasswd', status: 404 },
        { path: `/c/${channel.id.slice(0, -1)}`, status: 404 },
        { path: '/c/', status: 404 },
        { path: '/c/\u0000', status: 404 },
      ],
      maxBodyBytes: MAX_BODY_BYTES,
    },
    CASES_PER_TARGET,
  );
  const misbehaved = summarise('relay', await playCases(relay.port, cases));
  assert.deepEqual(misbehaved, []);

  // Wrong tokens: every subscription is refused and not one event frame is sent.
  const WRONG_TOKENS = 40;
  let eventsLeaked = 0;
  let refused = 0;
  for (let i = 0; i < WRONG_TOKENS; i++) {
    const token = i % 4 === 0 ? '' : i % 4 === 1 ? channel.token.slice(0, -1) : i % 4 === 2 ? `${channel.token}x` : randomBytes(24).toString('base64url');
    const code = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`${relay.url.replace(/^http/, 'ws')}${TUNNEL_PATH}`);
      const timer = setTimeout(() => ws.terminate(), 3000);
      ws.on('open', () => ws.send(encodeMessage({ type: 'subscribe', channel: channel.id, token, after: 0 })));
      ws.on('message', (data, isBinary) => {
        // Events travel as binary frames (a single one as JSON from older relays).
        if (isBinary || /"type":"events?"/.test(String(data))) eventsLeaked++;
      });
      ws.on('close', (closeCode) => {
        clearTimeout(timer);
        resolve(closeCode);
      });
      ws.on('error', () => undefined);
    });
    if (code === 4401) refused++;
  }
  console.log(`hostile input vs relay tunnel: ${WRONG_TOKENS} wrong tokens, ${WRONG_TOKENS - refused} misbehaved`);
  assert.equal(eventsLeaked, 0);
  assert.equal(refused, WRONG_TOKENS);

  assert.equal(relay.child.exitCode, null, 'relay is still running');
  const health = await fetch(`${relay.url}/healthz`);
  assert.equal(health.status, 200);
  const growth = (await residentBytes(pid)) - before;
  assert.ok(growth < MAX_RSS_GROWTH_BYTES, `relay grew by ${Math.round(growth / 2 ** 20)} MiB`);
});
