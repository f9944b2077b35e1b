#!/usr/bin/env node
// Forwarding overhead of `fe-webhooks listen --forward` on loopback, side by side with
// posting straight to the same app in the same run:
//   RESULT listen-added-p50-ms <ms>   p50 latency through listen minus direct (goal < 2 ms)
//   RESULT listen-throughput <ratio>  requests/s through listen ÷ direct (goal ≥ 0.5)
//   RESULT bare-proxy-throughput <ratio>  the same for a bare Node http + undici proxy
//     (bench/_bare-proxy.cjs: no capture, no check, no log): what a plain Node forwarder
//     reaches on this machine, the reference for listen's own figure
//   RESULT tcp-passthrough-throughput <ratio>  the same for bytes piped through a second
//     process with no HTTP parsing (bench/_tcp-passthrough.cjs): the physical floor of
//     any forwarder here; what is left of the 0.5 budget below it is all an HTTP proxy
//     may spend on parsing, capturing and checking
// Measured twice: forwarding alone (--no-save), and with durable captures as users run
// it (listen-durable-*: each request fdatasync'd before it is answered, group-committed
// under load). The app and listen run as separate processes. Bounded: under a minute.
// Fairness: both sides get the same warm-up, rounds alternate direct/via, and each side's
// best round is compared (a shared machine only ever makes a round slower).
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { Agent, request } from 'undici';
import { composeBody } from '../dist/events/compose.js';
import { sign } from '../dist/signing/index.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const SECRET = 'bench-secret';
const LATENCY_SAMPLES = 600;
const WARMUP_REQUESTS = 200;
const THROUGHPUT_SECONDS = 2;
const THROUGHPUT_ROUNDS = 3;
const WARMUP_SECONDS = 1;
const CONNECTIONS = 16;
const READY_TIMEOUT_MS = 10_000;

const APP_SOURCE = `
const http = require('node:http');
const server = http.createServer((req, res) => {
  req.on('data', () => {});
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
server.keepAliveTimeout = 10000;
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
`;

/** Spawns a process and resolves with its first stdout line. */
function startProcess(args, options = {}) {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], ...options });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk) => {
      out += chunk;
      const newline = out.indexOf('\n');
      if (newline === -1) return;
      // Only the first line matters; the rest is drained unread (see startListen).
      child.stdout.off('data', onData);
      resolve({ child, line: out.slice(0, newline) });
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
  });
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function latencies(url, body, headers, dispatcher) {
  const samples = [];
  for (let i = 0; i < WARMUP_REQUESTS + LATENCY_SAMPLES; i++) {
    const started = process.hrtime.bigint();
    const res = await request(url, { method: 'POST', body, headers, dispatcher });
    await res.body.dump();
    if (res.statusCode !== 200) throw new Error(`${url} answered ${res.statusCode}`);
    if (i >= WARMUP_REQUESTS) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  return samples.sort((a, b) => a - b);
}

function throughput(url, body, headers, duration = THROUGHPUT_SECONDS) {
  return new Promise((resolve, reject) => {
    autocannon({ url, method: 'POST', body, headers, connections: CONNECTIONS, duration }, (error, result) => {
      if (error) return reject(error);
      if (result.non2xx > 0 || result.errors > 0) return reject(new Error(`${url}: ${result.non2xx} non-2xx, ${result.errors} errors`));
      resolve(result.requests.average);
    });
  });
}

/**
 * listen's stdout goes to a file, not to a pipe this process reads: on Linux a process's
 * stdout pipe is written synchronously, and this process is busy running autocannon, so
 * a pipe it drains late would stall listen on every full pipe buffer (a terminal or
 * `| jq` reads promptly). The first line (`ready`, with the URL) is read from the file.
 */
async function startListen(dir, appUrl, save) {
  const saveArgs = save ? ['--save', path.join(dir, 'captures.jsonl')] : ['--no-save'];
  const outFile = path.join(dir, `listen-${save ? 'save' : 'nosave'}.out`);
  const out = await open(outFile, 'w');
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/fe-webhooks.js'),
      'listen',
      '--json',
      '--port',
      '0',
      '--inspector-port',
      '0',
      '--forward',
      appUrl,
      '--secret',
      SECRET,
      ...saveArgs,
    ],
    { cwd: dir, stdio: ['ignore', out.fd, 'inherit'] },
  );
  await out.close();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const text = await readFile(outFile, 'utf8');
    const newline = text.indexOf('\n');
    if (newline !== -1) return { url: `${JSON.parse(text.slice(0, newline)).url}hooks`, child };
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`listen did not start: ${text}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A reference forwarder (bench/_<name>.cjs) in front of the app. */
async function startReference(name, appUrl) {
  const proxy = await startProcess([path.join(ROOT, `bench/_${name}.cjs`), appUrl], { cwd: ROOT });
  return { url: `${proxy.line.trim()}hooks`, child: proxy.child };
}

async function stop(child) {
  child.kill('SIGINT');
  await new Promise((resolve) => child.once('exit', resolve));
}

/**
 * Direct vs via, both warmed alike (JIT, connection pools), then interleaved rounds so
 * drift from other load on the machine hits both; the best round of each side counts.
 */
async function throughputRounds(directUrl, viaUrl, body, headers) {
  await throughput(directUrl, body, headers, WARMUP_SECONDS);
  await throughput(viaUrl, body, headers, WARMUP_SECONDS);
  const directRounds = [];
  const viaRounds = [];
  for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
    directRounds.push(await throughput(directUrl, body, headers));
    viaRounds.push(await throughput(viaUrl, body, headers));
  }
  return { directRps: Math.max(...directRounds), viaRps: Math.max(...viaRounds), directRounds, viaRounds };
}

/** Throughput only, direct vs through a reference forwarder. */
async function compareReference(name, appUrl, body, headers) {
  const proxy = await startReference(name, appUrl);
  try {
    return await throughputRounds(appUrl, proxy.url, body, headers);
  } finally {
    await stop(proxy.child);
  }
}

/** One side-by-side comparison: direct vs through a listen started with or without captures. */
async function compare(dir, appUrl, body, headers, save) {
  const listen = await startListen(dir, appUrl, save);
  try {
    const dispatcher = new Agent({ connections: 1 });
    // Interleaved halves so drift (other load on the machine) hits both sides alike.
    const direct1 = await latencies(appUrl, body, headers, dispatcher);
    const via1 = await latencies(listen.url, body, headers, dispatcher);
    const direct2 = await latencies(appUrl, body, headers, dispatcher);
    const via2 = await latencies(listen.url, body, headers, dispatcher);
    await dispatcher.close();
    const direct = [...direct1, ...direct2].sort((a, b) => a - b);
    const via = [...via1, ...via2].sort((a, b) => a - b);
    return { direct, via, ...(await throughputRounds(appUrl, listen.url, body, headers)) };
  } finally {
    await stop(listen.child);
  }
}

const rounds = (list) => list.map((rps) => Math.round(rps)).join('/');

function report(name, what, { direct, via, directRps, viaRps, directRounds, viaRounds }, bodyBytes) {
  const directP50 = percentile(direct, 50);
  const viaP50 = percentile(via, 50);
  console.log(
    `RESULT ${name}-added-p50-ms ${(viaP50 - directP50).toFixed(3)} ${what}: direct p50 ${directP50.toFixed(3)} ms, via listen p50 ` +
      `${viaP50.toFixed(3)} ms, p99 ${percentile(direct, 99).toFixed(2)} vs ${percentile(via, 99).toFixed(2)} ms (${bodyBytes} B ` +
      `bodies, ${direct.length} sequential requests each; goal < 2 ms)`,
  );
  console.log(
    `RESULT ${name}-throughput ${(viaRps / directRps).toFixed(3)} ${what}: via listen ${Math.round(viaRps)} req/s vs direct ` +
      `${Math.round(directRps)} req/s, best of ${THROUGHPUT_ROUNDS} interleaved ${THROUGHPUT_SECONDS} s rounds each (via ` +
      `${rounds(viaRounds)}, direct ${rounds(directRounds)}; ${CONNECTIONS} connections; goal >= 0.5)`,
  );
}

const dir = await mkdtemp(path.join(tmpdir(), 'fe-webhooks-bench-'));
const app = await startProcess(['-e', APP_SOURCE]);
const appUrl = `http://127.0.0.1:${app.line.trim()}/hooks`;
try {
  const body = composeBody('MessageSent', { seed: 1 }).body;
  const headers = { 'content-type': 'application/json', 'x-webhook-signature': sign(body, SECRET) };
  // The forwarding path alone (--no-save), then as a user runs it: every request
  // fdatasync'd to the captures file before it is answered.
  const noSave = await compare(dir, appUrl, body, headers, false);
  report('listen', 'forwarding, --no-save', noSave, Buffer.byteLength(body));
  const durable = await compare(dir, appUrl, body, headers, true);
  report('listen-durable', 'forwarding + durable captures (default)', durable, Buffer.byteLength(body));
  const references = [
    ['bare-proxy', 'a bare Node http + undici proxy, nothing else'],
    ['tcp-passthrough', 'bytes piped through a second process, no HTTP parsing'],
  ];
  for (const [name, what] of references) {
    const ref = await compareReference(name, appUrl, body, headers);
    if (name === 'bare-proxy') {
      // listen against the bare proxy, each as a share of direct measured beside it (issue 18).
      const proxyShare = ref.viaRps / ref.directRps;
      for (const [label, side, goal] of [['listen-vs-bare-proxy', noSave, 1.0], ['listen-durable-vs-bare-proxy', durable, 0.8]]) {
        const share = side.viaRps / side.directRps;
        const detail = `listen ${share.toFixed(3)} of direct vs the bare Node http + undici proxy ${proxyShare.toFixed(3)} of direct`;
        console.log(`RESULT ${label} ${(share / proxyShare).toFixed(2)} ${detail} (best rounds above; goal >= ${goal})`);
      }
    }
    console.log(
      `RESULT ${name}-throughput ${(ref.viaRps / ref.directRps).toFixed(3)} (reference) ${what} (bench/_${name}.cjs): ` +
        `${Math.round(ref.viaRps)} req/s vs direct ${Math.round(ref.directRps)} req/s, best of ${THROUGHPUT_ROUNDS} interleaved ` +
        `${THROUGHPUT_SECONDS} s rounds each (via ${rounds(ref.viaRounds)}, direct ${rounds(ref.directRounds)}; ${CONNECTIONS} ` +
        `connections)`,
    );
  }
} finally {
  app.child.kill();
  await rm(dir, { recursive: true, force: true });
}
