#!/usr/bin/env node
// Development aid (run.mjs skips `_` files): CPU time per event of every process on the
// relay path (load generator, relay, listen, app) and of the direct path, from
// /proc/<pid>/stat, so a change can be judged on a shared, noisy machine.
// Also: voluntary context switches per event (how often each process slept and woke).
// Usage: npm run build && node bench/_relay-cpu.mjs [events]   (RUN_SECONDS=4: for a time, with the rate)
// On a shared machine, `chrt -f 10 node bench/_relay-cpu.mjs` keeps other work from skewing an A/B comparison.
//   env BENCH_NO_SAVE=1 (listen --no-save), CPU_FIELD=user|sys, NODE_FLAGS="--cpu-prof ..."
//   (node flags for the relay and listen processes).
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { composeBody } from '../dist/events/compose.js';
import { sign } from '../dist/signing/index.js';
import { APP_SOURCE, createChannel, listenRelayArgs, startRelay } from './_relay-process.mjs';

const EVENTS = Number(process.argv[2] ?? 20000);
const CONNECTIONS = 16;
const SECRET = 'bench-secret';
const BODY = composeBody('MessageSent', { seed: 1 }).body;
const HEADERS = { 'content-type': 'application/json', 'x-webhook-signature': sign(BODY, SECRET) };
const TICK_MS = 10;

async function cpuMs(pid) {
  const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1].split(' ');
  // CPU_FIELD=user|sys: only that part (system time shows the cost of syscalls and wake-ups).
  if (process.env.CPU_FIELD === 'user') return Number(fields[11]) * TICK_MS;
  if (process.env.CPU_FIELD === 'sys') return Number(fields[12]) * TICK_MS;
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
}
/** Voluntary context switches over all threads: how often the process went to sleep (a wake-up each). */
async function wakeups(pid) {
  let total = 0;
  for (const task of await readdir(`/proc/${pid}/task`)) {
    const status = await readFile(`/proc/${pid}/task/${task}/status`, 'utf8').catch(() => '');
    total += Number(/voluntary_ctxt_switches:\s+(\d+)/.exec(status)?.[1] ?? 0);
  }
  return total;
}
const selfMs = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

async function firstLine(child) {
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });
}

/** Env RUN_SECONDS: run for that long instead of a count (autocannon's count mode ends on a whole second: no rate). */
const SECONDS = Number(process.env.RUN_SECONDS ?? 0);

function load(url, amount) {
  const size = SECONDS > 0 ? { duration: SECONDS } : { amount };
  return new Promise((resolve, reject) =>
    autocannon({ url, method: 'POST', headers: HEADERS, body: BODY, connections: CONNECTIONS, ...size }, (e, r) =>
      e ? reject(e) : resolve(r),
    ),
  );
}

async function measure(label, url, pids) {
  const before = await Promise.all(pids.map(([, pid]) => cpuMs(pid)));
  const wakeBefore = await Promise.all(pids.map(([, pid]) => wakeups(pid)));
  const self0 = selfMs();
  const t0 = performance.now();
  const result = await load(url, EVENTS);
  const wall = performance.now() - t0;
  const events = SECONDS > 0 ? result['2xx'] : EVENTS;
  const after = await Promise.all(pids.map(([, pid]) => cpuMs(pid)));
  const wakeAfter = await Promise.all(pids.map(([, pid]) => wakeups(pid)));
  const per = (ms) => ((ms * 1000) / events).toFixed(1);
  const parts = pids.map(([name], i) => `${name} ${per(after[i] - before[i])}`);
  parts.unshift(`loadgen ${per(selfMs() - self0)}`);
  const total = pids.reduce((s, _, i) => s + after[i] - before[i], selfMs() - self0);
  const wakes = pids.map(([name], i) => `${name} ${((wakeAfter[i] - wakeBefore[i]) / events).toFixed(2)}`);
  const rate = Math.round(SECONDS > 0 ? result['2xx'] / result.duration : (events / wall) * 1000);
  console.log(
    `${label}: ${rate} ev/s, 2xx ${result['2xx']}, µs CPU/event: ${parts.join(', ')}, total ${per(total)} ` +
      `(wall ${per(wall)} µs/event); sleeps/event: ${wakes.join(', ')}`,
  );
}

const work = await mkdtemp(path.join(tmpdir(), 'fe-relay-cpu-'));
const children = [];
try {
  const app = spawn(process.execPath, ['--input-type=module', '-e', APP_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(app);
  const appUrl = JSON.parse(await firstLine(app)).url;
  const NODE_FLAGS = process.env.NODE_FLAGS ? process.env.NODE_FLAGS.split(' ') : [];
  // RELAY_DIR_BASE: put the relay's log on another filesystem (e.g. tmpfs, to see its syncs' share).
  const relayBase = process.env.RELAY_DIR_BASE ? await mkdtemp(path.join(process.env.RELAY_DIR_BASE, 'fe-relay-')) : work;
  const relay = await startRelay(path.join(relayBase, 'relay'), [], NODE_FLAGS);
  children.push(relay.child);
  const channel = await createChannel(relay.url);
  await mkdir(path.join(work, 'listen'));
  const listen = spawn(
    process.execPath,
    [...NODE_FLAGS, ...listenRelayArgs({ relayUrl: relay.url, channel, appUrl, secret: SECRET, concurrency: CONNECTIONS })],
    { cwd: path.join(work, 'listen'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(listen);
  await firstLine(listen);
  await load(`${appUrl}/warm`, 2000);
  await load(`${channel.url}/warm`, 2000);
  await measure('direct', `${appUrl}/webhooks`, [['app', app.pid]]);
  await measure('relay ', `${channel.url}/webhooks`, [['relay', relay.child.pid], ['listen', listen.pid], ['app', app.pid]]);
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await rm(work, { recursive: true, force: true });
}
