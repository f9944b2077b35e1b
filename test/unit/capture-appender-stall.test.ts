import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { AppendStalledError, DurableAppender } from '../../src/capture/appender.js';
import { waitUntil } from '../helpers/event-stream.js';
import { mountSmallDisk } from '../helpers/small-disk.js';

test('appender on a disk that fills up mid-line: one stall, the lines kept in order, the cut line completed once there is room', async (t) => {
  const { dir } = await mountSmallDisk(t, 64);
  // All but one page taken: the first line (6,000 bytes) fits only in part.
  const filler = path.join(dir, 'filler');
  await writeFile(filler, Buffer.alloc(60 * 1024));
  const file = path.join(dir, 'captures.jsonl');
  const stalls: AppendStalledError[] = [];
  let resumed = 0;
  const appender = new DurableAppender(file, { onStall: (error) => stalls.push(error), onResume: () => resumed++ });
  t.after(() => appender.close().catch(() => undefined));

  const long = JSON.stringify({ n: 1, pad: 'x'.repeat(6_000) });
  await assert.rejects(appender.append(long), (error: unknown) => error instanceof AppendStalledError && /no space left on device/.test(error.message));
  assert.equal(stalls.length, 1);
  assert.match(stalls[0]?.message ?? '', /^cannot write .*captures\.jsonl: no space left on device$/);
  assert.ok(appender.stalled);
  const cut = await readFile(file, 'utf8');
  assert.ok(cut.length > 0 && cut.length < long.length, `the disk took ${cut.length} bytes of the line`);
  // Lines that come meanwhile are kept behind it, without a second stall.
  await assert.rejects(appender.append('{"n":2}'), AppendStalledError);
  assert.equal(stalls.length, 1);

  await rm(filler);
  await waitUntil('the kept lines are written', () => resumed === 1, 15_000);
  assert.equal(appender.stalled, undefined);
  await appender.append('{"n":3}');
  const lines = (await readFile(file, 'utf8')).split('\n').filter((line) => line !== '');
  assert.deepEqual(lines.map((line) => (JSON.parse(line) as { n: number }).n), [1, 2, 3]);
  assert.equal(lines[0], long);
});
