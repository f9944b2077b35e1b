#!/usr/bin/env node
// Load mode vs autocannon: `fe-webhooks send --count N --concurrency C` (generating and
// signing a unique event per request) against autocannon sending one fixed body, same
// sink, same number of connections, no pipelining, alternating in one run.
// Prints: RESULT send-vs-autocannon <ratio of best throughputs> <detail>
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { composeBody } from '../dist/events/compose.js';
import { signedHeaders } from '../dist/delivery/request.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BIN = path.join(ROOT, 'bin/fe-webhooks.js');
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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
  const args = [BIN, 'send', 'MessageSent', '--url', url, '--secret', SECRET, '--count', String(COUNT), '--concurrency', String(CONNECTIONS), '--json'];
  const summary = await runChild(args);
  if (summary.failed > 0) throw new Error(`send saw ${summary.failed} failures`);
  return { rps: summary.rps };
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
  if (result.non2xx > 0 || result.errors > 0) throw new Error('autocannon saw ' + result.non2xx + ' non-2xx and ' + result.errors + ' errors');
  process.stdout.write(JSON.stringify({ rps: (answered / (lastAt - startedAt)) * 1000 }));
});
instance.on('response', () => {
  answered++;
  lastAt = performance.now();
});`;

function runAutocannon(url) {
  const body = composeBody('MessageSent', { compact: true }).body;
  const headers = signedHeaders(body, { userAgent: 'autocannon', secret: SECRET });
  const options = JSON.stringify({ url, body, headers, connections: CONNECTIONS, amount: COUNT });
  return runChild(['--input-type=module', '-e', AUTOCANNON_RUNNER, options]);
}

function runChild(args) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (chunk) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`${args[0]} exited ${code}: ${out}`))));
  });
}

const sink = await startSink();
try {
  await runAutocannon(sink.url); // warm the sink up before anything is measured
  const ours = [];
  const theirs = [];
  for (let round = 0; round < ROUNDS; round++) {
    theirs.push(await runAutocannon(sink.url));
    ours.push(await runSend(sink.url));
  }
  const best = (runs) => Math.max(...runs.map((r) => r.rps));
  const ratio = best(ours) / best(theirs);
  const list = (runs) => runs.map((r) => Math.round(r.rps)).join('/');
  console.log(
    `RESULT send-vs-autocannon ${ratio.toFixed(2)} send=${Math.round(best(ours))}rps autocannon=${Math.round(best(theirs))}rps ` +
      `(rounds send ${list(ours)}, autocannon ${list(theirs)}; connections=${CONNECTIONS} count=${COUNT}, unique signed events vs one fixed body)`,
  );
} finally {
  sink.child.kill();
}
