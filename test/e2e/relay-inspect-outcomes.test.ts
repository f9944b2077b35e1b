import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { Redis } from 'ioredis';
import type { Page } from 'playwright-core';
import { request } from 'undici';
import { composeBody } from '../../src/events/compose.js';
import type { WireList, WireRequest } from '../../src/inspector/wire.js';
import { channelKeys } from '../../src/relay/redis-log.js';
import { launchChromium } from '../helpers/browser.js';
import { tempDir } from '../helpers/cli.js';
import { startListenCli, type RunningListen } from '../helpers/listen-cli.js';
import { waitFor, waitUntil } from '../helpers/poll.js';
import { startReceiver } from '../helpers/receiver.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

/**
 * The relay's channel page knows what became of an event the listener held on
 * FrontEngine's retry schedule: `retrying` while it is in the listener's journal (the
 * relay was acked as soon as it got there), then `failed` when the schedule runs out or
 * `delivered` when a later attempt gets a 2xx. Real relay, real `listen --relay`, real
 * apps, real Chromium; the relay's record of it survives a crash of the relay.
 */

type Channel = Awaited<ReturnType<typeof createTestChannel>>;

async function listed(relayUrl: string, channel: Channel): Promise<WireList> {
  const res = await request(`${relayUrl}/inspect/${channel.id}/api/requests`, { headers: { authorization: `Bearer ${channel.token}` } });
  assert.equal(res.statusCode, 200);
  return (await res.body.json()) as WireList;
}

async function eventAt(relayUrl: string, channel: Channel, seq: number): Promise<WireRequest | undefined> {
  return (await listed(relayUrl, channel)).requests.find((r) => r.seq === seq);
}

/** Waits until the relay lists event `seq` in `state`; returns it. */
async function stateOf(relayUrl: string, channel: Channel, seq: number, state: string, timeoutMs = 30_000): Promise<WireRequest> {
  return waitFor(`#${seq} ${state} on the relay`, async () => {
    const found = await eventAt(relayUrl, channel, seq);
    return found?.delivery === state ? found : undefined;
  }, timeoutMs);
}

function stderrOf(listen: RunningListen): () => string {
  let text = '';
  listen.child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString('utf8')));
  return () => text;
}

/** The channel page in real Chromium, the token typed in. */
async function openChannelPage(t: TestContext, relayUrl: string, channel: Channel): Promise<Page> {
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  await page.goto(`${relayUrl}/inspect/${channel.id}`);
  await page.fill('#token', channel.token);
  await page.click('#token-open');
  return page;
}

function listenArgs(relayUrl: string, channel: Channel, appUrl: string, scale: number): string[] {
  return ['--relay', relayUrl, '--channel', channel.id, '--token', channel.token, '--forward', appUrl, '--retry-scale', String(scale)];
}

test('an app that always answers 500: the channel page shows the stored event retrying, then failed, also after the relay crashed', { ...needs('chromium'), timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  const relay = await startRelayProcess(t, dataDir);
  const app = await startReceiver(t, { respond: () => 500 });
  const channel = await createTestChannel(relay.url);
  const stored = composeBody('MessageBounced').body;
  assert.equal((await post(channel.url, stored)).status, 202, 'stored: nobody but the listener retries it');

  // 0.0002: the five waits are 12 ms, 60 ms, 360 ms, 1.44 s and 8.64 s.
  const listen = await startListenCli(t, listenArgs(relay.url, channel, app.url, 0.0002), { cwd: dir });
  const stderr = stderrOf(listen);
  const retrying = await stateOf(relay.url, channel, 1, 'retrying');
  assert.equal(retrying.appStatus, 500);
  assert.ok((retrying.attempt ?? 0) >= 1);
  await waitUntil('the listener acked it: only the outcome says it is not delivered', async () => (await listed(relay.url, channel)).acked === 1);

  // A live event meanwhile: its sender gets the app's 500 (and retries on its own); the relay calls it delivered.
  const live = composeBody('MessageSent').body;
  assert.equal((await post(channel.url, live)).status, 500);

  await waitUntil('the listener gives up', () => /relay: #1 FAILED after 6 attempts/.test(stderr()), 60_000);
  const failed = await stateOf(relay.url, channel, 1, 'failed');
  assert.equal(failed.attempt, 6);
  assert.equal(failed.appStatus, 500);
  assert.equal(failed.redelivery, true, 'attempts after the first reached the app again');
  assert.equal(failed.nextAttemptAt, undefined);
  assert.equal((await eventAt(relay.url, channel, 2))?.delivery, 'delivered');
  assert.equal(app.requests.filter((r) => r.body.equals(Buffer.from(stored))).length, 6);

  // Durable before the relay confirmed it: a relay killed now keeps it.
  const stateFile = path.join(dataDir, 'channels', channel.id, 'state.json');
  await waitUntil('the outcome on disk', async () => (await readFile(stateFile, 'utf8').catch(() => '')).includes('"state":"failed"'));
  await relay.kill('SIGKILL');
  const again = await startRelayProcess(t, dataDir);
  assert.equal((await eventAt(again.url, channel, 1))?.delivery, 'failed');

  const page = await openChannelPage(t, again.url, channel);
  const rows = page.locator('#rows tr');
  await rows.nth(1).waitFor({ timeout: 10_000 });
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[3]?.textContent, tr.children[5]?.textContent])), [
    ['MessageSent', 'delivered'],
    ['MessageBounced', 'failed'],
  ]);
  // The page's delivery filter: failed, retrying, redelivery and delivered each narrow the list.
  for (const [state, count] of [['failed', '1 of 2'], ['retrying', '0 of 2'], ['redelivery', '1 of 2'], ['delivered', '1 of 2'], ['', '2 of 2']] as const) {
    await page.selectOption('#filter-delivery', state);
    await page.locator('#count', { hasText: count }).waitFor({ timeout: 5_000 });
  }
  await page.selectOption('#filter-delivery', 'failed');
  assert.match(page.url(), /[?&]delivery=failed/);
  const shown = page.locator('#rows tr:not([hidden])');
  assert.equal(await shown.count(), 1);
  await shown.first().click();
  const summary = (await page.locator('#summary').textContent()) ?? '';
  assert.match(summary, /deliveryfailed \(the app answered 500 last\)/);
  assert.match(summary, /retriesattempt 6: FAILED/);
  await page.locator('#redelivery-mark').waitFor({ timeout: 5_000 });
  // A reload keeps the filter (it is in the URL) and the token (sessionStorage).
  await page.reload();
  await page.locator('#count', { hasText: '1 of 2' }).waitFor({ timeout: 10_000 });
});

test('an app that recovers (500, then 200): the page follows the event from retrying to delivered, with the redelivery mark', { ...needs('chromium'), timeout: 90_000 }, async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t, { respond: (_request, index) => (index === 0 ? 500 : 200) });
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, composeBody('MessageHeld').body)).status, 202);

  const page = await openChannelPage(t, relay.url, channel);
  const state = page.locator('#rows tr:nth-child(1) td:nth-child(6)');
  await page.locator('#rows tr:nth-child(1) td:nth-child(6)', { hasText: 'queued' }).waitFor({ timeout: 10_000 });

  // 0.1: the retry is due 6 s after the first attempt; the page polls every 2 s.
  const listen = await startListenCli(t, listenArgs(relay.url, channel, app.url, 0.1), { cwd: dir });
  const stderr = stderrOf(listen);
  await app.waitFor(1, 15_000);
  await page.locator('#rows tr:nth-child(1) td:nth-child(6)', { hasText: 'retrying' }).waitFor({ timeout: 15_000 });
  assert.equal(app.requests.length, 1, 'seen retrying before the second attempt');
  await app.waitFor(2, 20_000);
  await waitUntil('the delivered line', () => /relay: #1 delivered on attempt 2/.test(stderr()));
  await page.locator('#rows tr:nth-child(1) td:nth-child(6)', { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
  assert.equal(await state.textContent(), 'delivered');
  await page.locator('#rows tr').first().click();
  await page.locator('#redelivery-mark').waitFor({ timeout: 5_000 });
  const summary = (await page.locator('#summary').textContent()) ?? '';
  assert.match(summary, /deliverydelivered \(the app answered 200 last\)/);
  assert.match(summary, /redeliveryyes: the listener retried it/);
  assert.match(summary, /retriesattempt 2/);
  const listedNow = await eventAt(relay.url, channel, 1);
  assert.deepEqual([listedNow?.delivery, listedNow?.attempt, listedNow?.redelivery], ['delivered', 2, true]);
  assert.ok(app.requests[1]?.body.equals(app.requests[0]?.body as Buffer), 'the same bytes both times');
});

test('on Redis: the outcome is kept in the shared store, listed by another instance, and survives a relay crash', { ...needs('redis-server'), timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const relayA = await startRelayProcess(t, path.join(dir, 'a'), ['--redis', redis.url]);
  const relayB = await startRelayProcess(t, path.join(dir, 'b'), ['--redis', redis.url]);
  const app = await startReceiver(t, { respond: () => 500 });
  const channel = await createTestChannel(relayA.url);
  assert.equal((await post(channel.url, composeBody('MessageSent').body)).status, 202);

  const listen = await startListenCli(t, listenArgs(relayA.url, channel, app.url, 0.0002), { cwd: dir });
  const stderr = stderrOf(listen);
  const retrying = await stateOf(relayB.url, channel, 1, 'retrying');
  assert.equal(retrying.appStatus, 500);
  await waitUntil('the listener gives up', () => /relay: #1 FAILED after 6 attempts/.test(stderr()), 60_000);
  const failed = await stateOf(relayB.url, channel, 1, 'failed');
  assert.deepEqual([failed.attempt, failed.appStatus, failed.redelivery], [6, 500, true]);
  const list = await listed(relayA.url, channel);
  assert.deepEqual(list.outcomes, [{ seq: 1, delivery: 'failed', status: 500, attempt: 6 }], 'the page\'s update list says it too');

  await relayA.kill('SIGKILL');
  await relayB.kill('SIGKILL');
  const relayC = await startRelayProcess(t, path.join(dir, 'c'), ['--redis', redis.url]);
  assert.equal((await eventAt(relayC.url, channel, 1))?.delivery, 'failed');
  // A wrong token still sees nothing of it.
  const refused = await request(`${relayC.url}/inspect/${channel.id}/api/requests`, { headers: { authorization: 'Bearer not-the-token-at-all' } });
  assert.equal(refused.statusCode, 403);
  assert.doesNotMatch(await refused.body.text(), /failed/);

  // Deleting the channel removes its outcomes with every other key of it.
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());
  const outcomesKey = channelKeys(channel.id).outcomes;
  assert.equal(await client.exists(outcomesKey), 1);
  const deleted = await request(`${relayC.url}/channels/${channel.id}`, { method: 'DELETE', headers: { authorization: `Bearer ${channel.token}` } });
  assert.equal(deleted.statusCode, 204);
  await deleted.body.dump();
  assert.deepEqual(await client.keys(`fe-webhooks:{${channel.id}}*`), []);
});
