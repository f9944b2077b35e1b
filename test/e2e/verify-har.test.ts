import assert from 'node:assert/strict';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { chromium } from 'playwright-core';
import { sign } from '../../src/signing/index.js';
import { writeBigHar } from '../helpers/big-har.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { runCliMeasured } from '../helpers/peak-rss.js';
import { startReceiver, type ReceivedRequest } from '../helpers/receiver.js';
import { sampleBody } from '../helpers/verify-captures.js';
import { needs, programPath } from '../helpers/system-programs.js';

const SECRET = 'har-test-secret';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'];
const MIB = 1024 * 1024;

type HarContent = 'attach' | 'omit' | 'embed';

/** What the page POSTs: the body's bytes, and its signature. */
interface Post {
  bytes: number[];
  signature: string;
}

function post(body: string | Buffer): Post {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  return { bytes: [...bytes], signature: sign(bytes, SECRET) };
}

/**
 * Records a HAR with Playwright's own recorder, as a user's end-to-end suite would: a
 * real Chromium page on a local app fetches POSTs with signed webhook bodies to it.
 */
async function recordHar(appUrl: string, file: string, content: HarContent, posts: readonly Post[]): Promise<void> {
  const browser = await chromium.launch({ executablePath: programPath('chromium'), args: CHROMIUM_ARGS });
  try {
    const context = await browser.newContext({ recordHar: { path: file, content } });
    const page = await context.newPage();
    await page.goto(`${appUrl}/`);
    await page.evaluate(async (all) => {
      for (const { bytes, signature } of all) {
        const res = await fetch('/webhooks', { method: 'POST', headers: { 'content-type': 'application/json', 'x-webhook-signature': signature }, body: new Uint8Array(bytes) });
        await res.text();
      }
    }, posts);
    await context.close();
  } finally {
    await browser.close();
  }
}

function posted(requests: readonly ReceivedRequest[]): ReceivedRequest[] {
  return requests.filter((r) => r.method === 'POST');
}

test('HAR files saved by Playwright: _file bodies are read, a HAR without bodies says so (and replay refuses it), replaced bytes are named', { ...needs('chromium'), timeout: 180_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-har-pw-');
  const app = await startReceiver(t, {
    respond: (request, _index, res) => {
      if (request.method === 'GET') res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>app</title>');
      else return 200;
    },
  });
  const webhooks = [sampleBody('MessageSent', 1), sampleBody('MessageBounced', 2), sampleBody('MessageLinkClicked', 3), sampleBody('MessageDelayed', 4)];
  // Four webhooks and one redelivery (the same bytes again).
  const posts = [...webhooks, webhooks[0] as string].map(post);
  for (const content of ['attach', 'omit'] as const) {
    await mkdir(path.join(dir, content));
    await recordHar(app.url, path.join(dir, content, 'hooks.har'), content, posts);
  }
  // Bytes that are not UTF-8 (Latin-1 é): Playwright's "embed" stores them as text, replaced.
  const latin1 = Buffer.from('{"event":"MessageSent","note":"caf\xe9"}', 'latin1');
  await mkdir(path.join(dir, 'embed'));
  await recordHar(app.url, path.join(dir, 'embed', 'hooks.har'), 'embed', [post(webhooks[1] as string), post(latin1)]);
  await recordHar(app.url, path.join(dir, 'hooks.zip'), 'attach', posts.slice(0, 1));
  const run = (args: string[]) => runCli(args, { cwd: dir, timeoutMs: 60_000 });

  await t.test('a HAR saved as .zip: exit 2, saying to unzip it', async () => {
    const result = await run(['verify', 'hooks.zip', '--secret', SECRET]);
    assert.equal(result.code, 2, result.stdout + result.stderr);
    assert.equal(result.stderr, 'error: hooks.zip is neither a captures JSON Lines file nor a HAR 1.2 file: it is a zip archive (Playwright zips a HAR saved as .zip): unzip it and give the .har inside\n');
  });

  await t.test('attach: every body is read from the file beside the HAR', async () => {
    const files = await readdir(path.join(dir, 'attach'));
    assert.ok(files.some((f) => f.endsWith('.json')), `Playwright saved the bodies beside the HAR: ${files.join(' ')}`);
    const result = await run(['verify', 'attach/hooks.har', '--secret', SECRET, '--expect', 'MessageSent']);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ MessageSent \(attach\/hooks\.har#\d+\)/);
    assert.equal((result.stdout.match(/exact duplicate/g) ?? []).length, 1, 'only the real redelivery is a duplicate');
    assert.match(result.stdout, /^6 passed, 0 failed$/m);
    assert.match(result.stdout, /skipped \d+ non-POST request/);
  });

  await t.test('replay --from the attach HAR sends the exact bytes', async () => {
    const before = posted(app.requests).length;
    const result = await run(['replay', '--from', 'attach/hooks.har', '--last', '5', '--to', `${app.url}/replayed`]);
    assert.equal(result.code, 0, result.stdout + result.stderr);
    const replayed = posted(app.requests).slice(before);
    assert.deepEqual(replayed.map((r) => r.body.toString('utf8')), posts.map((p) => Buffer.from(p.bytes).toString('utf8')));
    for (const r of replayed) assert.equal(r.headers['x-webhook-signature'], sign(r.body, SECRET));
  });

  await t.test('omit: its own verdict per request, no signature failures, no false duplicates', async () => {
    const result = await run(['verify', 'omit/hooks.har', '--secret', SECRET]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    const lines = result.stdout.split('\n').filter((l) => l.startsWith('✗'));
    assert.equal(lines.length, 5, result.stdout);
    for (const line of lines) assert.match(line, /: the HAR does not include the body of \d+ bytes: its postData\.text is empty and names no _file \(saved with Playwright's content "omit"/);
    assert.doesNotMatch(result.stdout, /signature does not match|not JSON|exact duplicate/);
  });

  await t.test('replay --from the omit HAR refuses: exit 2, one line, nothing sent', async () => {
    const before = posted(app.requests).length;
    for (const args of [['--last', '3'], []]) {
      const result = await run(['replay', '--from', 'omit/hooks.har', ...args, '--to', `${app.url}/replayed`]);
      assert.equal(result.code, 2, result.stdout + result.stderr);
      assert.equal(result.stdout, '');
      assert.match(result.stderr.trimEnd(), /^error: Cannot replay omit\/hooks\.har#\d: the HAR does not include the body of \d+ bytes: [^\n]*$/);
    }
    assert.equal(posted(app.requests).length, before);
  });

  await t.test('embed: a body whose bytes were replaced with U+FFFD gets a verdict naming the likely cause', async () => {
    const result = await run(['verify', 'embed/hooks.har', '--secret', SECRET]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /✓ MessageBounced \(embed\/hooks\.har#\d+\)/);
    assert.match(result.stdout, /✗ MessageSent \(embed\/hooks\.har#\d+\): signature does not match, and the body holds U\+FFFD replacement characters: the tool that saved it \(a HAR exporter\?\) likely replaced bytes that were not UTF-8/);
  });

  await t.test('a _file that leads out of the HAR folder is refused; a missing one is a missing body', async () => {
    const har = await readFile(path.join(dir, 'attach', 'hooks.har'), 'utf8');
    // Request bodies only (the app's JSON answers are saved as files too).
    const names = [...har.matchAll(/"postData":\{[^}]*"_file":"([0-9a-f]+\.json)"/g)].map((m) => m[1] as string);
    assert.ok(names.length >= 2, har.slice(0, 200));
    await writeFile(path.join(dir, 'outside.json'), Buffer.from(posts[0]?.bytes ?? []));
    const edited = har.replace(`"_file":"${names[0]}"`, '"_file":"../outside.json"').replace(`"_file":"${names[1]}"`, '"_file":"gone.json"');
    await writeFile(path.join(dir, 'attach', 'edited.har'), edited);
    const result = await run(['verify', 'attach/edited.har', '--secret', SECRET]);
    assert.equal(result.code, 1, result.stdout + result.stderr);
    assert.match(result.stdout, /\(attach\/edited\.har#\d+\): postData\._file "\.\.\/outside\.json" leads out of the HAR's folder: refused/);
    assert.match(result.stdout, /\(attach\/edited\.har#\d+\): the HAR does not include the body: its body file "gone\.json" is not beside the HAR/);
  });
});

test('a 300 MB HAR on one line is streamed: verify and replay --from it stay under 200 MB of memory', { timeout: 300_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-har-big-');
  const file = path.join(dir, 'big.har');
  const entries = writeBigHar(file, 300 * 1000 * 1000, SECRET);
  const app = await startReceiver(t, { secret: SECRET });

  const verified = await runCliMeasured(['verify', 'big.har', '--secret', SECRET, '--expect', `MessageSent:${entries}`], { cwd: dir, timeoutMs: 240_000 });
  assert.equal(verified.code, 0, verified.stderr + verified.stdout);
  assert.match(verified.stdout, new RegExp(`✓ expected at least ${entries} valid MessageSent: saw ${entries}\\n${entries + 1} passed, 0 failed\\n$`));
  assert.ok(verified.peakRssBytes > 0, 'the peak was read');
  assert.ok(verified.peakRssBytes < 200 * MIB, `verify peaked at ${(verified.peakRssBytes / MIB).toFixed(0)} MiB`);

  // replay reads HAR files with the same reader: the last entry, found by streaming.
  const replayed = await runCliMeasured(['replay', '--from', 'big.har', '--to', `${app.url}/hooks`], { cwd: dir, timeoutMs: 240_000 });
  assert.equal(replayed.code, 0, replayed.stderr + replayed.stdout);
  const [request] = await app.waitFor(1);
  assert.match(request?.body.toString('utf8') ?? '', new RegExp(`"message_id":"big-${entries - 1}@example\\.com"`));
  assert.equal(request?.signatureValid, true);
  assert.ok(replayed.peakRssBytes < 200 * MIB, `replay peaked at ${(replayed.peakRssBytes / MIB).toFixed(0)} MiB`);
});
