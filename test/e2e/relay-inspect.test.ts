import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { composeBody } from '../../src/events/compose.js';
import { sign } from '../../src/signing/index.js';
import { launchChromium } from '../helpers/browser.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, forwardTo, openTestTunnel, post, startRelayProcess } from '../helpers/relay.js';
import { startReceiver } from '../helpers/receiver.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'relay-inspect-secret';

async function api(url: string, token: string | undefined, init: { method?: 'GET' | 'PUT' | 'DELETE' | 'POST'; body?: string } = {}): Promise<{ status: number; json: unknown }> {
  const res = await request(url, { method: init.method ?? 'GET', body: init.body, headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const text = await res.body.text();
  return { status: res.statusCode, json: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

test('the relay\'s channel page: nothing without the right token, then the stored events with their delivery state; the token never in a URL', needs('chromium'), async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const channel = await createTestChannel(relay.url);
  const app = await startReceiver(t, { secret: SECRET });

  // Two events reach the app through a listener (delivered), then it goes and one waits (queued).
  const { tunnel } = openTestTunnel(t, relay.url, channel, { handler: forwardTo(`${app.url}/hooks`) });
  for (const event of ['MessageSent', 'MessageBounced'] as const) {
    const body = composeBody(event).body;
    assert.equal((await post(`${channel.url}/orders?tenant=acme`, body, { 'x-webhook-signature': sign(body, SECRET) })).status, 200);
  }
  await tunnel.close();
  const queuedBody = composeBody('MessageHeld').body;
  assert.equal((await post(`${channel.url}/later`, queuedBody, { 'x-webhook-signature': sign(queuedBody, SECRET) })).status, 202);

  // The API refuses as the relay refuses any token: 401 without, 403 wrong, 404 unknown channel.
  const list = `${relay.url}/inspect/${channel.id}/api/requests`;
  assert.equal((await api(list, undefined)).status, 401);
  const wrong = await api(list, 'not-the-token');
  assert.equal(wrong.status, 403);
  const adminWrong = await request(`${relay.url}/channels/${channel.id}/token`, { method: 'POST', headers: { authorization: 'Bearer not-the-token' } });
  assert.deepEqual(wrong.json, await adminWrong.body.json(), 'the same refusal as the admin endpoints');
  assert.equal((await api(`${relay.url}/inspect/AAAAAAAAAAAAAAAAAAAAAAAA/api/requests`, channel.token)).status, 404);

  const browser = await launchChromium(t);
  const context = await browser.newContext();
  const urls: string[] = [];
  context.on('request', (r) => urls.push(r.url()));
  const page = await context.newPage();
  await page.goto(`${relay.url}/inspect/${channel.id}`);
  await page.locator('#token').waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#main').isVisible(), false);

  await page.fill('#token', 'wrong-token-typed-here');
  await page.click('#token-open');
  await page.locator('#refused', { hasText: 'refused this token' }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#rows tr').count(), 0, 'a wrong token shows nothing');
  assert.equal(await page.locator('#main').isVisible(), false);
  assert.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { length: number } }).sessionStorage.length), 0, 'a refused token is not kept');

  await page.fill('#token', channel.token);
  await page.click('#token-open');
  const rows = page.locator('#rows tr');
  await rows.nth(2).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#refused').isVisible(), false);
  assert.equal(await page.locator('#webhook-url').textContent(), channel.url);
  // Newest on top: the queued one, then the two delivered (the page polls until the acks show).
  await page.locator('#rows tr:nth-child(3) td:nth-child(6)', { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
  await page.locator('#rows tr:nth-child(2) td:nth-child(6)', { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
  assert.deepEqual(await rows.evaluateAll((trs) => trs.map((tr) => [tr.children[2]?.textContent, tr.children[3]?.textContent, tr.children[5]?.textContent])), [
    ['/later', 'MessageHeld', 'queued'],
    ['/orders?tenant=acme', 'MessageBounced', 'delivered'],
    ['/orders?tenant=acme', 'MessageSent', 'delivered'],
  ]);
  await page.selectOption('#filter-delivery', 'queued');
  await page.locator('#count', { hasText: '1 of 3' }).waitFor();
  await page.selectOption('#filter-delivery', '');

  // Details come through the same API: the relay seq, the exact body, the schema verdict.
  await rows.nth(0).click();
  assert.match((await page.locator('#summary').textContent()) ?? '', /relay seq3/);
  assert.equal(await page.locator('#raw').textContent(), queuedBody);
  await page.locator('#schema span.valid').waitFor({ timeout: 10_000 });

  // Kept for this tab: a reload opens the channel without typing the token again.
  await page.reload();
  await rows.nth(2).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#token-form').isVisible(), false);

  // Live: a listener connects, the queued event is delivered, a new one comes in; the page follows.
  openTestTunnel(t, relay.url, channel, { handler: forwardTo(`${app.url}/hooks`) });
  await page.locator('#rows tr:nth-child(1) td:nth-child(6)', { hasText: 'delivered' }).waitFor({ timeout: 15_000 });
  const liveBody = composeBody('MessageLinkClicked').body;
  assert.equal((await post(`${channel.url}/live`, liveBody, { 'x-webhook-signature': sign(liveBody, SECRET) })).status, 200);
  await rows.nth(3).waitFor({ timeout: 15_000 });
  assert.equal(await rows.nth(0).locator('td').nth(2).textContent(), '/live');
  await page.locator('#count', { hasText: '4 of 4' }).waitFor();

  assert.ok(urls.length > 3);
  for (const url of urls) assert.ok(!url.includes(channel.token), `the token is never in a URL: ${url}`);
});

test('custom answers while no listener is connected: set from the channel page and with `channel respond`, default 202', needs('chromium'), async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const channel = await createTestChannel(relay.url);
  const flags = ['--relay', relay.url, '--channel', channel.id, '--token', channel.token];
  assert.equal((await post(channel.url, '{}')).status, 202, 'the default');

  const browser = await launchChromium(t);
  const page = await browser.newPage();
  await page.goto(`${relay.url}/inspect/${channel.id}`);
  await page.fill('#token', channel.token);
  await page.click('#token-open');
  await page.locator('#rows tr').first().waitFor({ timeout: 10_000 });
  await page.click('#custom-answer');
  await page.locator('#answer-result', { hasText: 'default: 202 queued' }).waitFor({ timeout: 10_000 });
  await page.fill('#answer-status', '418');
  await page.fill('#answer-type', 'text/plain');
  await page.fill('#answer-body-input', 'teapot from the page');
  await page.click('#answer-save');
  await page.locator('#answer-result', { hasText: 'custom: 418 after 0 ms' }).waitFor({ timeout: 10_000 });
  const teapot = await post(channel.url, '{"event":"MessageSent"}');
  assert.equal(teapot.status, 418);
  assert.equal(teapot.text, 'teapot from the page');
  assert.equal(teapot.headers['content-type'], 'text/plain');

  const set = await runCli(['channel', 'respond', ...flags, '--status', '500', '--delay', '2s', '--body', '{"down":true}'], { cwd: dir });
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, /now answers 500 .* after 2000 ms/);
  const started = Date.now();
  const down = await post(channel.url, '{"event":"MessageSent"}');
  assert.ok(Date.now() - started >= 1900, 'after the delay');
  assert.equal(down.status, 500);
  assert.equal(down.text, '{"down":true}');
  assert.equal(down.headers['x-fe-webhooks-seq'], '3', 'stored all the same');

  // It survives a restart of the relay (the file store keeps it).
  await relay.kill('SIGTERM');
  const again = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const flagsAgain = ['--relay', again.url, '--channel', channel.id, '--token', channel.token];
  assert.equal((await post(`${again.url}/c/${channel.id}`, '{}')).status, 500);

  const tooLong = await runCli(['channel', 'respond', ...flagsAgain, '--delay', '11s'], { cwd: dir });
  assert.equal(tooLong.code, 2);
  assert.match(tooLong.stderr, /at most 10s/);
  const wrong = await runCli(['channel', 'respond', '--relay', again.url, '--channel', channel.id, '--token', 'nope', '--status', '500'], { cwd: dir });
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /refused the token/);
  const reset = await runCli(['channel', 'respond', ...flagsAgain, '--reset', '--json'], { cwd: dir });
  assert.equal(reset.code, 0, reset.stderr);
  assert.deepEqual(JSON.parse(reset.stdout), { action: 'respond', relay: again.url, channel: channel.id, answer: null });
  assert.equal((await post(`${again.url}/c/${channel.id}`, '{}')).status, 202);
  assert.equal((await api(`${again.url}/channels/${channel.id}/answer`, channel.token, { method: 'PUT', body: '{"status":500,"delayMs":10001}' })).status, 400);
});

test('on Redis: a custom answer set through one instance is given by another; the channel page lists the events', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const [a, b] = await Promise.all(['a', 'b'].map((name) => startRelayProcess(t, path.join(dir, name), ['--redis', redis.url])));
  const relayA = a as Awaited<ReturnType<typeof startRelayProcess>>;
  const relayB = b as Awaited<ReturnType<typeof startRelayProcess>>;
  const channel = await createTestChannel(relayA.url);
  const set = await runCli(['channel', 'respond', '--relay', relayA.url, '--channel', channel.id, '--token', channel.token, '--status', '503', '--body', 'busy', '--content-type', 'text/plain'], { cwd: dir });
  assert.equal(set.code, 0, set.stderr);
  const busy = await post(`${relayB.url}/c/${channel.id}`, '{"event":"MessageSent"}');
  assert.equal(busy.status, 503);
  assert.equal(busy.text, 'busy');
  const listed = await api(`${relayB.url}/inspect/${channel.id}/api/requests`, channel.token);
  assert.equal(listed.status, 200);
  const requests = (listed.json as { requests: Array<{ seq: number; delivery: string; event: string }> }).requests;
  assert.deepEqual(requests.map((r) => [r.seq, r.delivery, r.event]), [[1, 'queued', 'MessageSent']]);
  assert.equal((await runCli(['channel', 'respond', '--relay', relayB.url, '--channel', channel.id, '--token', channel.token, '--reset'], { cwd: dir })).code, 0);
  assert.equal((await post(`${relayA.url}/c/${channel.id}`, '{}')).status, 202);
  assert.equal((await api(`${relayA.url}/inspect/${channel.id}/api/requests`, 'wrong')).status, 403);
});

test('hostile input to the channel page and its API: 4xx with a JSON error, and the relay keeps serving', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const channel = await createTestChannel(relay.url);
  assert.equal((await post(channel.url, '{"event":"MessageSent"}')).status, 202);
  const base = `${relay.url}/inspect/${channel.id}/api`;
  const cases: Array<[string, { method?: 'GET' | 'PUT' | 'DELETE' | 'POST'; body?: string }, number]> = [
    [`${relay.url}/inspect/..%2F..%2Fetc`, {}, 404],
    [`${relay.url}/inspect/assets/..%2Fserver.js`, {}, 404],
    [`${relay.url}/inspect/assets/inspector.map`, {}, 404],
    [`${base}/requests/seq-99999999/body`, {}, 404],
    [`${base}/requests/seq-0/curl`, {}, 404],
    [`${base}/requests/req_1/body`, {}, 404],
    [`${base}/har`, { method: 'POST', body: '{"ids":"nope"}' }, 400],
    [`${base}/har`, { method: 'POST', body: 'not json' }, 400],
    [`${base}/answer`, { method: 'PUT', body: '[]' }, 400],
    [`${base}/answer`, { method: 'PUT', body: '{"status":99}' }, 400],
    [`${base}/answer`, { method: 'PUT', body: '{"contentType":"text/plain\\r\\nx-evil: 1"}' }, 400],
    [`${base}/answer`, { method: 'PUT', body: JSON.stringify({ body: 'x'.repeat(70_000) }) }, 400],
    [`${base}/answer`, { method: 'POST', body: '{}' }, 405],
    [`${base}/nothing-here`, {}, 404],
  ];
  for (const [url, init, status] of cases) {
    const res = await api(url, channel.token, init);
    assert.equal(res.status, status, `${init.method ?? 'GET'} ${url}`);
    assert.equal(typeof (res.json as { error?: unknown }).error, 'string', `${url}: a JSON error`);
  }
  // The HAR export of what is there still works, and the page is still served.
  const har = await api(`${base}/har`, channel.token, { method: 'POST', body: '{"ids":["seq-1","seq-404"]}' });
  assert.equal(har.status, 200);
  assert.equal((har.json as { log: { entries: unknown[] } }).log.entries.length, 1);
  const page = await request(`${relay.url}/inspect/${channel.id}`);
  assert.equal(page.statusCode, 200);
  assert.match(String(page.headers['content-security-policy']), /default-src 'none'; script-src 'self'/);
  assert.doesNotMatch(await page.body.text(), new RegExp(channel.token));
});
