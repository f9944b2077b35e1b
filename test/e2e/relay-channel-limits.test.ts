import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { request as httpRequest } from 'node:http';
import { request } from 'undici';
import { expectUsageErrors, runCli, tempDir } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { post, startRelayProcess } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

interface Created {
  status: number;
  retryAfter: unknown;
  body: { id?: string; error?: string };
}

async function create(relayUrl: string): Promise<Created> {
  const response = await request(`${relayUrl}/channels`, { method: 'POST' });
  return { status: response.statusCode, retryAfter: response.headers['retry-after'], body: (await response.body.json()) as Created['body'] };
}

/** POST /channels from another loopback address (127.0.0.0/8 is all loopback on Linux). */
function createFrom(localAddress: string, relayUrl: string): Promise<Created> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${relayUrl}/channels`, { method: 'POST', localAddress, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body: JSON.parse(text) as Created['body'] }));
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

test('POST /channels: a burst per address, then 429 with Retry-After; other addresses unaffected; recovers after the refill', { timeout: 20_000 }, async (t) => {
  const refillMs = 400;
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'), ['--channel-burst', '3', '--channel-refill', `${refillMs}ms`]);
  for (let n = 1; n <= 3; n++) assert.equal((await create(relay.url)).status, 201, `channel ${n} of the burst`);
  const refused = await create(relay.url);
  const refusedAt = Date.now();
  assert.equal(refused.status, 429);
  assert.match(String(refused.retryAfter), /^[1-9]\d*$/, 'Retry-After in whole seconds');
  assert.match(refused.body.error ?? '', /^too many channels created from this address; retry in \d+ s$/);
  assert.equal(refused.body.id, undefined);

  assert.equal((await createFrom('127.0.0.2', relay.url)).status, 201, 'another address has its own bucket');

  // Recovery: one token comes back after refillMs. Bounded in count and time.
  let status = 429;
  for (let attempt = 0; attempt < 100 && status === 429 && Date.now() - refusedAt < 10_000; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    status = (await create(relay.url)).status;
  }
  assert.equal(status, 201, 'a channel again once the bucket refilled');
  assert.ok(Date.now() - refusedAt >= refillMs * 0.5, 'not before the refill');
  assert.equal((await create(relay.url)).status, 429, 'one token back, not a whole burst');
  assert.equal((await request(`${relay.url}/healthz`)).statusCode, 200, 'still up');
});

test('--max-channels: 503 with a clear error past the cap, even for concurrent creations, and still after a restart', { timeout: 30_000 }, async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const args = ['--max-channels', '3', '--channel-burst', '100'];
  const first = await startRelayProcess(t, dataDir, args);
  const results = await Promise.all(Array.from({ length: 8 }, () => create(first.url)));
  const statuses = results.map((result) => result.status).sort();
  assert.deepEqual(statuses, [201, 201, 201, 503, 503, 503, 503, 503], 'exactly the cap, concurrent creations included');
  const full = results.find((result) => result.status === 503);
  assert.equal(full?.body.error, 'the relay holds its maximum of 3 channels; ask its operator');
  assert.equal(full?.retryAfter, undefined, 'waiting does not help: no Retry-After');
  const kept = results.find((result) => result.status === 201)?.body.id as string;
  assert.equal(first.lines.filter((line) => (JSON.parse(line) as { type: string }).type === 'channels-full').length, 1, 'one line for the operator');
  await first.kill('SIGKILL');

  const second = await startRelayProcess(t, dataDir, args);
  assert.equal((await create(second.url)).status, 503, 'the count comes from what is on disk');
  assert.equal((await post(`${second.url}/c/${kept}`, '{}')).status, 202, 'existing channels still work');
  await second.kill('SIGKILL');

  const raised = await startRelayProcess(t, dataDir, ['--max-channels', '4']);
  assert.equal((await create(raised.url)).status, 201, 'the operator raised the cap');
  assert.equal((await create(raised.url)).status, 503);
});

test('listen --relay on a full relay exits 2 with the relay\'s reason', { timeout: 20_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'), ['--max-channels', '1']);
  assert.equal((await create(relay.url)).status, 201);
  const result = await runCli(['listen', '--port', '0', '--no-save', '--relay', relay.url], { cwd: dir, timeoutMs: 15_000 });
  assert.equal(result.code, 2, result.stderr);
  assert.match(result.stderr, /refused a new channel \(HTTP 503\): the relay holds its maximum of 1 channels; ask its operator/);
});

test('--max-channels on Redis is shared by every instance, counts channels made before the count existed, and survives restarts', { ...needs('redis-server'), timeout: 30_000 }, async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const args = ['--redis', redis.url, '--max-channels', '3', '--channel-burst', '100'];
  const a = await startRelayProcess(t, path.join(dir, 'a'), args);
  const b = await startRelayProcess(t, path.join(dir, 'b'), args);
  assert.equal((await create(a.url)).status, 201);
  assert.equal((await create(b.url)).status, 201);
  assert.equal((await create(a.url)).status, 201);
  assert.equal((await create(b.url)).status, 503, 'the third was made on the other instance');
  assert.equal((await create(a.url)).status, 503);
  await Promise.all([a.kill('SIGKILL'), b.kill('SIGKILL')]);

  // A Redis used by an older relay has channels but no count: the count starts from them.
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());
  assert.equal(await client.get('fe-webhooks:channel-count'), '3');
  await client.del('fe-webhooks:channel-count');
  const restarted = await startRelayProcess(t, path.join(dir, 'a'), args);
  assert.equal((await create(restarted.url)).status, 503);
  assert.equal(await client.get('fe-webhooks:channel-count'), '3', 'the refused creation gave its slot back');
});

test('the limit flags refuse values that mean no limit', async () => {
  await expectUsageErrors([
    [['relay', '--port', '0', '--channel-refill', '0'], /Invalid --channel-refill: expected a duration above 0/],
    [['relay', '--port', '0', '--max-channels', '0'], /--max-channels/],
    [['relay', '--port', '0', '--channel-burst', '-1'], /--channel-burst/],
  ]);
});
