import assert from 'node:assert/strict';
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { DurableAppender } from '../../src/capture/appender.js';
import { tempDir } from '../helpers/cli.js';

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
}

test('appender: concurrent appends each land once, whole, and are in the file when they resolve; the file is 0600', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'captures.jsonl');
  await writeFile(file, '', { mode: 0o644 });
  const appender = new DurableAppender(file);
  t.after(() => appender.close());
  const first = await Promise.all(Array.from({ length: 50 }, (_, i) => appender.append(JSON.stringify({ i, text: 'é'.repeat(i) }))));
  assert.equal(first.length, 50);
  const written = (await lines(file)).map((line) => JSON.parse(line) as { i: number; text: string });
  assert.deepEqual(written.map((r) => r.i).sort((a, b) => a - b), Array.from({ length: 50 }, (_, i) => i));
  assert.ok(written.every((r) => r.text === 'é'.repeat(r.i)));
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  // One more after the first batches: appended after them, and there once resolved.
  await appender.append('{"last":true}');
  assert.equal((await lines(file)).at(-1), '{"last":true}');
});

test('appender: a batch waits for announced lines only until they come, are withdrawn, or a moment passes', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'c.jsonl');
  const appender = new DurableAppender(file);
  t.after(() => appender.close());
  // Two announced, one comes: the batch goes without the other (bounded wait).
  appender.expectLine();
  appender.expectLine();
  await appender.append('a');
  assert.deepEqual(await lines(file), ['a']);
  // The other is withdrawn; the next line alone goes straight away.
  appender.withdrawLine();
  appender.expectLine();
  const both = Promise.all([appender.append('b'), appender.append('c')]);
  await both;
  assert.deepEqual(await lines(file), ['a', 'b', 'c']);
});

test('appender: close waits for appends still in flight, then refuses more', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'sub', 'c.jsonl');
  const appender = new DurableAppender(file);
  const pending = Array.from({ length: 20 }, (_, i) => appender.append(`line ${i}`));
  await appender.close();
  await Promise.all(pending);
  assert.equal((await lines(file)).length, 20);
  await assert.rejects(appender.append('late'), /closed/);
});
