import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import type { CaptureRecord } from '../../src/capture/record.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { numbersAt, waitUntil } from '../helpers/event-stream.js';
import { startListenCli, type RunningListen } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';

/**
 * Item 4 of issue 15: the tunnel behaves as if FrontEngine called the app directly. A
 * live sender gets the app's answer or 504 before 5 s and the app gets the event once;
 * an event stored while no listener was connected (202) is retried by the listener on
 * FrontEngine's schedule (compressed with --retry-scale), then marked failed; an app
 * that is not running is not an answer.
 */

interface RelayReady {
  publicUrl: string;
  channel: string;
}

/** Everything listen writes to stderr from now on (its status lines), as it comes. */
function stderrOf(listen: RunningListen): () => string {
  let text = '';
  listen.child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return () => text;
}

async function captures(file: string): Promise<CaptureRecord[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as CaptureRecord);
}

const nOf = (record: CaptureRecord): number => (JSON.parse(record.body) as { n: number }).n;

test('a slow app (6 s) behind relay + listen: the sender gets 504 within 5 s, the app gets the event once, the next one is not held behind it', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const answeredAt = new Map<number, number>();
  const app = await startReceiver(t, {
    respond: async (received) => {
      const { n } = JSON.parse(received.body.toString()) as { n: number };
      if (n === 1) await new Promise((resolve) => setTimeout(resolve, 6_000));
      answeredAt.set(n, Date.now());
      return 200;
    },
  });
  const listen = await startListenCli(t, ['--relay', relay.url, '--forward', app.url], { cwd: dir });
  const stderr = stderrOf(listen);
  const publicUrl = (listen.ready as unknown as RelayReady).publicUrl;

  const startedAt = Date.now();
  const first = await post(publicUrl, JSON.stringify({ n: 1 }));
  const firstMs = Date.now() - startedAt;
  assert.equal(first.status, 504);
  assert.ok(firstMs < 5_000, `the sender waited ${firstMs} ms: FrontEngine gives up at 5 s`);
  assert.match(first.text, /kept/);

  // Posted while the app still works on #1: it reaches the app before #1 is answered.
  const second = await post(publicUrl, JSON.stringify({ n: 2 }));
  assert.equal(second.status, 200, `the next event is not held behind the slow one: ${second.text}`);
  assert.deepEqual(numbersAt(app), [1, 2]);

  // The app answers #1 at 6 s; the listener waited for it and says so, without re-sending.
  await waitUntil('the app answers #1', () => answeredAt.has(1), 20_000);
  assert.ok((app.requests[1]?.receivedAt ?? Infinity) < (answeredAt.get(1) as number), '#2 reached the app while it still held #1');
  await waitUntil('the late answer line', () => /#1: your app answered 200 after [6-9]\.\d s, past FrontEngine's limit: its sender got 504/.test(stderr()), 20_000);
  assert.equal((await post(publicUrl, JSON.stringify({ n: 3 }))).status, 200);
  const stopped = await listen.stop('SIGINT');
  assert.deepEqual(numbersAt(app), [1, 2, 3], 'each event reached the app exactly once');
  assert.doesNotMatch(stopped.stderr, /app down/);
  const records = await captures(path.join(dir, '.fe-webhooks', 'captures.jsonl'));
  assert.deepEqual(records.map(nOf).sort(), [1, 2, 3], 'one capture line per event');
  const slow = records.find((r) => nOf(r) === 1) as CaptureRecord;
  assert.equal(slow.forward?.status, 200, 'the capture holds the app\'s real answer');
  assert.ok((slow.forward?.latencyMs ?? 0) >= 5_900);
  assert.equal(slow.attempt, undefined, 'a live event is never on the listener\'s schedule: its sender retries');
  // What the relay told each sender.
  const told = relay.lines.map((line) => JSON.parse(line) as { type?: string; kind?: string; seq?: number; status?: number }).filter((e) => e.seq !== undefined && e.status !== undefined);
  assert.deepEqual(told.map((e) => e.status), [504, 200, 200]);
});

test('local listen --forward to a 6 s app: the sender gets 504 at the limit, the app gets the request once', { timeout: 40_000 }, async (t) => {
  const dir = await tempDir(t);
  const app = await startReceiver(t, {
    respond: async (received) => {
      if ((JSON.parse(received.body.toString()) as { n: number }).n === 1) await new Promise((resolve) => setTimeout(resolve, 6_000));
      return 200;
    },
  });
  const listen = await startListenCli(t, ['--forward', app.url, '--no-save'], { cwd: dir });
  const startedAt = Date.now();
  const first = await post(listen.ready.url, JSON.stringify({ n: 1 }));
  const firstMs = Date.now() - startedAt;
  assert.equal(first.status, 504);
  assert.ok(firstMs < 6_000, `answered after ${firstMs} ms`);
  assert.match(first.text, /did not answer within 5000 ms/);
  // Past the app's 6 s: still one request for #1, and the next goes straight through.
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, startedAt + 7_000 - Date.now())));
  assert.equal((await post(listen.ready.url, JSON.stringify({ n: 2 }))).status, 200);
  await listen.stop('SIGINT');
  assert.deepEqual(numbersAt(app), [1, 2], 'no re-sends: the sender retries, not listen');
});

test('stored events (202) that the app refuses are retried on FrontEngine\'s schedule, each on its own, then marked failed; replay sends it again', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t, {
    respond: (received) => ((JSON.parse(received.body.toString()) as { n: number }).n === 1 ? 500 : 200),
  });
  const channel = await createTestChannel(relay.url);
  // Stored while no listener is connected: nobody but the listener will retry these.
  assert.equal((await post(channel.url, JSON.stringify({ n: 1 }))).status, 202);
  assert.equal((await post(channel.url, JSON.stringify({ n: 2 }))).status, 202);
  // 0.0001: 1 min → 6 ms, 5 min → 30 ms, 30 min → 180 ms, 2 h → 720 ms, 12 h → 4.32 s.
  const scale = 0.0001;
  const listen = await startListenCli(t, ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--forward', app.url, '--retry-scale', String(scale)], { cwd: dir });
  const stderr = stderrOf(listen);
  await app.waitFor(3);
  // #2 was not held behind #1's schedule; live events flow while #1 waits for its retries.
  const live = await post(channel.url, JSON.stringify({ n: 3 }));
  assert.equal(live.status, 200, 'a live event gets the app\'s answer while #1 is on its schedule');
  await waitUntil('the failed line', () => /relay: #1 FAILED after 6 attempts/.test(stderr()), 40_000);
  const ones = app.requests.filter((r) => (JSON.parse(r.body.toString()) as { n: number }).n === 1);
  assert.equal(ones.length, 6, 'the first attempt and FrontEngine\'s five retries, no more');
  const delaysMs = [60_000, 300_000, 1_800_000, 7_200_000, 43_200_000].map((ms) => ms * scale);
  for (let i = 1; i < ones.length; i++) {
    const gap = (ones[i] as { receivedAt: number }).receivedAt - (ones[i - 1] as { receivedAt: number }).receivedAt;
    assert.ok(gap >= (delaysMs[i - 1] as number) - 5, `retry ${i} came ${gap} ms after the previous attempt; the schedule says ${delaysMs[i - 1]} ms`);
  }
  assert.ok(ones.every((r) => r.body.equals(ones[0]?.body as Buffer)), 'every attempt carries the same bytes');
  const order = numbersAt(app);
  assert.ok(order.indexOf(2) < order.lastIndexOf(1) && order.indexOf(3) < order.lastIndexOf(1), `#2 and #3 did not wait for #1's schedule: ${order.join(',')}`);

  // The captures: one line per attempt, numbered, the last one failed.
  const capturesFile = path.join(dir, '.fe-webhooks', 'captures.jsonl');
  const records = await captures(capturesFile);
  const attempts = records.filter((r) => nOf(r) === 1);
  assert.deepEqual(attempts.map((r) => r.attempt), [1, 2, 3, 4, 5, 6]);
  assert.ok(attempts.slice(0, 5).every((r) => r.nextAttemptAt !== undefined && r.failed === undefined));
  const last = attempts[5] as CaptureRecord;
  assert.equal(last.failed, true);
  assert.equal(last.nextAttemptAt, undefined);
  assert.deepEqual(records.filter((r) => nOf(r) !== 1).map((r) => [nOf(r), r.attempt]), [[2, undefined], [3, undefined]], '#2 and #3: one line each');
  // The JSON request line says it too (request lines leave in batches, up to 16 ms after the
  // capture), and so does the inspector's feed.
  const requestLines = (): Array<{ id: string; failed?: boolean; attempt?: number }> =>
    listen.lines.map((line) => JSON.parse(line) as { id: string; failed?: boolean; attempt?: number });
  await waitUntil('the failed request line', () => requestLines().some((line) => line.failed === true));
  const failedLine = requestLines().find((line) => line.failed === true);
  assert.equal(failedLine?.id, last.id);
  assert.equal(failedLine?.attempt, 6);
  const feed = (await (await request(`${listen.ready.inspectorUrl}api/requests`)).body.json()) as { requests: CaptureRecord[] };
  assert.equal(feed.requests.find((r) => r.id === last.id)?.failed, true);
  assert.equal(feed.requests.find((r) => r.id === last.id)?.attempt, 6);

  const stopped = await listen.stop('SIGINT');
  assert.equal(stopped.code, 130);
  assert.deepEqual(numbersAt(app).filter((n) => n !== 1), [2, 3]);

  // `replay` sends the failed event again, bytes and signature as stored.
  const fixed = await startReceiver(t);
  const replayed = await runCli(['replay', last.id, '--from', capturesFile, '--to', fixed.url], { cwd: dir });
  assert.equal(replayed.code, 0, replayed.stderr);
  assert.equal(fixed.requests.length, 1);
  assert.ok(fixed.requests[0]?.body.equals(ones[0]?.body as Buffer));
});

test('a listener restart keeps a pending retry and does not run a finished one again', { timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  let refusals = 2;
  const app = await startReceiver(t, {
    respond: (received) => ((JSON.parse(received.body.toString()) as { n: number }).n === 1 && refusals-- > 0 ? 500 : 200),
  });
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, JSON.stringify({ n: 1 }))).status, 202);
  // 0.002: the first retry after 120 ms, the second after 600 ms.
  const args = ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--forward', app.url, '--retry-scale', '0.002'];
  const journal = path.join(dir, '.fe-webhooks', `relay-retries-${channel.id}.jsonl`);
  const first = await startListenCli(t, args, { cwd: dir });
  await app.waitFor(2);
  // The second attempt's outcome is in the journal: the third is pending when the listener dies.
  await waitUntil('attempt 2 journaled', () => {
    try {
      return /"attempts":2/.test(readFileSync(journal, 'utf8'));
    } catch {
      return false;
    }
  });
  first.child.kill('SIGKILL');
  await first.exited();
  assert.equal(app.requests.length, 2);
  const second = await startListenCli(t, args, { cwd: dir });
  await app.waitFor(3, 20_000);
  await waitUntil('the journal says done', () => /"done":"ok"/.test(readFileSync(journal, 'utf8')));
  await second.stop('SIGINT');
  // Started again: nothing pending, nothing repeated; a new event goes through once.
  const third = await startListenCli(t, args, { cwd: dir });
  assert.equal((await post(channel.url, JSON.stringify({ n: 2 }))).status, 200);
  await third.stop('SIGINT');
  assert.deepEqual(numbersAt(app), [1, 1, 1, 2], 'three attempts of #1 across two restarts (two refused, one answered), then #2');
  const records = (await captures(path.join(dir, '.fe-webhooks', 'captures.jsonl'))).filter((r) => nOf(r) === 1);
  assert.deepEqual(records.map((r) => [r.attempt, r.responseStatus]), [[1, 500], [2, 500], [3, 200]]);
});

test('an app that is not running is not an answer: stored events wait for it, and those tries are not attempts', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const gone = await startReceiver(t);
  await gone.close();
  const channel = await createTestChannel(relay.url);
  for (const n of [1, 2]) assert.equal((await post(channel.url, JSON.stringify({ n }))).status, 202);
  const listen = await startListenCli(t, ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--forward', gone.url, '--retry-scale', '0.0001'], { cwd: dir });
  // Refused, tried again with backoff (each try a line): not one counts against the schedule.
  const tries = (await listen.waitForLines(3, 20_000)).map((line) => JSON.parse(line) as { forward?: { error?: string }; attempt?: number });
  assert.ok(tries.every((r) => /^refused/.test(r.forward?.error ?? '') && r.attempt === undefined));
  const app = await startReceiver(t, { port: gone.port });
  await app.waitFor(2, 20_000);
  assert.equal((await post(channel.url, JSON.stringify({ n: 3 }))).status, 200);
  const stopped = await listen.stop('SIGINT');
  assert.deepEqual(numbersAt(app), [1, 2, 3], 'held, then delivered once each, in order');
  const records = await captures(path.join(dir, '.fe-webhooks', 'captures.jsonl'));
  const answered = records.filter((r) => r.forward?.status !== undefined);
  assert.deepEqual(answered.map((r) => [nOf(r), r.attempt, r.responseStatus]), [[1, undefined, 200], [2, undefined, 200], [3, undefined, 200]]);
  assert.ok(records.filter((r) => r.forward?.error !== undefined).every((r) => r.attempt === undefined && r.failed === undefined));
  assert.doesNotMatch(stopped.stderr, /FAILED/);
  // Backoff, never a tight loop: a handful of tries over the seconds the app was away.
  const refused = records.filter((r) => r.forward?.error !== undefined).length;
  assert.ok(refused < 40, `${refused} tries while the app was down`);
});

test('a scheduled retry that finds the app not running waits for it without using up an attempt', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const first = await startReceiver(t, { respond: () => 500 });
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, JSON.stringify({ n: 1 }))).status, 202);
  // 0.01: the first retry is due 600 ms after the first attempt.
  const listen = await startListenCli(t, ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--forward', first.url, '--retry-scale', '0.01'], { cwd: dir });
  const stderr = stderrOf(listen);
  await first.waitFor(1);
  await first.close();
  // The retry is due and finds nothing listening: tried again with backoff, not counted.
  const lines = (): Array<{ forward?: { error?: string } }> => listen.lines.map((line) => JSON.parse(line) as { forward?: { error?: string } });
  await waitUntil('two refused tries', () => lines().filter((r) => /^refused/.test(r.forward?.error ?? '')).length >= 2);
  const back = await startReceiver(t, { port: first.port });
  await back.waitFor(1, 20_000);
  await waitUntil('the delivered line', () => /relay: #1 delivered on attempt 2/.test(stderr()));
  await listen.stop('SIGINT');
  assert.equal(first.requests.length + back.requests.length, 2, 'one answered attempt on each side of the outage');
  const records = await captures(path.join(dir, '.fe-webhooks', 'captures.jsonl'));
  assert.deepEqual(records.filter((r) => r.forward?.status !== undefined).map((r) => [r.attempt, r.responseStatus]), [[1, 500], [2, 200]]);
  assert.ok(records.filter((r) => r.forward?.error !== undefined).every((r) => r.attempt === undefined));
});

test('--retry-scale: a positive number, and only with --relay (locally the sender retries)', async (t) => {
  const cwd = await tempDir(t);
  const alone = await runCli(['listen', '--port', '0', '--no-save', '--retry-scale', '0.001'], { cwd });
  assert.equal(alone.code, 2);
  assert.match(alone.stderr, /--retry-scale only applies with --relay/);
  const zero = await runCli(['listen', '--port', '0', '--no-save', '--relay', 'http://127.0.0.1:9', '--retry-scale', '0'], { cwd });
  assert.equal(zero.code, 2);
  assert.match(zero.stderr, /Invalid --retry-scale "0"/);
});
