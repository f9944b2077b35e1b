import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { composeBody } from '../../src/events/compose.js';
import { startInspector } from '../../src/inspector/server.js';
import { startListen } from '../../src/listen/index.js';
import { verify } from '../../src/signing/index.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { launchChromium, post } from '../helpers/browser.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'inspector-detail-secret';

test('detail: query and form tables, pretty/raw/hex, schema violations by path, the app\'s answer, and a diff of two requests', needs('chromium'), async (t) => {
  const app = await startReceiver(t, {
    secret: SECRET,
    respond: (r, _index, res) => {
      res.writeHead(201, { 'content-type': 'text/plain', 'x-app-answer': 'from-the-app' }).end(`accepted ${r.url} ${'.'.repeat(3000)}`);
    },
  });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());

  const broken = JSON.parse(composeBody('MessageSent').body) as { payload: { message: { id: unknown } } };
  broken.payload.message.id = 'not-a-number';
  const brokenBody = JSON.stringify(broken);
  await post(`${listener.url}broken`, brokenBody, { secret: SECRET });
  const fixed = JSON.stringify({ ...broken, payload: { ...broken.payload, message: { ...broken.payload.message, id: 42 } } });
  await post(`${listener.url}fixed`, fixed, { secret: SECRET });
  await post(`${listener.url}form?a=1&b=two&a=3`, 'name=Ada+Lovelace&city=Z%C3%BCrich', { secret: SECRET, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  const binary = Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x41, 0x80]);
  await post(`${listener.url}binary`, binary, { secret: SECRET, headers: { 'content-type': 'application/octet-stream' } });

  const browser = await launchChromium(t);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(listener.inspectorUrl);
  const row = (p: string) => page.locator('#rows tr', { has: page.locator('td.path', { hasText: new RegExp(`^/${p}`) }) });
  await row('binary').waitFor({ timeout: 10_000 });

  // Schema verdict by JSON path, as verify reports it.
  await row('broken').click();
  await page.locator('#schema li').first().waitFor({ timeout: 10_000 });
  assert.deepEqual(await page.locator('#schema li').allTextContents(), ['payload.message.id expected integer, got string']);
  assert.equal(await page.locator('#schema code').first().textContent(), 'payload.message.id');
  const cli = await runCli(['verify', '--body', '-', '--signature', 'x', '--secret', SECRET], { input: Buffer.from(brokenBody) });
  assert.match(cli.stdout + cli.stderr, /payload\.message\.id/, 'verify names the same path');

  // The app's answer: status, headers, the first bytes of its body, latency.
  const answer = page.locator('#answer');
  assert.match((await answer.textContent()) ?? '', /status201/);
  assert.match((await answer.textContent()) ?? '', /latency[\d.]+ ms/);
  assert.match((await answer.textContent()) ?? '', /x-app-answerfrom-the-app/);
  assert.match((await page.locator('#answer-body').textContent()) ?? '', /^accepted \/hooks\/broken \.+$/);
  assert.equal(((await page.locator('#answer-body').textContent()) ?? '').length, 1024, 'the first 1024 bytes');
  assert.match((await answer.textContent()) ?? '', new RegExp(`first 1024 of ${'accepted /hooks/broken '.length + 3000} bytes`));

  // Pretty and raw views; the pretty one is shown first for JSON.
  assert.equal(await page.locator('#raw').textContent(), brokenBody);
  assert.ok(await page.locator('#pretty').isVisible());
  await page.click('#view-raw');
  assert.ok(await page.locator('#raw').isVisible());
  assert.equal(await page.locator('#pretty').isVisible(), false);

  // Diff: the broken one marked, the fixed one against it.
  await page.click('#mark');
  await row('fixed').click();
  await page.click('#diff');
  const diff = (await page.locator('#diff-view pre').textContent()) ?? '';
  assert.match(diff, /- POST \/broken/);
  assert.match(diff, /\+ POST \/fixed/);
  assert.match(diff, /- {7}"id": "not-a-number",/);
  assert.match(diff, /\+ {7}"id": 42,/);
  assert.match(diff, /  {3}"event": "MessageSent",/, 'unchanged lines are kept');
  await page.locator('#schema span.valid').waitFor({ timeout: 10_000 });

  // Query parameters and form fields as tables.
  await row('form').click();
  assert.deepEqual(await page.locator('#query tr').allTextContents(), ['a1', 'btwo', 'a3']);
  assert.deepEqual(await page.locator('#form tr').allTextContents(), ['nameAda Lovelace', 'cityZürich']);
  await page.locator('#schema', { hasText: 'not JSON' }).waitFor({ timeout: 10_000 });

  // Bytes that are not UTF-8: the hex view first.
  await row('binary').click();
  assert.ok(await page.locator('#hex').isVisible());
  assert.match((await page.locator('#hex').textContent()) ?? '', /^00000000 {2}7b ff fe 00 41 80 +\|\{\.\.\.A\.\|$/);
});

test('detail: the relay seq and the redelivery mark, when a record has them', needs('chromium'), async (t) => {
  const inspector = await startInspector({ host: '127.0.0.1', port: 0, webhookUrl: 'https://relay.example/c/ch_1/' });
  t.after(() => inspector.close());
  const base: CaptureRecord = {
    id: 'req_0000000010000000000000000',
    receivedAt: new Date().toISOString(),
    method: 'POST',
    path: '/c/ch_1',
    headers: { 'content-type': 'application/json' },
    body: '{"event":"MessageSent"}',
    bodyEncoding: 'utf8',
    bodySize: 23,
    event: 'MessageSent',
    signature: 'valid',
    responseStatus: 200,
    source: { kind: 'relay', channel: 'ch_1', seq: 17 },
  };
  inspector.publish(base);
  inspector.publish({ ...base, id: 'req_0000000020000000000000000', source: { kind: 'relay', channel: 'ch_1', seq: 18 }, redelivery: true } as CaptureRecord);
  const browser = await launchChromium(t);
  const page = await browser.newPage();
  await page.goto(inspector.url);
  await page.locator('#rows tr').nth(1).waitFor({ timeout: 10_000 });
  await page.locator('#rows tr').nth(0).click();
  assert.match((await page.locator('#summary').textContent()) ?? '', /relay seq18/);
  assert.equal(await page.locator('#redelivery-mark').textContent(), 'redelivery');
  await page.selectOption('#filter-delivery', 'redelivery');
  await page.locator('#count', { hasText: '1 of 2' }).waitFor();
  await page.locator('#rows tr').nth(1).evaluate((tr) => (tr as unknown as { hidden: boolean }).hidden).then((hidden) => assert.equal(hidden, true));
  await page.selectOption('#filter-delivery', '');
  await page.locator('#rows tr').nth(1).click();
  assert.match((await page.locator('#summary').textContent()) ?? '', /relay seq17/);
  assert.equal(await page.locator('#redelivery-mark').count(), 0);
});

test('act: edit and replay re-signs the edited bytes; a test event arrives; the exact body downloads; a HAR export passes verify; clear empties the list', needs('chromium'), async (t) => {
  const dir = await tempDir(t);
  const app = await startReceiver(t, { secret: SECRET });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());
  const original = composeBody('MessageBounced').body;
  await post(`${listener.url}in?k=v`, original, { secret: SECRET });
  const binary = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x80, 0x7b]);
  await post(`${listener.url}bin`, binary, { secret: SECRET, headers: { 'content-type': 'application/octet-stream' } });
  await app.waitFor(2);

  const browser = await launchChromium(t);
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(listener.inspectorUrl);
  const rows = page.locator('#rows tr');
  await rows.nth(1).waitFor({ timeout: 10_000 });

  // Edit and replay: the app gets the edited bytes with a valid signature for them.
  await rows.nth(1).click();
  await page.click('#edit');
  const edited = original.replace('"MessageBounced"', '"MessageBounced" ').replace(/"subject": "[^"]*"/, '"subject": "Edited ✓ in the inspector"');
  assert.notEqual(edited, original);
  await page.fill('#edit-body', edited);
  await page.click('#edit-send');
  await page.locator('#edit-result', { hasText: '→ 200' }).waitFor({ timeout: 10_000 });
  const replayed = app.requests[2];
  assert.ok(replayed);
  assert.equal(replayed.body.toString('utf8'), edited);
  assert.equal(replayed.signatureValid, true, 'signed for the edited bytes');
  assert.equal(replayed.url, '/hooks/in?k=v');
  assert.equal(replayed.headers['content-length'], String(Buffer.byteLength(edited)));

  // Download the exact body (bytes that are not UTF-8).
  await rows.nth(0).click();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-body')]);
  const saved = path.join(dir, 'body.bin');
  await download.saveAs(saved);
  assert.ok((await readFile(saved)).equals(binary));

  // A test event: signed, to listen's own URL, captured and forwarded like any request.
  await page.selectOption('#test-event', 'MessageLinkClicked');
  await page.click('#send-test');
  await page.locator('#action-result', { hasText: 'test event → 200' }).waitFor({ timeout: 10_000 });
  const test = app.requests[3];
  assert.ok(test);
  assert.equal((JSON.parse(test.body.toString('utf8')) as { event: string }).event, 'MessageLinkClicked');
  assert.equal(test.signatureValid, true);
  assert.ok(verify(test.body, test.headers['x-webhook-signature'], SECRET));
  await rows.nth(2).waitFor({ timeout: 10_000 });
  assert.match((await rows.nth(0).textContent()) ?? '', /MessageLinkClicked✓ valid200/);

  // Export what is shown (the JSON events) as HAR; verify accepts it.
  await page.selectOption('#filter-event', 'MessageLinkClicked');
  await page.locator('#count', { hasText: '1 of 3' }).waitFor();
  await page.selectOption('#filter-event', '');
  await page.selectOption('#filter-signature', 'valid');
  await page.fill('#search', 'event');
  await page.locator('#count', { hasText: '2 of 3' }).waitFor();
  const [har] = await Promise.all([page.waitForEvent('download'), page.click('#export-har')]);
  const harFile = path.join(dir, 'shown.har');
  await har.saveAs(harFile);
  const document = JSON.parse(await readFile(harFile, 'utf8')) as { log: { entries: Array<{ request: { url: string; postData: { text: string } } }> } };
  assert.equal(document.log.entries.length, 2, 'only the shown requests');
  assert.equal(document.log.entries[0]?.request.postData.text, original, 'the exact body');
  const verified = await runCli(['verify', harFile, '--secret', SECRET], { cwd: dir });
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /2 passed, 0 failed/);

  // Clear: the list empties, here and for the API.
  await page.click('#clear');
  await page.locator('#count', { hasText: '0 of 0' }).waitFor({ timeout: 10_000 });
  assert.equal(await rows.count(), 0);
  const list = (await (await request(`${listener.inspectorUrl}api/requests`)).body.json()) as { requests: unknown[] };
  assert.equal(list.requests.length, 0);
});

test('the inspector API answers bad input with a 4xx and a reason, and serves only its own two assets', async (t) => {
  const listener = await startListen({ port: 0 });
  t.after(() => listener.close());
  await post(listener.url, '{"event":"MessageSent"}');
  const base = listener.inspectorUrl;
  const { requests } = (await (await request(`${base}api/requests`)).body.json()) as { requests: Array<{ id: string }> };
  const id = requests[0]?.id as string;
  const call = async (path: string, method: 'GET' | 'POST', body?: string): Promise<{ status: number; text: string; type: string }> => {
    const res = await request(`${base}${path}`, { method, body });
    return { status: res.statusCode, text: await res.body.text(), type: String(res.headers['content-type']) };
  };
  assert.equal((await call(`api/requests/${id}/replay-edited`, 'POST', '{}')).status, 409, 'no target to replay to');
  assert.equal((await call('api/test-event', 'POST', 'not json')).status, 400);
  assert.equal((await call('api/test-event', 'POST', '{"event":7}')).status, 400);
  assert.match((await call('api/test-event', 'POST', '{"event":"NoSuchEvent"}')).text, /unknown event/);
  assert.equal((await call('api/har', 'POST', '{"ids":[1]}')).status, 400);
  assert.equal((await call('api/requests/req_missing/check', 'GET')).status, 404);
  assert.equal((await call(`api/requests/${id}/check`, 'POST')).status, 405);
  const script = await call('assets/inspector.js', 'GET');
  assert.equal(script.status, 200);
  assert.match(script.type, /^text\/javascript/);
  assert.doesNotMatch(script.text, /https?:\/\/(?!127\.0\.0\.1)[a-z]/i, 'the script loads nothing from the network');
  assert.equal((await call('assets/..%2F..%2Fpackage.json', 'GET')).status, 404);
  assert.equal((await call('assets/inspector.ts', 'GET')).status, 404);
});
