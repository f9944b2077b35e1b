#!/usr/bin/env node
// Load mode vs autocannon: `fe-webhooks send --count N --concurrency C` (generating and
// signing a unique event per request) against autocannon sending one fixed body, same
// sink, same number of connections, no pipelining, alternating in one run.
// Fairness: both start cold in a fresh process every round; the order alternates each
// round (autocannon first, then send first, …) so that neither always runs on a sink
// the other just warmed or a machine the other just loaded; best of ROUNDS for both.
// N (30,000) makes each run last a couple of seconds, so sustained throughput weighs more
// than JIT warm-up on both sides (with 20,000 a quiet run lasted ~1 s); BENCH_COUNT
// overrides it.
// Prints: RESULT send-vs-autocannon <ratio of best throughputs> <detail>, and each
// process's CPU time per request (start-up included) for where the gap comes from.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { composeBody } from '../dist/events/compose.js';
import { signedHeaders } from '../dist/delivery/request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/fe-webhooks.js');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const COUNT = Number(process.env.BENCH_COUNT ?? 30_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const CPU_PRELOAD = path.join(ROOT, 'bench/_cpu-at-exit.cjs');
const SECRET = 'bench-secret';

// The sink runs in its own process so that neither load generator shares its event loop.
const SINK = `
const http = require('node:http');
http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.end('ok'));
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });`;

function startSink() {
  const child = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.stdout.once('data', (chunk) => resolve({ child, url: `http://127.0.0.1:${String(chunk).trim()}/webhooks` }));
  });
}

async function runSend(url) {
  const args = [
    BIN,
    'send',
    'MessageSent',
    '--url',
    url,
    '--secret',
    SECRET,
    '--count',
    String(COUNT),
    '--concurrency',
    String(CONNECTIONS),
    '--json',
  ];
  const { result: summary, cpuUs } = await runChild(args);
  if (summary.failed > 0) throw new Error(`send saw ${summary.failed} failures`);
  return { rps: summary.rps, cpuUs };
}

// autocannon runs in a fresh process too, through its programmatic API, so that both
// generators start cold and neither shares an event loop with the bench itself.
const AUTOCANNON_RUNNER = `
import autocannon from 'autocannon';
const { url, body, headers, connections, amount } = JSON.parse(process.argv[1]);
// autocannon only notices the end on its 1-second tick, so its own duration is quantised
// to whole seconds: time from the start to the last response instead.
let answered = 0;
let lastAt = 0;
const startedAt = performance.now();
const instance = autocannon({ url, method: 'POST', body, headers, connections, pipelining: 1, amount }, (error, result) => {
  if (error) throw error;
  if (result.non2xx > 0 || result.errors > 0) throw new Error('autocannon saw ' + result.non2xx + ' non-2xx and ' + result.errors + ' ' +
    'errors');
  process.stdout.write(JSON.stringify({ rps: (answered / (lastAt - startedAt)) * 1000 }));
});
instance.on('response', () => {
  answered++;
  lastAt = performance.now();
});`;

async function runAutocannon(url) {
  const body = composeBody('MessageSent', { compact: true }).body;
  const headers = signedHeaders(body, { userAgent: 'autocannon', secret: SECRET });
  const options = JSON.stringify({ url, body, headers, connections: CONNECTIONS, amount: COUNT });
  const { result, cpuUs } = await runChild(['--input-type=module', '-e', AUTOCANNON_RUNNER, options]);
  return { rps: result.rps, cpuUs };
}

/** Runs a generator; resolves to its JSON stdout and its own CPU time (from the preload). */
function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-r', CPU_PRELOAD, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.stderr.on('data', (chunk) => (err += chunk));
    child.once('error', reject);
    child.once('close', (code) => {
      const cpu = /^BENCH_CPU_US (\d+)$/m.exec(err);
      process.stderr.write(err.replace(/^BENCH_CPU_US \d+\n/m, ''));
      if (code === 0) resolve({ result: JSON.parse(out), cpuUs: Number(cpu?.[1]) });
      else reject(new Error(`${args[0]} exited ${code}: ${out}`));
    });
  });
}

const sink = await startSink();
try {
  await runAutocannon(sink.url); // warm the sink up before anything is measured
  const ours = [];
  const theirs = [];
  for (let round = 0; round < ROUNDS; round++) {
    if (round % 2 === 0) {
      theirs.push(await runAutocannon(sink.url));
      ours.push(await runSend(sink.url));
    } else {
      ours.push(await runSend(sink.url));
      theirs.push(await runAutocannon(sink.url));
    }
  }
  const best = (runs) => Math.max(...runs.map((r) => r.rps));
  const ratio = best(ours) / best(theirs);
  const list = (runs) => runs.map((r) => Math.round(r.rps)).join('/');
  // CPU per request of the whole generator process, start-up included (lowest of the rounds).
  const cpuPerRequest = (runs) => (Math.min(...runs.map((r) => r.cpuUs)) / COUNT).toFixed(1);
  console.log(
    `RESULT send-vs-autocannon ${ratio.toFixed(2)} send=${Math.round(best(ours))}rps autocannon=${Math.round(best(theirs))}rps ` +
      `(rounds send ${list(ours)}, autocannon ${list(theirs)}; CPU per request incl. start-up send ${cpuPerRequest(ours)} µs, ` +
      `autocannon ${cpuPerRequest(theirs)} µs; ` +
      `connections=${CONNECTIONS} count=${COUNT}, order alternating, unique signed events vs one fixed body)`,
  );
} finally {
  sink.child.kill();
}
