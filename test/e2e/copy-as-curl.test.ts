import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test, type TestContext } from 'node:test';
import { chromium } from 'playwright-core';
import { request } from 'undici';
import { startListen } from '../../src/listen/index.js';
import { sign } from '../../src/signing/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { assertPrintable } from '../helpers/printable-output.js';
import { pythonVerify } from '../helpers/python.js';
import { startReceiver } from '../helpers/receiver.js';
import { needs, programPath } from '../helpers/system-programs.js';

const SECRET = 'copy-as-curl-secret';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];

/**
 * Runs a copied command the way a user pastes it: bash reads it as input (a 300 KB line
 * could not be one `bash -c` argument: the kernel caps one at 128 KiB), curl sends it.
 */
function runInBash(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-s'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`bash exited ${code}: ${stderr}`));
    });
    child.stdin.end(`${command}\n`);
  });
}

/** A 300,031-byte JSON body (over the inspector's 256 KiB preview) and a binary one with NUL, ESC and bytes that are not UTF-8. */
function bodies(): { large: Buffer; binary: Buffer } {
  const filler = 'x'.repeat(300_031 - JSON.stringify({ event: 'MessageSent', payload: { note: '' } }).length);
  const large = Buffer.from(JSON.stringify({ event: 'MessageSent', payload: { note: filler } }));
  assert.equal(large.length, 300_031);
  const binary = Buffer.concat([Buffer.from('{"event":"MessageSent"}\x00\x1b[31m\n'), Buffer.from([0xff, 0xfe, 0x80, 0x25, 0x27, 0x5c, 0x23, 0x23, 0x5b]), Buffer.from('%s\\n\'"$HOME`x`')]);
  return { large, binary };
}

async function startLoop(t: TestContext): Promise<{ app: Awaited<ReturnType<typeof startReceiver>>; listener: Awaited<ReturnType<typeof startListen>> }> {
  const app = await startReceiver(t, { secret: SECRET });
  const listener = await startListen({ port: 0, secret: SECRET, forward: new URL(`${app.url}/hooks`) });
  t.after(() => listener.close());
  return { app, listener };
}

async function post(url: string, body: Buffer): Promise<void> {
  const res = await request(url, { method: 'POST', body, headers: { 'content-type': 'application/json', 'x-webhook-signature': sign(body, SECRET) } });
  await res.body.dump();
  assert.equal(res.statusCode, 200);
}

test('copy as curl replays a 300 KB body and a binary one byte for byte, with valid signatures', needs('python3'), async (t) => {
  const { app, listener } = await startLoop(t);
  const { large, binary } = bodies();
  await post(`${listener.url}big?x=1`, large);
  await post(`${listener.url}bin`, binary);
  const list = await request(`${listener.inspectorUrl}api/requests`);
  const { requests } = (await list.body.json()) as { requests: Array<{ id: string; bodyTruncated?: boolean }> };
  assert.equal(requests[0]?.bodyTruncated, true, 'the page holds only a preview of the large body');

  for (const [index, expected] of [large, binary].entries()) {
    const res = await request(`${listener.inspectorUrl}api/requests/${requests[index]?.id}/curl`);
    assert.equal(res.statusCode, 200);
    const command = await res.body.text();
    assert.match(command, /^printf '[\x20-\x7e]*' \| curl -X POST /, 'one line of printable ASCII, body piped from printf');
    assertPrintable(command, 'copy-as-curl command');
    const before = app.requests.length;
    await runInBash(command);
    await app.waitFor(before + 1);
    const replayed = app.requests[before];
    assert.ok(replayed);
    assert.ok(replayed.body.equals(expected), `body ${index}: ${replayed.body.length} bytes arrived, ${expected.length} expected`);
    assert.equal(replayed.signatureValid, true);
    assert.deepEqual(pythonVerify([[replayed.body, String(replayed.headers['x-webhook-signature']), SECRET]]), [true], 'the provider page\'s verify_webhook accepts it');
  }
  assert.equal(app.requests.at(-2)?.url, '/hooks/big?x=1');
});

test('the inspector page copies the command the server built (whole body, not the preview)', needs('chromium'), async (t) => {
  const { listener } = await startLoop(t);
  const { large } = bodies();
  await post(`${listener.url}big`, large);
  const browser = await chromium.launch({ executablePath: programPath('chromium'), args: CHROMIUM_ARGS });
  t.after(() => browser.close());
  const page = await browser.newPage();
  await page.goto(listener.inspectorUrl);
  const row = page.locator('#rows tr').first();
  await row.waitFor({ timeout: 10_000 });
  await row.click();
  await page.click('#copy-curl');
  await page.locator('#curl').and(page.locator(':visible')).waitFor({ timeout: 10_000 });
  const shown = await page.locator('#curl').inputValue();
  const list = await request(`${listener.inspectorUrl}api/requests`);
  const { requests } = (await list.body.json()) as { requests: Array<{ id: string }> };
  const built = await (await request(`${listener.inspectorUrl}api/requests/${requests[0]?.id}/curl`)).body.text();
  assert.equal(shown, built);
  assert.ok(shown.length > 300_031, 'the whole body is in it');
});

test('send --body - --dry-run with bytes that are not UTF-8: the curl line sends them exactly', async (t) => {
  const dir = await tempDir(t);
  const app = await startReceiver(t, { secret: SECRET });
  const { binary } = bodies();
  const result = await runCli(['send', '--body', '-', '--url', `${app.url}/hooks`, '--secret', SECRET, '--dry-run'], { cwd: dir, input: binary });
  assert.equal(result.code, 0, result.stderr);
  assertPrintable(result.stdoutBytes, 'dry-run output');
  assert.doesNotMatch(result.stdout, /\ufffd/, 'no replacement character');
  assert.match(result.stdout, /\\xff\\xfe\\x80/, 'the preview shows the bytes escaped');
  const curl = result.stdout.trimEnd().split('\n').at(-1) ?? '';
  assert.match(curl, /^printf '/);
  await runInBash(curl);
  await app.waitFor(1);
  assert.ok(app.requests[0]?.body.equals(binary));
  assert.equal(app.requests[0]?.signatureValid, true);

  const json = await runCli(['send', '--body', '-', '--url', `${app.url}/hooks`, '--secret', SECRET, '--dry-run', '--json'], { cwd: dir, input: binary });
  const line = JSON.parse(json.stdout) as { body: string; bodyEncoding: string };
  assert.equal(line.bodyEncoding, 'base64');
  assert.ok(Buffer.from(line.body, 'base64').equals(binary), '--json carries the exact bytes');
});
