#!/usr/bin/env node
// The relay on Redis Streams against the file log, and two instances sharing one Redis
// against one instance, measured side by side in one run. Senders post signed events to
// one channel with no listener connected: every 202 means "durably stored" (file log:
// fdatasync'd; Redis: appendonly yes, appendfsync always).
//   RESULT relay-redis-vs-file <redis/file events/s>        (goal >= 0.7)
//   RESULT relay-redis-2x-vs-1x <two instances/one events/s> (goal > 1)
// Usage: npm run build && node bench/relay-redis.mjs [--quick]
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { composeBody } from '../dist/events/compose.js';
import { sign } from '../dist/signing/index.js';
import { createChannel, startRelay, stopper } from './_relay-process.mjs';

const QUICK = process.argv.includes('--quick');
const SECONDS = QUICK ? 2 : 4;
const ROUNDS = QUICK ? 1 : 3;
const CONNECTIONS = 16;
const BODY = composeBody('MessageSent', { seed: 1 }).body;
const HEADERS = { 'content-type': 'application/json', 'x-webhook-signature': sign(BODY, 'bench-secret') };

async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--dir', dir],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`redis-server exited ${code}`)));
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.includes('Ready to accept connections')) resolve();
    });
  });
  return { url: `redis://127.0.0.1:${port}`, stop: stopper(child) };
}

/** Posts for SECONDS to each URL at once (CONNECTIONS each); events/s acknowledged in total. */
async function throughput(urls) {
  const results = await Promise.all(
    urls.map(
      (url) =>
        new Promise((resolve, reject) =>
          autocannon({ url, method: 'POST', headers: HEADERS, body: BODY, connections: CONNECTIONS, duration: SECONDS }, (error, result) =>
            error ? reject(error) : resolve(result),
          ),
        ),
    ),
  );
  return {
    perSecond: results.reduce((sum, result) => sum + result['2xx'], 0) / SECONDS,
    errors: results.reduce((sum, result) => sum + result.non2xx + result.errors + result.timeouts, 0),
  };
}

const work = await mkdtemp(path.join(tmpdir(), 'fe-bench-relay-redis-'));
const stops = [];
try {
  const redis = await startRedis(work);
  stops.push(redis.stop);
  const fileRelay = await startRelay(path.join(work, 'file'));
  const a = await startRelay(path.join(work, 'a'), ['--redis', redis.url]);
  const b = await startRelay(path.join(work, 'b'), ['--redis', redis.url]);
  stops.push(fileRelay.stop, a.stop, b.stop);
  const fileUrl = (await createChannel(fileRelay.url)).url;
  const channel = await createChannel(a.url);
  const onA = `${a.url}/c/${channel.id}`;
  const onB = `${b.url}/c/${channel.id}`;
  await throughput([fileUrl]); // warm-up
  await throughput([onA, onB]);
  // Rounds alternate the three set-ups so a change in the machine's load hits all of them;
  // each keeps its best round.
  const best = { file: { perSecond: 0, errors: 0 }, one: { perSecond: 0, errors: 0 }, two: { perSecond: 0, errors: 0 } };
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, urls] of [['file', [fileUrl]], ['one', [onA]], ['two', [onA, onB]]]) {
      const result = await throughput(urls);
      if (result.perSecond > best[name].perSecond) best[name] = result;
    }
  }
  const { file, one, two } = best;
  const vsFile = one.perSecond / file.perSecond;
  console.log(
    `RESULT relay-redis-vs-file ${vsFile.toFixed(2)} redis ${Math.round(one.perSecond)} ev/s vs file log ${Math.round(file.perSecond)} ` +
      `ev/s (one instance, ${CONNECTIONS} connections, best of ${ROUNDS} × ${SECONDS} s, fsync on every write both; goal >= 0.7; errors ` +
      `${one.errors}/${file.errors})`,
  );
  const scale = two.perSecond / one.perSecond;
  console.log(
    `RESULT relay-redis-2x-vs-1x ${scale.toFixed(2)} two instances ${Math.round(two.perSecond)} ev/s vs one ` +
      `${Math.round(one.perSecond)} ev/s (one shared channel, ${CONNECTIONS} connections each, best of ${ROUNDS} × ${SECONDS} s, ` +
      `${availableParallelism()} cores; goal > 1; errors ${two.errors})`,
  );
} finally {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
