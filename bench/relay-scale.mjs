#!/usr/bin/env node
// One relay shared by a team: many channels and listeners on one instance, under the
// common 1,024 open-files limit (the relay runs under `ulimit -n 1024`).
//   RESULT relay-scale-fds-<n>          <descriptors> with n channels, each with one event (n = 1k, 5k, 10k)
//   RESULT relay-scale-rss-mb-<n>       <relay RSS> at the same points
//   RESULT relay-scale-kb-per-channel   <(RSS at 10k − RSS at 1k) / 9k channels>        (goal < 10)
//   RESULT relay-scale-kb-per-idle-channel <heap and buffers per loaded, touched, idle channel> (goal < 10)
//   RESULT relay-scale-idle-cpu-pct     <relay CPU, % of one core, 1,000 listeners connected and idle>
//   RESULT relay-scale-post-p50-ms / relay-scale-post-p99-ms <a post answered by its listener, 1,000 connected>
//   RESULT relay-scale-fairness         <quiet channel's p99 while another floods at its rate limit / alone> (goal <= 2)
//   RESULT relay-scale-startup-ms       <restart with 10,000 channels until ready>     (goal < 2000)
//   RESULT relay-scale-sweep-stall-ms   <longest event-loop stall of a retention pass over 10,000 open logs> (goal < 50)
// Usage: npm run build && node bench/relay-scale.mjs [--quick]
//   --quick: 100/200/300 channels and 50 listeners, to see that it runs (numbers mean little).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'undici';
import { memoryCursor } from '../dist/tunnel/cursor-file.js';
import { openTunnel } from '../dist/tunnel/client.js';
import { forEachLimited } from '../dist/util/for-each-limited.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/fe-webhooks.js');
const QUICK = process.argv.includes('--quick');
const STEPS = QUICK ? [100, 200, 300] : [1_000, 5_000, 10_000];
const LISTENERS = QUICK ? 50 : 1_000;
const IDLE_CPU_SECONDS = QUICK ? 2 : 10;
const LATENCY_POSTS = QUICK ? 100 : 500;
const FAIRNESS_POSTS = QUICK ? 60 : 200;
/** The quiet channel posts this often: well under its rate limit. */
const FAIRNESS_GAP_MS = 20;
const FLOOD_CONNECTIONS = 8;
/** The relay's default --rate-limit: what one channel may sustain. */
const FLOOD_RATE_PER_SECOND = 200;
const OPEN_FILES_LIMIT = 1024;
/**
 * 1,000 listeners are 1,000 sockets, more than a 1,024 limit leaves after the log files'
 * share (the relay says so at start): that phase runs under this one.
 */
const LISTENERS_OPEN_FILES_LIMIT = 2048;
/** /proc/<pid>/stat counts CPU time in clock ticks of 10 ms (USER_HZ = 100 on Linux). */
const CLOCK_TICK_MS = 10;
const BODY = '{"event":"MessageSent","data":{"id":"msg_1","text":"hello"}}';
const dispatcher = new Agent({ connections: 64 });

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const descriptors = (pid) => readdirSync(`/proc/${pid}/fd`).length;
const rssMb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024;
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) * CLOCK_TICK_MS;
}

/** The real relay under `ulimit -n 1024` (exec: the PID is the relay's), ready once it printed its ready line. */
async function startRelay(dataDir, openFilesLimit) {
  const started = performance.now();
  const limits = ['--channel-burst', '100000', '--max-channels', '100000'];
  const command = [process.execPath, BIN, 'relay', '--port', '0', '--data-dir', dataDir, '--json', ...limits];
  const shell = ['-c', `ulimit -n ${openFilesLimit} && exec "$@"`, 'relay', ...command];
  const child = spawn('bash', shell, { stdio: ['ignore', 'pipe', 'inherit'] });
  const ready = await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const value = JSON.parse(line);
      if (value.type === 'ready') resolve(value);
    });
  });
  const stop = () => (child.kill('SIGTERM'), new Promise((r) => (child.exitCode !== null ? r() : child.once('exit', r))));
  return { ...ready, readyMs: performance.now() - started, pid: child.pid, stop };
}

async function post(url, body = BODY) {
  const started = performance.now();
  const response = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json' }, dispatcher });
  await response.body.text();
  return { status: response.statusCode, ms: performance.now() - started };
}

async function createChannels(relayUrl, count) {
  const channels = [];
  await forEachLimited(Array.from({ length: count }, (_, i) => i), 16, async () => {
    const response = await request(`${relayUrl}/channels`, { method: 'POST', dispatcher });
    if (response.statusCode !== 201) throw new Error(`POST /channels → ${response.statusCode}`);
    channels.push(await response.body.json());
  });
  return channels;
}

/** Lets the relay settle (GC, cursor writes) before a reading. */
const settle = (ms = 1_000) => new Promise((resolve) => setTimeout(resolve, ms));

const dataDir = path.join(await mkdtemp(path.join(tmpdir(), 'fe-relay-scale-')), 'data');
let relay = await startRelay(dataDir, OPEN_FILES_LIMIT);
try {
  // Descriptors and memory as channels grow, each taking one event (its log opened).
  const channels = [];
  const rss = {};
  for (const step of STEPS) {
    const fresh = await createChannels(relay.url, step - channels.length);
    channels.push(...fresh);
    await forEachLimited(fresh, 32, async (channel) => {
      const { status } = await post(`${relay.url}/c/${channel.id}`);
      if (status !== 202) throw new Error(`post → ${status}`);
    });
    await settle();
    rss[step] = rssMb(relay.pid);
    const label = step >= 1_000 ? `${step / 1_000}k` : String(step);
    console.log(
      `RESULT relay-scale-fds-${label} ${descriptors(relay.pid)} descriptors with ${step} channels, one event each ` +
        `(relay under ulimit -n ${OPEN_FILES_LIMIT})`,
    );
    console.log(`RESULT relay-scale-rss-mb-${label} ${rss[step].toFixed(1)} MB RSS with ${step} channels`);
  }
  const [low, , high] = STEPS;
  // Restart with every channel on disk, under the limit the listeners need.
  await relay.stop();
  relay = await startRelay(dataDir, LISTENERS_OPEN_FILES_LIMIT);
  console.log(
    `RESULT relay-scale-startup-ms ${Math.round(relay.readyMs)} ms from spawn to ready with ${channels.length} channels (goal < 2000)`,
  );
  const kbPerChannel = ((rss[high] - rss[low]) * 1024) / (high - low);
  console.log(
    `RESULT relay-scale-kb-per-channel ${kbPerChannel.toFixed(2)} KB RSS per channel ` +
      `((RSS at ${high} − RSS at ${low}) / ${high - low}, recent caches still held; goal < 10)`,
  );

  // Many listeners connected through the library's openTunnel, all idle, then posts answered by them.
  const listened = channels.slice(0, LISTENERS);
  const tunnels = [];
  await Promise.all(
    listened.map(
      (channel) =>
        new Promise((resolve) => {
          const tunnel = openTunnel({
            relayUrl: new URL(relay.url),
            channel: channel.id,
            token: channel.token,
            cursor: memoryCursor(),
            handler: async () => ({ status: 200, headers: [['content-type', 'application/json']], body: Buffer.from('{"ok":true}') }),
            onStatus: (status) => status.state === 'connected' && resolve(),
          });
          tunnels.push(tunnel);
        }),
    ),
  );
  // Their backlogs (each channel's one event) are delivered first.
  await settle(3_000);
  const cpuBefore = cpuMs(relay.pid);
  const idleStarted = performance.now();
  await settle(IDLE_CPU_SECONDS * 1_000);
  const idlePct = ((cpuMs(relay.pid) - cpuBefore) / (performance.now() - idleStarted)) * 100;
  console.log(
    `RESULT relay-scale-idle-cpu-pct ${idlePct.toFixed(2)} % of one core, ${LISTENERS} listeners connected and idle ` +
      `for ${IDLE_CPU_SECONDS} s (their heartbeats included), ${descriptors(relay.pid)} descriptors ` +
      `(relay under ulimit -n ${LISTENERS_OPEN_FILES_LIMIT})`,
  );
  const latencies = [];
  for (let i = 0; i < LATENCY_POSTS; i++) {
    const channel = listened[(i * 7919) % listened.length];
    const { status, ms } = await post(`${relay.url}/c/${channel.id}`);
    if (status !== 200) throw new Error(`post with a listener → ${status}`);
    latencies.push(ms);
  }
  console.log(
    `RESULT relay-scale-post-p50-ms ${percentile(latencies, 50).toFixed(2)} ms, a post answered by its channel's listener ` +
      `while ${LISTENERS} are connected (${LATENCY_POSTS} posts, one at a time)`,
  );
  console.log(`RESULT relay-scale-post-p99-ms ${percentile(latencies, 99).toFixed(2)} ms (same posts)`);
  await Promise.all(tunnels.map((tunnel) => tunnel.close()));

  // Fairness: a quiet channel's latency alone, then while another floods at its rate limit.
  const [quiet, flooded] = channels.slice(-2);
  const quietRun = async () => {
    const times = [];
    for (let i = 0; i < FAIRNESS_POSTS; i++) {
      times.push((await post(`${relay.url}/c/${quiet.id}`)).ms);
      await settle(FAIRNESS_GAP_MS);
    }
    return percentile(times, 99);
  };
  const alone = await quietRun();
  let flooding = true;
  let accepted = 0;
  let refused = 0;
  // Paced at the channel's rate limit (the relay's default, 200 events/s), over several connections.
  const everyMs = (FLOOD_CONNECTIONS * 1_000) / FLOOD_RATE_PER_SECOND;
  const floods = Array.from({ length: FLOOD_CONNECTIONS }, async (_, connection) => {
    let due = performance.now() + (connection * everyMs) / FLOOD_CONNECTIONS;
    while (flooding) {
      await settle(Math.max(0, due - performance.now()));
      due += everyMs;
      const { status } = await post(`${relay.url}/c/${flooded.id}`);
      if (status === 202) accepted++;
      else if (status === 429) refused++;
    }
  });
  await settle(1_000);
  accepted = 0;
  refused = 0;
  const floodStarted = performance.now();
  const during = await quietRun();
  const floodSeconds = (performance.now() - floodStarted) / 1_000;
  flooding = false;
  await Promise.all(floods);
  console.log(
    `RESULT relay-scale-fairness ${(during / alone).toFixed(2)} quiet channel p99 ${during.toFixed(2)} ms while another floods ` +
      `(${Math.round(accepted / floodSeconds)}/s stored, ${Math.round(refused / floodSeconds)}/s answered 429) ` +
      `vs ${alone.toFixed(2)} ms alone (goal <= 2)`,
  );

  await relay.stop();
  relay = undefined;

  // The retention pass and the memory of idle channels: the relay's own store on the
  // same folder, in a fresh process (the relay runs the pass once a minute).
  const script = path.join(ROOT, 'bench/_relay-scale-store.mjs');
  const child = spawn(process.execPath, ['--expose-gc', script, dataDir], { stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (chunk) => process.stdout.write(chunk));
  const code = await new Promise((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`bench/_relay-scale-store.mjs exited ${code}`);
} finally {
  await relay?.stop();
  await dispatcher.close();
  await rm(path.dirname(dataDir), { recursive: true, force: true });
}
