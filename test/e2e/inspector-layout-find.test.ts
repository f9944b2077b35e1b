import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { Page } from 'playwright-core';
import { composeBody } from '../../src/events/compose.js';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { startListen } from '../../src/listen/index.js';
import { launchChromium, post } from '../helpers/browser.js';
import { startReceiver } from '../helpers/receiver.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'inspector-layout-secret';
const LONG_PATH = `/webhooks/frontengine/${'tenant-with-a-rather-long-name/'.repeat(8)}deliveries?region=eu-west-1&attempt=1`;

/** Every cell of the first row: where it is, and whether its text is cut. */
async function cells(page: Page): Promise<Array<{ text: string; left: number; right: number; cut: boolean; title: string }>> {
  return page.locator('#rows tr').first().locator('td').evaluateAll((tds) =>
    tds.map((td) => {
      const box = td.getBoundingClientRect();
      return { text: td.textContent ?? '', left: box.left, right: box.right, cut: td.scrollWidth > td.clientWidth, title: td.getAttribute('title') ?? '' };
    }),
  );
}

test('layout: column headers, no column clipped at 1280, 1024 and a narrow window; long paths cut with the whole path on hover; dark mode', needs('chromium'), async (t) => {
  const app = await startReceiver(t, { secret: SECRET });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());
  assert.equal(await post(`${listener.url}${LONG_PATH.slice(1)}`, composeBody('MessageDeliveryFailed').body, { secret: SECRET }), 200);
  const browser = await launchChromium(t);
  const shot = path.join(os.tmpdir(), `fe-webhooks-inspector-${process.pid}.png`);
  t.after(() => rm(shot, { force: true }));

  for (const [width, height] of [[1280, 800], [1024, 768], [560, 800]] as const) {
    const page = await browser.newPage({ viewport: { width, height } });
    await page.goto(listener.inspectorUrl);
    await page.locator('#rows tr').first().waitFor({ timeout: 10_000 });
    assert.deepEqual(await page.locator('#list thead th').allTextContents(), ['Time', 'Method', 'Path', 'Event', 'Signature', 'Status']);
    const row = await cells(page);
    assert.equal(row.length, 6);
    for (const cell of row) {
      assert.ok(cell.left >= 0 && cell.right <= width, `${width}px: "${cell.text}" lies within the window (${cell.left}..${cell.right})`);
    }
    const [time, method, pathCell, event, signature, status] = row as [(typeof row)[0], (typeof row)[0], (typeof row)[0], (typeof row)[0], (typeof row)[0], (typeof row)[0]];
    for (const cell of [time, method, event, signature, status]) assert.equal(cell.cut, false, `${width}px: "${cell.text}" is whole`);
    assert.equal(method.text, 'POST');
    assert.equal(event.text, 'MessageDeliveryFailed');
    assert.equal(signature.text, '✓ valid');
    assert.equal(status.text, '200');
    assert.equal(pathCell.cut, true, 'the long path is cut');
    assert.equal(pathCell.title, LONG_PATH, 'the whole path is on hover');
    const overflow = await page.evaluate(() => {
      const root = (globalThis as unknown as { document: { documentElement: { scrollWidth: number; clientWidth: number } } }).document.documentElement;
      return root.scrollWidth - root.clientWidth;
    });
    assert.ok(overflow <= 0, `${width}px: no horizontal scrolling (${overflow}px over)`);
    if (width === 1280) {
      await page.screenshot({ path: shot });
      assert.ok((await readFile(shot)).subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'a PNG screenshot');
    }
    await page.close();
  }

  const background = async (colorScheme: 'dark' | 'light'): Promise<string> => {
    const page = await browser.newPage({ colorScheme });
    await page.goto(listener.inspectorUrl);
    await page.locator('#rows tr').first().waitFor({ timeout: 10_000 });
    const color = await page.evaluate(() => {
      const w = globalThis as unknown as { getComputedStyle(e: unknown): { backgroundColor: string }; document: { body: unknown } };
      return w.getComputedStyle(w.document.body).backgroundColor;
    });
    await page.close();
    return color;
  };
  assert.equal(await background('light'), 'rgb(255, 255, 255)');
  assert.equal(await background('dark'), 'rgb(22, 24, 29)');
});

test('find: search over path, headers and body, combinable filters kept in the URL, nine events and "other", a shown/total count, j/k and /', needs('chromium'), async (t) => {
  // The app answers a GET 200 and refuses unsigned POSTs.
  const app = await startReceiver(t, { secret: SECRET, respond: (r) => (r.method === 'GET' || r.signatureValid ? 200 : 401) });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());
  const sent = JSON.parse(composeBody('MessageSent').body) as { payload: { details: string } };
  sent.payload.details = 'needle-42 in the body';
  assert.equal(await post(`${listener.url}orders?tenant=acme`, JSON.stringify(sent), { secret: SECRET }), 200);
  assert.equal(await post(`${listener.url}hooks`, composeBody('MessageBounced').body, { secret: SECRET, headers: { 'x-trace': 'header-only-token' } }), 200);
  const odd = '{"event":"Custom<img src=x onerror=alert(1)> with a very long name that would widen a dropdown"}';
  assert.equal(await post(`${listener.url}odd`, odd), 401, 'unsigned: the app refuses it');
  assert.equal(await post(`${listener.url}health`, '', { method: 'GET', headers: {} }), 200);

  const browser = await launchChromium(t);
  const page = await browser.newPage();
  await page.goto(listener.inspectorUrl);
  const rows = page.locator('#rows tr');
  const visible = async (): Promise<string[]> => rows.evaluateAll((trs) => trs.filter((tr) => !(tr as unknown as { hidden: boolean }).hidden).map((tr) => tr.children[2]?.textContent ?? ''));
  await rows.nth(3).waitFor({ timeout: 10_000 });
  await page.locator('#count', { hasText: '4 of 4' }).waitFor();

  const options = await page.locator('#filter-event option').allTextContents();
  assert.deepEqual(options, ['any event', ...EVENT_NAMES, 'other', 'none'], 'the nine known events, then other; no sender text');
  assert.equal(EVENT_NAMES.length, 9);
  assert.equal(await page.locator('img').count(), 0, 'the sender\'s markup is text, never an element');

  await page.fill('#search', 'needle-42');
  assert.deepEqual(await visible(), ['/orders?tenant=acme']);
  await page.locator('#count', { hasText: '1 of 4' }).waitFor();
  await page.fill('#search', 'HEADER-ONLY-token');
  assert.deepEqual(await visible(), ['/hooks'], 'headers are searched, case-insensitively');
  await page.fill('#search', 'tenant=acme');
  assert.deepEqual(await visible(), ['/orders?tenant=acme'], 'the path is searched');
  await page.fill('#search', '');

  await page.selectOption('#filter-event', 'other');
  assert.deepEqual(await visible(), ['/odd']);
  await page.selectOption('#filter-event', '');
  await page.selectOption('#filter-signature', 'unsigned');
  assert.deepEqual(await visible(), ['/health', '/odd']);
  await page.selectOption('#filter-method', 'GET');
  assert.deepEqual(await visible(), ['/health'], 'filters combine');
  await page.selectOption('#filter-method', '');
  await page.selectOption('#filter-status', '4xx');
  assert.deepEqual(await visible(), ['/odd']);
  await page.selectOption('#filter-delivery', 'forwarded');
  assert.deepEqual(await visible(), ['/odd'], 'forwarded: the app answered');
  await page.locator('#count', { hasText: '1 of 4' }).waitFor();
  assert.match(page.url(), /[?&]status=4xx/);
  assert.match(page.url(), /[?&]signature=unsigned/);

  await page.reload();
  await rows.nth(3).waitFor({ state: 'attached', timeout: 10_000 });
  assert.equal(await page.locator('#filter-status').inputValue(), '4xx', 'a reload keeps the filter');
  assert.equal(await page.locator('#filter-signature').inputValue(), 'unsigned');
  assert.deepEqual(await visible(), ['/odd']);
  await page.locator('#count', { hasText: '1 of 4' }).waitFor();

  // Keyboard: / searches, j/k move through what is shown.
  await page.goto(listener.inspectorUrl);
  await rows.nth(3).waitFor({ timeout: 10_000 });
  await page.keyboard.press('/');
  assert.equal(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id), 'search');
  await page.keyboard.press('Escape');
  await page.keyboard.press('j');
  await page.locator('#rows tr.selected').waitFor();
  assert.equal(await page.locator('#rows tr.selected td').nth(2).textContent(), '/health');
  await page.keyboard.press('j');
  assert.equal(await page.locator('#rows tr.selected td').nth(2).textContent(), '/odd');
  await page.keyboard.press('k');
  assert.equal(await page.locator('#rows tr.selected td').nth(2).textContent(), '/health');
  assert.match((await page.locator('#details h2').textContent()) ?? '', /^GET \/health$/);
});
