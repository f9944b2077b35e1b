import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { forEachLimited } from '../../src/util/for-each-limited.js';
import type { TunnelRequest } from '../../src/tunnel/client.js';
import { tempDir } from '../helpers/cli.js';
import { cpuTimeMs, watchDescriptors } from '../helpers/descriptors.js';
import { createTestChannel, openTestTunnel, post, startRelayProcess } from '../helpers/relay.js';
import { writeChannelFolders } from '../helpers/relay-fixture.js';

// A shared relay under the open-files limit services commonly get (1,024): channels cost
// no descriptor of their own, so it serves many more channels than that.
const OPEN_FILES_LIMIT = 1024;
/** The relay's own log files (128 slots, each with at most one short extra), its sockets and Node: far from the limit. */
const DESCRIPTORS_CEILING = 700;

type Channel = { id: string; token: string; url: string };

async function createChannels(relayUrl: string, count: number): Promise<Channel[]> {
  const channels: Channel[] = [];
  await forEachLimited(Array.from({ length: count }, (_, i) => i), 16, async () => {
    channels.push(await createTestChannel(relayUrl));
  });
  return channels;
}

const bodyFor = (id: string): string => `{"event":"MessageSent","channel":"${id}","pad":"${'x'.repeat(200)}"}`;

/** Posts one event to each channel, `concurrency` at once, watching the relay's descriptors: how many got each status, and the peak. */
async function postToEach(relayPid: number, channels: Channel[], concurrency: number): Promise<{ statuses: Array<[number, number]>; peak: number }> {
  const descriptors = watchDescriptors(relayPid);
  const statuses = new Map<number, number>();
  await forEachLimited(channels, concurrency, async (channel) => {
    const { status } = await post(channel.url, bodyFor(channel.id));
    statuses.set(status, (statuses.get(status) ?? 0) + 1);
  });
  return { statuses: [...statuses], peak: descriptors.stop() };
}

test(`under ulimit -n ${OPEN_FILES_LIMIT}: 3,000 channels each take an event (all 202), and none is lost on restart`, { timeout: 300_000 }, async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  // The creation limit per address is for strangers; this test is one address creating many.
  const args = ['--channel-burst', '5000'];
  const relay = await startRelayProcess(t, dataDir, args, { openFilesLimit: OPEN_FILES_LIMIT });
  // --max-channels 10,000 with a listener each would need more than 1,024: the operator is told at start.
  const warning = relay.lines.map((line) => JSON.parse(line) as { type: string; limit?: number; needed?: number }).find((entry) => entry.type === 'descriptor-limit');
  assert.equal(warning?.limit, OPEN_FILES_LIMIT);
  assert.ok((warning?.needed ?? 0) > 10_000);

  const channels = await createChannels(relay.url, 3_000);
  const { statuses, peak } = await postToEach(relay.child.pid as number, channels, 64);
  t.diagnostic(`peak descriptors while posting to 3,000 channels: ${peak}`);
  assert.deepEqual(statuses, [[202, 3_000]]);
  assert.ok(peak < DESCRIPTORS_CEILING, `peak descriptors ${peak}`);

  // A crash, not a polite stop: every 202 was on disk before it was sent.
  await relay.kill('SIGKILL');
  const again = await startRelayProcess(t, dataDir, args, { openFilesLimit: OPEN_FILES_LIMIT });
  const afterRestart = watchDescriptors(again.child.pid as number);
  const seqs = new Map<string, number>();
  await forEachLimited(channels, 64, async (channel) => {
    const { status, headers } = await post(`${again.url}/c/${channel.id}`, '{"event":"MessageSent","second":true}');
    seqs.set(`${status} #${String(headers['x-fe-webhooks-seq'])}`, (seqs.get(`${status} #${String(headers['x-fe-webhooks-seq'])}`) ?? 0) + 1);
  });
  assert.ok(afterRestart.stop() < DESCRIPTORS_CEILING);
  // Each channel's second event is #2: its first survived the crash.
  assert.deepEqual([...seqs], [['202 #2', 3_000]]);

  // And the stored bytes are the ones posted: a sample of channels, through real listeners.
  const sample = channels.filter((_, i) => i % 150 === 0);
  const firsts = await Promise.all(
    sample.map(
      (channel) =>
        new Promise<TunnelRequest>((resolve) => {
          openTestTunnel(t, again.url, channel, {
            handler: async (request) => {
              if (request.source.seq === 1) resolve(request);
              return { status: 200, headers: [], body: Buffer.alloc(0) };
            },
          });
        }),
    ),
  );
  firsts.forEach((first, i) => assert.equal(first.body.toString(), bodyFor((sample[i] as Channel).id)));
  // Stopped before its folder is removed (closing listeners makes it write cursors).
  await again.kill();
});

test(`under ulimit -n ${OPEN_FILES_LIMIT}: 300 listeners connected through one relay all receive their events`, { timeout: 180_000 }, async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'), ['--channel-burst', '1000'], { openFilesLimit: OPEN_FILES_LIMIT });
  const channels = await createChannels(relay.url, 300);
  const received = new Map<string, Buffer>();
  // Each tunnel resolves once connected: the posts below go to channels with a listener.
  await Promise.all(
    channels.map(
      (channel) =>
        new Promise<void>((resolve) => {
          openTestTunnel(t, relay.url, channel, {
            handler: async (request) => {
              received.set(channel.id, request.body);
              return { status: 200, headers: [['content-type', 'application/json']], body: Buffer.from(`{"answeredBy":"${channel.id}"}`) };
            },
            onStatus: (status) => status.state === 'connected' && resolve(),
          });
        }),
    ),
  );
  // Connected and idle: the relay only answers heartbeats (on one timer for all listeners).
  const pid = relay.child.pid as number;
  const idleFrom = cpuTimeMs(pid);
  const idleStarted = performance.now();
  await new Promise((resolve) => setTimeout(resolve, 4_000));
  const idlePercent = ((cpuTimeMs(pid) - idleFrom) / (performance.now() - idleStarted)) * 100;
  t.diagnostic(`relay CPU with 300 idle listeners: ${idlePercent.toFixed(1)} % of one core`);
  assert.ok(idlePercent < 10, `${idlePercent} % of a core at idle`);
  const descriptors = watchDescriptors(pid);
  const wrong: string[] = [];
  await forEachLimited(channels, 32, async (channel) => {
    const answer = await post(channel.url, bodyFor(channel.id));
    // Answered as with one listener: the app's own status and body, through its tunnel.
    if (answer.status !== 200 || answer.text !== `{"answeredBy":"${channel.id}"}`) wrong.push(`${channel.id}: ${answer.status} ${answer.text}`);
  });
  const peak = descriptors.stop();
  t.diagnostic(`peak descriptors with 300 listeners connected: ${peak}`);
  assert.deepEqual(wrong, []);
  assert.equal(received.size, 300);
  for (const channel of channels) assert.equal(received.get(channel.id)?.toString(), bodyFor(channel.id));
  assert.ok(peak < DESCRIPTORS_CEILING, `peak descriptors ${peak}`);
  await relay.kill();
});

test('a relay holding 10,000 channels is ready within 2 s of starting, and serves them', { timeout: 180_000 }, async (t) => {
  const dataDir = path.join(await tempDir(t), 'data');
  const ids = await writeChannelFolders(dataDir, 10_000);
  // Best of three starts: a busy machine may slow one, the relay's own work shows in all.
  let fastestMs = Number.POSITIVE_INFINITY;
  for (let start = 0; start < 3 && fastestMs >= 2_000; start++) {
    const started = performance.now();
    const relay = await startRelayProcess(t, dataDir, [], { openFilesLimit: OPEN_FILES_LIMIT });
    fastestMs = Math.min(fastestMs, performance.now() - started);
    // Every channel was loaded: the last one written takes its second event.
    const { status, headers } = await post(`${relay.url}/c/${ids.at(-1) as string}`, '{}');
    assert.equal(status, 202);
    assert.equal(headers['x-fe-webhooks-seq'], String(start + 2));
    await relay.kill('SIGTERM');
  }
  t.diagnostic(`ready in ${Math.round(fastestMs)} ms with 10,000 channels`);
  assert.ok(fastestMs < 2_000, `ready in ${Math.round(fastestMs)} ms`);
});

test('under a tighter ulimit -n 128 the log files take a smaller share: 200 channels each take an event', { timeout: 120_000 }, async (t) => {
  const relay = await startRelayProcess(t, path.join(await tempDir(t), 'data'), ['--channel-burst', '1000', '--max-channels', '200'], { openFilesLimit: 128 });
  const channels = await createChannels(relay.url, 200);
  const { statuses, peak } = await postToEach(relay.child.pid as number, channels, 16);
  t.diagnostic(`peak descriptors under ulimit -n 128: ${peak}`);
  assert.deepEqual(statuses, [[202, 200]]);
  assert.ok(peak < 128, `peak descriptors ${peak}`);
  await relay.kill();
});
