#!/usr/bin/env node
// Development aid (run.mjs skips `_` files): sequential added latency through relay + listen,
// with each side's data on a chosen filesystem, alternating rounds, so a change to the
// round trip can be judged on a shared machine. p50 of `SAMPLES` posts, per round.
// Usage: npm run build && node bench/_relay-p50.mjs [rounds]
//   env RELAY_DIR_BASE / LISTEN_DIR_BASE (e.g. /dev/shm: that side's syncs cost nothing).
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { request } from 'undici';
import { composeBody } from '../dist/events/compose.js';
import { sign } from '../dist/signing/index.js';
import { APP_SOURCE, createChannel, listenRelayArgs, startRelay } from './_relay-process.mjs';

const ROUNDS = Number(process.argv[2] ?? 3);
const SAMPLES = 400;
const SECRET = 'bench-secret';
const BODY = composeBody('MessageSent', { seed: 1 }).body;
const HEADERS = { 'content-type': 'application/json', 'x-webhook-signature': sign(BODY, SECRET) };

const firstLine = (child) =>
  new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`exited ${code}`)));
    createInterface({ input: child.stdout }).once('line', resolve);
  });

async function p50(url) {
  const samples = [];
  for (let i = 0; i < SAMPLES; i++) {
    const started = performance.now();
    const response = await request(url, { method: 'POST', headers: HEADERS, body: BODY });
    await response.body.dump();
    if (response.statusCode !== 200) throw new Error(`got ${response.statusCode}`);
    samples.push(performance.now() - started);
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const work = await mkdtemp(path.join(tmpdir(), 'fe-relay-p50-'));
const base = (env) => (process.env[env] ? mkdtemp(path.join(process.env[env], 'fe-p50-')) : mkdtemp(path.join(work, 'x-')));
const children = [];
try {
  const app = spawn(process.execPath, ['--input-type=module', '-e', APP_SOURCE], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(app);
  const appUrl = JSON.parse(await firstLine(app)).url;
  const relay = await startRelay(path.join(await base('RELAY_DIR_BASE'), 'relay'));
  children.push(relay.child);
  const channel = await createChannel(relay.url);
  const listen = spawn(
    process.execPath,
    listenRelayArgs({ relayUrl: relay.url, channel, appUrl, secret: SECRET }),
    { cwd: await base('LISTEN_DIR_BASE'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(listen);
  await firstLine(listen);
  await p50(`${appUrl}/warm`);
  await p50(`${channel.url}/warm`);
  const rows = [];
  for (let round = 0; round < ROUNDS; round++) {
    const direct = await p50(`${appUrl}/webhooks`);
    const relayed = await p50(`${channel.url}/webhooks`);
    rows.push(`added ${(relayed - direct).toFixed(2)} ms (relay ${relayed.toFixed(2)}, direct ${direct.toFixed(2)})`);
  }
  console.log(rows.join('; '));
} finally {
  for (const child of children) child.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  await rm(work, { recursive: true, force: true });
}
