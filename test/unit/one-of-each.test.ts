// The shared pieces that replaced per-command copies: one duration formatter, one
// captures line splitter (verify's, with its byte-order-mark handling) behind both readers.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { BOM, BOM_BYTES } from '../../src/capture/lines.js';
import { readJsonLines } from '../../src/capture/reader.js';
import { formatDuration } from '../../src/util/duration.js';
import { tempDir } from '../helpers/cli.js';

test('formatDuration: the default reads as send and scenario print it', () => {
  assert.equal(formatDuration(60), '60 ms');
  assert.equal(formatDuration(1500), '1.5 s');
  assert.equal(formatDuration(3000), '3 s');
  assert.equal(formatDuration(1234), '1.23 s');
  assert.equal(formatDuration(300_000), '5 min');
  assert.equal(formatDuration(90_000), '1.5 min');
  assert.equal(formatDuration(7_200_000), '2 h');
});

test('formatDuration: the styles of the latency column, listen lines, relay countdowns and verify ages', () => {
  // Latency column: whole ms, then seconds with two fixed decimals.
  assert.equal(formatDuration(999.6, { unit: 'ms', fixed: true }), '1000 ms');
  assert.equal(formatDuration(1500, { unit: 's', fixed: true }), '1.50 s');
  // listen: loopback round trips keep a decimal under 10 ms, and stay in ms.
  assert.equal(formatDuration(3.24, { unit: 'ms', fineMs: true }), '3.2 ms');
  assert.equal(formatDuration(12.6, { unit: 'ms', fineMs: true }), '13 ms');
  assert.equal(formatDuration(2500, { unit: 'ms', fineMs: true }), '2500 ms');
  // Relay countdowns: seconds, one fixed decimal, even under a second.
  assert.equal(formatDuration(500, { unit: 's', decimals: 1, fixed: true }), '0.5 s');
  assert.equal(formatDuration(6000, { unit: 's', decimals: 1, fixed: true }), '6.0 s');
  // verify ages: written as the --max-age flag is.
  assert.equal(formatDuration(800, { compact: true }), '800ms');
  assert.equal(formatDuration(12 * 60_000 + 5000, { compact: true }), '12m5s');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000 + 60_000, { compact: true }), '3d4h');
  assert.equal(formatDuration(-5000, { compact: true }), '5s in the future');
});

test('one BOM: the byte form is the character form in UTF-8', () => {
  assert.deepEqual([...BOM_BYTES], [0xef, 0xbb, 0xbf]);
  assert.equal(BOM_BYTES.toString('utf8').charCodeAt(0), BOM);
});

test('the captures reader skips a byte order mark, CRLF endings and blank lines, and numbers lines as the file does', async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-reader-');
  const file = path.join(dir, 'captures.jsonl');
  await writeFile(file, Buffer.concat([BOM_BYTES, Buffer.from('{"id":"a"}\r\n\r\n{"id":"b"}\n{"id":\n{"id":"c"}')]));
  const lines = [];
  for await (const line of readJsonLines(file)) lines.push(line);
  assert.deepEqual(
    lines.map((line) => [line.lineNumber, line.ok ? line.value : 'unreadable']),
    [
      [1, { id: 'a' }],
      [3, { id: 'b' }],
      [4, 'unreadable'],
      [5, { id: 'c' }],
    ],
  );
  // A stream reads the same, split anywhere (here inside the mark and inside a record).
  const bytes = await readFile(file);
  const pieces = [bytes.subarray(0, 2), bytes.subarray(2, 9), bytes.subarray(9)];
  const fromStream = [];
  for await (const line of readJsonLines(Readable.from(pieces))) fromStream.push([line.lineNumber, line.ok]);
  assert.deepEqual(fromStream, [
    [1, true],
    [3, true],
    [4, false],
    [5, true],
  ]);
});
