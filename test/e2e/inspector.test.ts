import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import WebSocket from 'ws';
import { startListen } from '../../src/listen/index.js';
import { sign } from '../../src/signing/index.js';
import { launchChromium as launch } from '../helpers/browser.js';
import { startReceiver } from '../helpers/receiver.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'inspector-test-secret';

test('the inspector shows a new request live, its details, replays it and copies it as curl', needs('chromium'), async (t) => {
  const app = await startReceiver(t, { secret: SECRET });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());
  const browser = await launch(t);
  const page = await browser.newPage();
  await page.goto(listener.inspectorUrl);
  await page.getByText('live', { exact: true }).waitFor({ timeout: 10_000 });
  assert.equal(await page.locator('#webhook-url').textContent(), listener.url);

  const body = '{"event":"MessageBounced","payload":{"bounce":{"subject":"Undelivered \\u00e9"}}}';
  const res = await request(`${listener.url}in?x=1`, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body, SECRET) } });
  assert.equal(res.statusCode, 200);
  await res.body.dump();
  const unsigned = await request(listener.url, { method: 'POST', body: '{"event":"MessageSent"}' });
  await unsigned.body.dump();

  // Both appear without a reload; the newest is on top.
  const rows = page.locator('#rows tr');
  await rows.nth(1).waitFor({ timeout: 10_000 });
  assert.match((await rows.nth(1).textContent()) ?? '', /POST\/in\?x=1MessageBounced✓ valid200/);
  assert.match((await rows.nth(0).textContent()) ?? '', /MessageSent– unsigned401/);

  // Filter by event type.
  await page.selectOption('#filter-event', 'MessageBounced');
  assert.equal(await rows.nth(0).isVisible(), false);
  assert.equal(await rows.nth(1).isVisible(), true);

  await rows.nth(1).click();
  const details = page.locator('#details');
  await page.locator('#headers').waitFor();
  assert.match((await page.locator('#pretty').textContent()) ?? '', /"subject": "Undelivered é"/);
  assert.equal(await page.locator('#raw').textContent(), body);
  const detailText = (await details.textContent()) ?? '';
  assert.match(detailText, /signature✓ valid/);
  assert.match(detailText, /forward200 in [\d.]+ ms/);
  assert.match(detailText, /x-webhook-signaturesha256=[0-9a-f]{64}/);

  await page.click('#replay');
  await page.locator('#replay-result', { hasText: '→ 200' }).waitFor({ timeout: 10_000 });
  const replayed = app.requests[2];
  assert.ok(replayed, 'the app got the replay');
  assert.equal(replayed.body.toString('utf8'), body);
  assert.equal(replayed.signatureValid, true);
  assert.equal(replayed.url, '/hooks/in?x=1');

  await page.click('#copy-curl');
  // The server builds the command; the box shows once it has arrived.
  await page.locator('#curl:not([hidden])').waitFor({ timeout: 10_000 });
  const curl = await page.locator('#curl').inputValue();
  // Printable ASCII and small: inline and readable (test/e2e/copy-as-curl.test.ts has the rest).
  assert.ok(curl.startsWith(`curl -X POST '${listener.url}in?x=1' `), curl);
  assert.ok(curl.endsWith(` --data-binary '${body}'`), curl);
  assert.match(curl, /-H 'x-webhook-signature: sha256=[0-9a-f]{64}'/);
  assert.doesNotMatch(curl, /-H 'host:/);
});

test('requests that arrive while the page is reconnecting are listed once it is back, each once', needs('chromium'), async (t) => {
  const listener = await startListen({ port: 0 });
  t.after(() => listener.close());
  const send = async (path: string): Promise<void> => {
    const res = await request(`${listener.url}${path}`, { method: 'POST', body: '{"event":"MessageSent"}' });
    await res.body.dump();
  };
  const browser = await launch(t);
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(listener.inspectorUrl);
  await page.getByText('live', { exact: true }).waitFor({ timeout: 10_000 });
  const rows = page.locator('#rows tr');
  await send('before');
  await rows.nth(0).waitFor({ timeout: 10_000 });

  // Offline: the open socket stays up, but the page cannot dial a new one until we say so.
  await context.setOffline(true);
  await page.evaluate(() => (globalThis as unknown as { state: { ws: { close(): void } } }).state.ws.close());
  await page.getByText('disconnected, retrying…').waitFor({ timeout: 10_000 });
  for (const path of ['while-1', 'while-2', 'while-3']) await send(path);
  await context.setOffline(false);
  await page.getByText('live', { exact: true }).waitFor({ timeout: 10_000 });
  await rows.nth(3).waitFor({ timeout: 10_000 });
  await send('after');
  await rows.nth(4).waitFor({ timeout: 10_000 });

  const paths = await rows.evaluateAll((trs) => trs.map((tr) => tr.children[2]?.textContent ?? ''));
  assert.deepEqual(paths, ['/after', '/while-3', '/while-2', '/while-1', '/before'], 'all listed, newest on top, none twice');
  const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
  assert.equal(new Set(ids).size, ids.length);
});

test('the inspector refuses other origins: API, replay and WebSocket', needs('chromium'), async (t) => {
  const app = await startReceiver(t);
  const listener = await startListen({ port: 0, forward: new URL(app.url) });
  t.after(() => listener.close());
  const posted = await request(listener.url, { method: 'POST', body: '{}' });
  await posted.body.dump();
  const { port } = new URL(listener.inspectorUrl);
  const list = await request(`${listener.inspectorUrl}api/requests`);
  const { requests } = (await list.body.json()) as { requests: Array<{ id: string }> };
  const id = requests[0]?.id as string;
  assert.ok(id);

  const evilReplay = await request(`${listener.inspectorUrl}api/requests/${id}/replay`, { method: 'POST', headers: { origin: 'http://evil.example' } });
  assert.equal(evilReplay.statusCode, 403);
  await evilReplay.body.dump();
  const rebound = await request(`${listener.inspectorUrl}api/requests`, { headers: { host: `evil.example:${port}` } });
  assert.equal(rebound.statusCode, 403, 'a DNS-rebinding Host is refused');
  await rebound.body.dump();
  assert.equal(app.requests.length, 1, 'no replay happened');
  // The newer actions are refused the same way: clear, edit and replay, a test event, an export.
  for (const [path, method] of [['api/requests', 'DELETE'], [`api/requests/${id}/replay-edited`, 'POST'], ['api/test-event', 'POST'], ['api/har', 'POST']] as const) {
    const evil = await request(`${listener.inspectorUrl}${path}`, { method, body: '{"event":"MessageSent","ids":[]}', headers: { origin: 'http://evil.example', 'content-type': 'text/plain' } });
    assert.equal(evil.statusCode, 403, `${method} ${path}`);
    await evil.body.dump();
  }
  assert.equal(app.requests.length, 1, 'nothing was sent');
  assert.equal(((await (await request(`${listener.inspectorUrl}api/requests`)).body.json()) as { requests: unknown[] }).requests.length, 1, 'nothing was cleared');

  const wsStatus = await new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, { origin: 'http://evil.example' });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => reject(new Error('a cross-origin WebSocket was accepted')));
    ws.on('error', () => {});
  });
  assert.equal(wsStatus, 403);

  // A real page on another origin cannot make the inspector replay.
  const browser = await launch(t);
  const page = await browser.newPage();
  await page.goto(`${app.url}/attacker`);
  const outcome = await page.evaluate(async (url) => {
    try {
      await fetch(url, { method: 'POST', mode: 'no-cors' });
      return 'sent';
    } catch (error) {
      return String(error);
    }
  }, `${listener.inspectorUrl}api/requests/${id}/replay`);
  // no-cors: the browser sends the POST and gets an opaque answer, so nothing here can
  // tell a refusal from a replay; what the app received can.
  assert.equal(outcome, 'sent', 'the browser did send the cross-origin POST');
  assert.equal(app.requests.filter((r) => r.method === 'POST').length, 1, 'the cross-origin POST replayed nothing');

  const same = await request(`${listener.inspectorUrl}api/requests/${id}/replay`, { method: 'POST', headers: { origin: listener.inspectorUrl.replace(/\/$/, '') } });
  assert.equal(same.statusCode, 200, 'the page itself may replay');
  assert.equal(((await same.body.json()) as { status: number }).status, 200);
});
