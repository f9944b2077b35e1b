import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test, type TestContext } from 'node:test';
import { REPO_ROOT, cleanEnv, tempDir } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { numbersAt, postStream, waitUntil } from '../helpers/event-stream.js';
import { createTestChannel, forwardTo, openTestTunnel, post, startRelayProcess } from '../helpers/relay.js';



// tsx by its resolved URL, so the child needs no particular working folder.
const TSX = import.meta.resolve('tsx');

async function startTunnelChild(t: TestContext, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', TSX, path.join(REPO_ROOT, 'test/helpers/tunnel-child.ts')], {
    cwd: await tempDir(t),
    env: cleanEnv(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const states: string[] = [];
  createInterface({ input: child.stdout }).on('line', (line) => states.push((JSON.parse(line) as { state: string }).state));
  return { child, exited, states };
}

test('SIGKILL of the relay mid-stream loses no event it acknowledged', async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const relay = await startRelayProcess(t, dataDir);
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  const { tunnel } = openTestTunnel(t, relay.url, channel, { handler: forwardTo(app.url) });
  await tunnel.ready;
  let killed = false;
  const streaming = postStream(channel.url, 1, 400, 4, () => killed);
  await waitUntil('100 deliveries', () => app.requests.length >= 100);
  await relay.kill('SIGKILL');
  killed = true;
  const acknowledged = await streaming;
  const restarted = await startRelayProcess(t, dataDir, ['--port', String(relay.port)]);
  const after = await postStream(channel.url, 1001, 1010, 1);
  assert.equal(after.size, 10, 'the restarted relay takes events on the same URL');
  for (const n of after) acknowledged.add(n);
  await waitUntil('every acknowledged event at the app', () => [...acknowledged].every((n) => numbersAt(app).includes(n)));
  const seen = numbersAt(app);
  assert.equal(new Set(seen).size, seen.length, 'the listener forwarded no event twice');
  assert.ok(restarted.url.endsWith(`:${relay.port}`));
});

test('a killed and restarted listener resumes without loss; only the event in flight may repeat', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'data'));
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  const env = { RELAY_URL: relay.url, CHANNEL: channel.id, TOKEN: channel.token, APP_URL: app.url, CURSOR_FILE: path.join(dir, 'cursor') };
  const first = await startTunnelChild(t, env);
  await waitUntil('the first listener to connect', () => first.states.includes('connected'));
  const streaming = postStream(channel.url, 1, 150, 2);
  await waitUntil('40 deliveries', () => app.requests.length >= 40);
  first.child.kill('SIGKILL');
  await first.exited;
  const countAtKill = app.requests.length;
  const acknowledged = await streaming;
  assert.equal(acknowledged.size, 150, 'without a listener the relay still answers 202');
  const second = await startTunnelChild(t, env);
  await waitUntil('all 150 at the app', () => new Set(numbersAt(app)).size === 150);
  const seen = numbersAt(app);
  const repeats = seen.filter((n, i) => seen.indexOf(n) !== i);
  // SIGKILL between the app's answer and the cursor write can repeat that one event; never more.
  assert.ok(repeats.length <= 1, `repeated: ${repeats.join(',')}`);
  if (repeats.length === 1) assert.equal(repeats[0], seen[countAtKill - 1]);
  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0);
});

test('while the app is down the listener keeps the event and delivers it when the app is back', async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'));
  let appUp = false;
  const app = await startReceiver(t);
  // Down: the forward finds nothing listening (an app's own 502 would be its answer).
  const gone = await startReceiver(t);
  await gone.close();
  const channel = await createTestChannel(relay.url);
  const downs: number[] = [];
  const { tunnel } = openTestTunnel(t, relay.url, channel, {
    handler: (request) => forwardTo(appUp ? app.url : gone.url)(request),
    onStatus: (status) => void (status.state === 'app-down' && downs.push(status.seq)),
  });
  await tunnel.ready;
  const first = await post(channel.url, JSON.stringify({ n: 1 }));
  assert.equal(first.status, 502, 'the sender learns the app is down (FrontEngine will retry)');
  await waitUntil('a few retries', () => downs.length >= 3);
  appUp = true;
  assert.equal((await post(channel.url, JSON.stringify({ n: 2 }))).status, 200);
  const delivered = app.requests.map((r) => (JSON.parse(r.body.toString()) as { n: number }).n);
  assert.deepEqual(delivered, [1, 2], 'kept, then delivered in order');
});
