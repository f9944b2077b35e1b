import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sign } from '../../src/signing/index.js';
import { HarStream, HarSyntaxError } from '../../src/verify/har-stream.js';
import { tempDir } from '../helpers/cli.js';
import { runMain } from '../helpers/in-process.js';
import { sampleBody } from '../helpers/verify-captures.js';

async function* pieces(bytes: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function readAll(text: string | Buffer, size: number, maxEntryBytes?: number): Promise<{ found: string; entries: Array<{ text?: string; error?: string }>; keys: string[] }> {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8');
  const stream = new HarStream(pieces(bytes, size), maxEntryBytes);
  const found = await stream.open();
  const entries: Array<{ text?: string; error?: string }> = [];
  if (found === 'entries') for await (const entry of stream.entries()) entries.push(entry);
  return { found, entries, keys: stream.topKeys };
}

// Strings that end in backslashes, hold quotes and brackets, and characters of 2-4 bytes.
const TRICKY = ['a\\', '\\\\', 'say "hi" ] } [ {', '\\"', 'é€😀', '', '\\u0000'];
const ENTRIES = [
  { request: { method: 'POST', url: 'https://x/a', headers: TRICKY.map((value, i) => ({ name: `h${i}`, value })), postData: { text: '{"event":"MessageSent"}' } }, n: [1, 2.5e3, -1, true, false, null] },
  { request: { method: 'GET', url: 'https://x/' }, nested: [[[[]]], {}, [{ a: [{}] }]] },
  { request: { method: 'POST', url: 'https://x/b', postData: { text: TRICKY.join('') } }, last: 12345 },
];
// Keys before and after log, and before and after entries, with awkward values.
const DOCUMENT = {
  comment: 'log entries ] } "',
  other: [{ log: { entries: ['not these'] } }],
  log: { version: '1.2', pages: [{ id: 'p', title: '"]}' }], entries: ENTRIES, after: TRICKY },
  tail: 7,
};

test('HarStream: every entry exactly, whatever the chunk size, compact or pretty, after a byte order mark', async () => {
  for (const text of [JSON.stringify(DOCUMENT), JSON.stringify(DOCUMENT, null, 2), `\ufeff  \r\n${JSON.stringify(DOCUMENT, null, '\t')}`]) {
    for (const size of [1, 2, 3, 5, 7, 13, 64, 1 << 20]) {
      const { found, entries, keys } = await readAll(text, size);
      assert.equal(found, 'entries', `chunks of ${size}`);
      assert.deepEqual(keys, ['comment', 'other', 'log']);
      assert.deepEqual(entries.map((e) => JSON.parse(e.text as string)), ENTRIES, `chunks of ${size}`);
      // The exact text of each entry, not a re-serialisation.
      if (!text.includes('\n')) assert.deepEqual(entries.map((e) => e.text), ENTRIES.map((e) => JSON.stringify(e)));
    }
  }
});

test('HarStream: what is not a HAR, and a HAR cut short', async () => {
  assert.equal((await readAll('{"event":"MessageSent","payload":{}}', 3)).found, 'no-log');
  assert.deepEqual((await readAll('{"event":"MessageSent","payload":{}}', 3)).keys, ['event', 'payload']);
  assert.equal((await readAll('{"log":{"version":"1.2"}}', 4)).found, 'no-entries');
  assert.equal((await readAll('{"log":[1]}', 4)).found, 'no-entries');
  assert.equal((await readAll('{"log":{"entries":{}}}', 4)).found, 'no-entries');
  for (const broken of ['{"log": {', '{"log" {"entries":[]}}', '{"a":1 "log":{}}', '[1]', '{"comment":"never ends']) {
    await assert.rejects(readAll(broken, 2), HarSyntaxError, broken);
  }
  // Cut inside the second entry: the first is read, then one error, then nothing.
  const whole = JSON.stringify(DOCUMENT);
  const cut = whole.slice(0, whole.indexOf('"nested"') + 4);
  for (const size of [1, 7, 1 << 20]) {
    const { entries } = await readAll(cut, size);
    assert.equal(entries.length, 2);
    assert.deepEqual(JSON.parse(entries[0]?.text as string), ENTRIES[0]);
    assert.match(entries[1]?.error ?? '', /cut short/);
  }
  // An entry over the limit is passed over, not kept, and the next ones are read.
  const big = { request: { method: 'POST', postData: { text: 'x'.repeat(5000) } } };
  for (const size of [3, 100, 1 << 20]) {
    const { entries: around } = await readAll(JSON.stringify({ log: { entries: [ENTRIES[0], big, ENTRIES[2]] } }), size, 4096);
    assert.deepEqual(around.map((e) => (e.text === undefined ? e.error : JSON.parse(e.text))), [ENTRIES[0], 'over 4 KiB, more than any webhook request; passed over', ENTRIES[2]]);
  }
  const { entries: junk } = await readAll('{"log":{"entries":[{"a":1} {"b":2}]}}', 5);
  assert.equal(junk.length, 2);
  assert.match(junk[1]?.error ?? '', /expected "," or "]"/);
});

test('verify reads a HAR from stdin in pieces, and reports a cut-short HAR entry by entry', async (t) => {
  const dir = await tempDir(t);
  const body = sampleBody('MessageSent', 3);
  const entry = { startedDateTime: new Date().toISOString(), request: { method: 'POST', url: 'https://x/hooks', headers: [{ name: 'X-Webhook-Signature', value: sign(body, 'k') }], postData: { mimeType: 'application/json', text: body } } };
  const har = JSON.stringify({ log: { version: '1.2', entries: [entry, entry, entry] } }, null, 2);
  const fromStdin = await runMain(['verify', '-', '--secret', 'k'], { input: har, cwd: dir });
  assert.equal(fromStdin.code, 0, fromStdin.stdout + fromStdin.stderr);
  assert.match(fromStdin.stdout, /✓ MessageSent \(stdin#1\)[\s\S]*\(stdin#3\)[\s\S]*^3 passed, 0 failed$/m);
  // A HAR whose copy stopped half-way through the third entry.
  await writeFile(path.join(dir, 'cut.har'), har.slice(0, har.lastIndexOf('"postData"')));
  const cut = await runMain(['verify', 'cut.har', '--secret', 'k'], { cwd: dir });
  assert.equal(cut.code, 1, cut.stderr);
  assert.match(cut.stdout, /^✗ \? \(cut\.har#3\): HAR entry not readable: Unexpected end of JSON input \(cut short\?\)$/m);
  assert.match(cut.stdout, /^2 passed, 1 failed$/m);
});
