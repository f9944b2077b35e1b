import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { startBlackholeProxy } from '../helpers/blackhole-proxy.js';
import { tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { numbersAt, postStream, waitUntil } from '../helpers/event-stream.js';
import { post, startRelayProcess } from '../helpers/relay.js';

const DRILL_TIMEOUT_MS = 90_000;

interface RelayReady {
  publicUrl: string;
}


test('drill: SIGKILL the relay in the middle of a 2,000-event stream; every event it acknowledged reaches the app, none twice', { timeout: DRILL_TIMEOUT_MS }, async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  const relay = await startRelayProcess(t, dataDir);
  const app = await startReceiver(t);
  const listen = await startListenCli(t, ['--relay', relay.url, '--forward', `127.0.0.1:${app.port}/hooks`, '--no-save'], { cwd: dir });
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;

  let killed = false;
  let acknowledgedSoFar = 0;
  const streaming = postStream(publicUrl, 1, 2000, 8, () => killed, DRILL_TIMEOUT_MS / 2);
  // Kill once about half the stream has been acknowledged.
  const killer = (async () => {
    await waitUntil('1,000 deliveries', () => {
      acknowledgedSoFar = app.requests.length;
      return acknowledgedSoFar >= 1000;
    }, DRILL_TIMEOUT_MS / 2);
    await relay.kill('SIGKILL');
    killed = true;
  })();
  await killer;
  const acknowledged = await streaming;
  // The app had 1,000 when the kill came; a few answers may have died with the relay.
  assert.ok(acknowledged.size >= 900 && acknowledged.size < 2000, `killed mid-stream (${acknowledged.size} acknowledged)`);

  // Same data dir, same port: the listener reconnects by itself and resumes.
  await startRelayProcess(t, dataDir, ['--port', String(relay.port)]);
  const rest = await postStream(publicUrl, 2001, 2000 + (2000 - acknowledged.size), 8, undefined, DRILL_TIMEOUT_MS / 2);
  for (const n of rest) acknowledged.add(n);
  await waitUntil('every acknowledged event at the app', () => {
    const seen = new Set(numbersAt(app));
    return [...acknowledged].every((n) => seen.has(n));
  }, DRILL_TIMEOUT_MS / 2);
  const seen = numbersAt(app);
  assert.equal(new Set(seen).size, seen.length, 'one listener forwarded no event twice');
  assert.equal(listen.child.exitCode, null, 'listen rode out the relay crash');
});

test('drill: the link between listen and relay goes silent (no FIN, no RST); listen notices within seconds and recovers', { timeout: DRILL_TIMEOUT_MS }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const proxy = await startBlackholeProxy(t, relay.port);
  const app = await startReceiver(t);
  const listen = await startListenCli(t, ['--relay', `http://127.0.0.1:${proxy.port}`, '--forward', `127.0.0.1:${app.port}`, '--no-save'], { cwd: dir });
  const channelPath = new URL((listen.ready as unknown as RelayReady).publicUrl).pathname;
  // Senders reach the relay directly; only the listener's link goes through the proxy.
  const publicUrl = `${relay.url}${channelPath}`;
  assert.equal((await postStream(publicUrl, 1, 5, 1)).size, 5);
  await app.waitFor(5);

  assert.ok(proxy.cut() >= 1, 'the tunnel connection went silent');
  const cutAt = Date.now();
  // The relay stores each event first; while the dead link still looks connected it
  // waits for the app's answer and, past FrontEngine's 5 s, says 504: stored, and
  // FrontEngine would retry. Either way the event must arrive once the link is back.
  const statuses = await Promise.all(
    Array.from({ length: 10 }, (_, i) => post(publicUrl, JSON.stringify({ event: 'MessageSent', n: 6 + i })).then((a) => a.status)),
  );
  assert.ok(statuses.every((s) => [200, 202, 504].includes(s)), `answers during the cut: ${statuses.join(',')}`);
  await waitUntil('the events sent during the cut', () => app.requests.length >= 15, 30_000);
  const recoveredMs = Date.now() - cutAt;
  assert.ok(recoveredMs < 20_000, `recovered in ${recoveredMs} ms`);
  const seen = numbersAt(app);
  assert.deepEqual([...seen].sort((a, b) => a - b), Array.from({ length: 15 }, (_, i) => i + 1), 'none lost, none twice');
  // listen prints a request's line after the app has answered it: wait for the last ones.
  await waitUntil('a line per request from listen', () => listen.lines.length >= 15, 10_000);
});
