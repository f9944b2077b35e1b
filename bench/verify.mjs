#!/usr/bin/env node
// verify throughput on a 100,000-request captures file, against the bare limit (a loop
// doing only createHmac + JSON.parse over the same bodies, already in memory) and
// against a loop over @octokit/webhooks-methods' verify (+ JSON.parse, the same work).
// Also verify's peak RSS, on this file and on one a tenth its size: flat memory means
// the ratio stays near 1. And a "format floor" (read, split, parse each record, HMAC and
// parse the body, nothing else), against bare and against verify: it shows how much of
// the gap is the file format and how much verify's own checks, duplicates and report.
// verify checks a file this large on every core (worker threads) while the bare loop
// runs on one, so the wall-clock ratios depend on idle cores; the CPU line (all threads,
// both sides) says what each request costs whatever the load. The marginal line (the
// full file against the tenth) is the rate past what a run pays once; the first-touch
// line is what fresh memory costs on this machine, most of that once-per-run price.
// Prints `RESULT <name> <ratio> <detail>` lines.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { verify as octokitVerify } from '@octokit/webhooks-methods';
import { EVENT_NAMES, generate, sign } from '../dist/index.js';
import { encodeBody, newCaptureId } from '../dist/capture/record.js';
import { lineBatches } from '../dist/capture/lines.js';
import { createReadStream } from 'node:fs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const REQUESTS = Number(process.env.BENCH_VERIFY_REQUESTS ?? 100_000);
const SECRET = 'bench-secret-0123456789abcdef';
const ROUNDS = 3;
const SMALL_REQUESTS = Math.ceil(REQUESTS / 10);

function makeBodies(count) {
  const bodies = [];
  // Every body distinct, as in real traffic; a fixed clock keeps the file repeatable.
  for (let i = 0; i < count; i++) {
    bodies.push(JSON.stringify(generate(EVENT_NAMES[i % EVENT_NAMES.length], { seed: i + 1, now: new Date() })));
  }
  return bodies;
}

async function writeCaptures(file, bodies) {
  const out = createWriteStream(file);
  const receivedAt = new Date().toISOString();
  for (const body of bodies) {
    const record = {
      id: newCaptureId(),
      receivedAt,
      method: 'POST',
      path: '/webhooks/email',
      headers: {
        host: '127.0.0.1:7878',
        'user-agent': 'FrontEngine-Webhooks/1.0',
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        'x-webhook-signature': sign(body, SECRET),
      },
      ...encodeBody(Buffer.from(body)),
      event: JSON.parse(body).event,
      signature: 'valid',
      responseStatus: 200,
      source: { kind: 'local' },
    };
    if (!out.write(`${JSON.stringify(record)}\n`)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'finish');
}

// Wall time, and CPU time (`cpuMs`, user + system, every thread) for the CPU line.
function bareLoopMs(bodies, signatures) {
  const cpu = process.cpuUsage();
  const start = performance.now();
  let valid = 0;
  for (let i = 0; i < bodies.length; i++) {
    const body = bodies[i];
    if (`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}` === signatures[i]) valid++;
    JSON.parse(body);
  }
  if (valid !== bodies.length) throw new Error('bare loop: signatures do not match');
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  bareCpuMs = Math.min(bareCpuMs, (used.user + used.system) / 1000);
  return ms;
}
let bareCpuMs = Infinity;

async function octokitLoopMs(bodies, signatures) {
  const start = performance.now();
  for (let i = 0; i < bodies.length; i++) {
    if (!(await octokitVerify(SECRET, bodies[i], signatures[i]))) throw new Error('octokit: signature does not match');
    JSON.parse(bodies[i]);
  }
  return performance.now() - start;
}

// The least any reader of this file format must do: split lines, parse each capture
// record (the body sits JSON-escaped inside it), HMAC and parse the body. Shows how much
// of the gap to the bare loop is the format rather than verify's checks and reports.
async function formatFloorMs(file) {
  const start = performance.now();
  let valid = 0;
  for await (const batch of lineBatches(createReadStream(file, { highWaterMark: 1024 * 1024 }))) {
    for (const line of batch.lines) {
      if (line === '') continue;
      const record = JSON.parse(line);
      if (`sha256=${createHmac('sha256', SECRET).update(record.body).digest('hex')}` === record.headers['x-webhook-signature']) valid++;
      JSON.parse(record.body);
    }
  }
  if (valid !== REQUESTS) throw new Error('floor loop: signatures do not match');
  return performance.now() - start;
}

// Runs the real CLI in a child process, timing main() from inside and reading its peak RSS.
// main() comes from dist/bin/main.cjs, the bundle bin/fe-webhooks.js runs (the ES modules
// under dist/cli are not even in the package): what a user runs, minus Node's own start-up.
function runVerify(file) {
  const script = `
    const { main } = (await import(${JSON.stringify(path.join(ROOT, 'dist/bin/main.cjs'))})).default;
    const cpu = process.cpuUsage();
    const faults = process.resourceUsage().minorPageFault;
    const start = performance.now();
    const code = await main(['node', 'fe-webhooks', 'verify', ${JSON.stringify(file)}, '--secret', ${JSON.stringify(SECRET)}]);
    const ms = performance.now() - start;
    const used = process.cpuUsage(cpu);
    const cpuMs = (used.user + used.system) / 1000;
    const usage = process.resourceUsage();
    process.stderr.write('\\nBENCH ' +
      '' + JSON.stringify({ code, ms, cpuMs, maxRssKiB: usage.maxRSS, minorFaults: usage.minorPageFault - faults }) + '\\n');`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', () => {
      const line = stderr.split('\n').find((l) => l.startsWith('BENCH '));
      if (!line) return reject(new Error(`verify run failed: ${stderr.slice(0, 500)}`));
      const result = JSON.parse(line.slice(6));
      if (result.code !== 0) return reject(new Error(`verify exited ${result.code}: ${stderr.slice(0, 500)}`));
      resolve(result);
    });
  });
}

// How much dearer memory is the first time a process writes it (the kernel maps and zeroes
// each page) than the next: on a VM this ratio explains most of what a run pays once.
function firstTouchMsPerMiB() {
  const mib = 64;
  const memory = Buffer.from(new SharedArrayBuffer(mib * 2 ** 20));
  let start = performance.now();
  memory.fill(1);
  const first = (performance.now() - start) / mib;
  start = performance.now();
  memory.fill(2);
  return { first, again: (performance.now() - start) / mib };
}

const dir = await mkdtemp(path.join(tmpdir(), 'fe-webhooks-bench-'));
try {
  const bodies = makeBodies(REQUESTS);
  const signatures = bodies.map((body) => sign(body, SECRET));
  const file = path.join(dir, 'captures.jsonl');
  const small = path.join(dir, 'captures-small.jsonl');
  await writeCaptures(file, bodies);
  await writeCaptures(small, bodies.slice(0, SMALL_REQUESTS));
  const fileMiB = (await stat(file)).size / 2 ** 20;

  // Interleaved, best of each: on a shared machine a quiet moment then favours neither side.
  let bareMs = Infinity;
  let octokitMs = Infinity;
  let floorMs = Infinity;
  let full;
  let tenth;
  let verifyCpuMs = Infinity;
  // The fastest run, keeping the highest peak RSS seen.
  const best = (kept, run) =>
    !kept || run.ms < kept.ms
      ? { ...run, maxRssKiB: Math.max(run.maxRssKiB, kept?.maxRssKiB ?? 0) }
      : { ...kept, maxRssKiB: Math.max(run.maxRssKiB, kept.maxRssKiB) };
  for (let round = 0; round < ROUNDS; round++) {
    bareMs = Math.min(bareMs, bareLoopMs(bodies, signatures));
    octokitMs = Math.min(octokitMs, await octokitLoopMs(bodies, signatures));
    floorMs = Math.min(floorMs, await formatFloorMs(file));
    const run = await runVerify(file);
    verifyCpuMs = Math.min(verifyCpuMs, run.cpuMs);
    full = best(full, run);
    tenth = best(tenth, await runVerify(small));
  }
  const rate = (ms) => Math.round((REQUESTS / ms) * 1000);
  const detail = `verify ${rate(full.ms)} req/s (${full.ms.toFixed(0)} ms, ${REQUESTS} requests, ${fileMiB.toFixed(1)} MiB file)`;
  console.log(`RESULT verify-vs-bare ${(bareMs / full.ms).toFixed(2)} ${detail}; bare createHmac+JSON.parse ${rate(bareMs)} req/s`);
  console.log(
    `RESULT verify-vs-octokit ${(octokitMs / full.ms).toFixed(2)} ${detail}; @octokit/webhooks-methods verify+JSON.parse ` +
      `${rate(octokitMs)} req/s`,
  );
  console.log(
    `RESULT format-floor-vs-bare ${(bareMs / floorMs).toFixed(2)} read+split+JSON.parse(record)+createHmac+JSON.parse(body), nothing ` +
      `else: ${rate(floorMs)} req/s`,
  );
  // What verify's checks, duplicate tracking and report add on top of merely reading the format.
  console.log(`RESULT verify-vs-format-floor ${(floorMs / full.ms).toFixed(2)} ${detail}; format floor ${rate(floorMs)} req/s`);
  // CPU per request, all threads counted (verify uses every core on a large file): what a
  // loaded machine barely moves, unlike the wall-clock ratios above.
  console.log(
    `RESULT verify-cpu-vs-bare ${(bareCpuMs / verifyCpuMs).toFixed(2)} CPU time, all threads: verify ${verifyCpuMs.toFixed(0)} ms vs ` +
      `bare ${bareCpuMs.toFixed(0)} ms for ${REQUESTS} requests (best of ${ROUNDS} each)`,
  );
  // Past start-up: the requests the full file has beyond the tenth, over the time they add.
  // What a run pays once (loading the CLI, starting a worker thread, V8 compiling the
  // checks in each thread, first touches of fresh memory) cancels out.
  const marginalRate = (REQUESTS - SMALL_REQUESTS) / ((full.ms - tenth.ms) / 1000);
  console.log(
    `RESULT verify-marginal-vs-bare ${(marginalRate / (REQUESTS / (bareMs / 1000))).toFixed(2)} past start-up: ` +
      `${Math.round(marginalRate)} req/s (${REQUESTS} requests in ${full.ms.toFixed(0)} ms, ${SMALL_REQUESTS} in ${tenth.ms.toFixed(0)} ` +
      `ms: ${(full.ms - ((full.ms - tenth.ms) / (REQUESTS - SMALL_REQUESTS)) * REQUESTS).toFixed(0)} ms paid once per run)`,
  );
  const touch = firstTouchMsPerMiB();
  console.log(
    `RESULT machine-first-touch-vs-refill ${(touch.first / touch.again).toFixed(1)} writing fresh memory costs ` +
      `${touch.first.toFixed(2)} ms/MiB here (page faults), writing it again ${touch.again.toFixed(2)} ms/MiB: verify touches ` +
      `~${((full.minorFaults * 4) / 1024).toFixed(0)} MiB fresh per run (${full.minorFaults} page faults)`,
  );
  console.log(
    `RESULT verify-rss-full-vs-tenth ${(full.maxRssKiB / tenth.maxRssKiB).toFixed(2)} peak RSS ${(full.maxRssKiB / 1024).toFixed(0)} ` +
      `MiB on ${REQUESTS} requests vs ${(tenth.maxRssKiB / 1024).toFixed(0)} MiB on ${SMALL_REQUESTS}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
