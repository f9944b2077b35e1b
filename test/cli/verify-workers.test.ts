import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import type { CaptureRecord } from '../../src/capture/record.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { captureRecord, sampleBody } from '../helpers/verify-captures.js';

const SECRET = 'ci-secret';
const OLD_SECRET = 'old-secret';
/** What the CLI reads to decide when a file is checked on worker threads. */
const WORKERS_ENV = 'FE_WEBHOOKS_VERIFY_WORKERS_FROM_BYTES';
/** ... and to share pieces with the workers from the first one (else this small file may be checked before one is up). */
const WAIT_ENV = 'FE_WEBHOOKS_VERIFY_WAIT_FOR_WORKERS';
const RECORDS = 1100;

/**
 * A captures file of a few 1 MiB pieces with every kind of verdict, repeats that cross
 * pieces, a line longer than a piece, a byte order mark, blank lines and a half-written
 * last line.
 */
function capturesFile(): string {
  const records: CaptureRecord[] = [];
  for (let i = 0; i < RECORDS; i++) records.push(captureRecord({ event: EVENT_NAMES[i % EVENT_NAMES.length], seed: i + 1, secret: SECRET }));
  const sent = JSON.parse(sampleBody('MessageSent', 7)) as { payload: Record<string, unknown> };
  const lines = records.map((r) => JSON.stringify(r));
  const extra = (record: CaptureRecord): string => JSON.stringify(record);
  lines.splice(10, 0, extra({ ...(records[3] as CaptureRecord), id: 'redelivery-1' }));
  lines.splice(1050, 0, extra({ ...(records[5] as CaptureRecord), id: 'redelivery-é', redelivery: true }));
  lines.splice(1080, 0, extra(captureRecord({ body: JSON.stringify({ ...sent, payload: { ...sent.payload, time: 9.5 } }), secret: SECRET })));
  lines.splice(1081, 0, extra(captureRecord({ body: JSON.stringify({ ...sent, payload: { ...sent.payload, time: 8.5 } }), secret: SECRET })));
  lines.splice(400, 0, extra(captureRecord({ event: 'MessageBounced', seed: 9001, secret: OLD_SECRET })));
  lines.splice(500, 0, extra(captureRecord({ event: 'MessageSent', seed: 9002, method: 'GET', secret: SECRET })));
  lines.splice(600, 0, extra(captureRecord({ event: 'MessageSent', seed: 9003, secret: SECRET, extra: { rejected: 'over the body limit' } })));
  lines.splice(700, 0, extra(captureRecord({ event: 'MessageSent', seed: 9004, secret: null })));
  lines.splice(800, 0, '{"id":"cut", "body": "abc', '   ', '');
  lines.splice(900, 0, extra(captureRecord({ body: Buffer.from([0xff, 0xfe, 0x00]), secret: SECRET })));
  lines.splice(1000, 0, extra(captureRecord({ body: JSON.stringify({ event: 'MessageSent', payload: { note: 'x'.repeat(1_300_000) } }), secret: SECRET })));
  return `\ufeff${lines.join('\n')}\n{"id":"half","body":"{\\"ev`;
}

test('verify on worker threads writes the same report, byte for byte, as on one thread', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'captures.jsonl');
  await writeFile(file, capturesFile());
  const flagSets = [[], ['--reporter', 'json'], ['--reporter', 'junit', '--expect', 'MessageSent:100'], ['--event', 'MessageSent', '--max-age', '1000d']];
  for (const flags of flagSets) {
    const args = ['verify', file, '--secret', SECRET, '--secret', OLD_SECRET, ...flags];
    const [one, many] = await Promise.all([
      runCli(args, { cwd: dir, env: cleanEnv({ [WORKERS_ENV]: String(Number.MAX_SAFE_INTEGER) }) }),
      runCli(args, { cwd: dir, env: cleanEnv({ [WORKERS_ENV]: '0', [WAIT_ENV]: '1' }) }),
    ]);
    assert.equal(one.code, 1, one.stderr);
    assert.equal(many.code, 1, many.stderr);
    assert.ok(many.stdoutBytes.equals(one.stdoutBytes), `reports differ with ${flags.join(' ') || 'no flags'}`);
    if (flags.length === 0) {
      // The report is the full one, not two empty ones.
      const text = many.stdout;
      // Only the pattern on failure, not the whole report.
      const has = (pattern: RegExp): void => assert.ok(pattern.test(text), `report lacks ${pattern}`);
      has(/^✓ MessageSent req_\w+ \(.*captures\.jsonl:1\) signed with secret #1\n/);
      has(/redelivery-1 .*— exact duplicate of req_\w+ \(same bytes: a redelivery\)/);
      has(/redelivery-é .*— exact duplicate of req_\w+/);
      has(/redelivery-é \(.*\) \(redelivery\) .*— exact duplicate of req_\w+/);
      has(/; 1 marked redelivery by the relay/);
      has(/— same event \+ message_id as req_\w+ but different bytes/);
      has(/signed with secret #2/);
      has(/captures\.jsonl:80[1-3]\): not JSON/);
      has(/half-written line/);
      has(/\nskipped 1 non-POST request\n/);
      has(/\n\d+ passed, \d+ failed\n$/);
      assert.equal(text.split('\n').filter((line) => /^[✓✗] /.test(line)).length, RECORDS + 11);
    }
  }
});

test('the worker pool: pieces cut at line ends (a line longer than a piece too), checked on a worker and here, in order', async (t) => {
  // The built modules: a worker thread runs dist/verify/worker.js.
  const { VerifyPool, checkInOrder, filePieces } = await import('../../dist/verify/parallel.js');
  const dir = await tempDir(t);
  const file = path.join(dir, 'captures.jsonl');
  await writeFile(file, capturesFile());
  const pool = new VerifyPool(2, { secrets: [SECRET], nowMs: Date.now(), reporter: { name: 'text', secretCount: 1 } });
  t.after(() => pool.close());
  await pool.ready();
  const check = pool.check.bind(pool);
  let onWorker = 0;
  pool.check = (job) => {
    const pending = check(job);
    if (pending.promise) onWorker++;
    return pending;
  };
  const firstLines: number[] = [];
  let verdicts = 0;
  let report = '';
  await checkInOrder(pool, filePieces(file, 'c.jsonl', pool), async (result) => {
    firstLines.push(verdicts);
    verdicts += result.verdicts;
    report += Buffer.from(result.report).toString('utf8');
  });
  assert.ok(onWorker > 0 && onWorker < firstLines.length, `${onWorker} of ${firstLines.length} pieces on the worker`);
  const lines = report.split('\n').slice(0, -1);
  assert.equal(lines.length, verdicts);
  // Every line number once, in order; blank and non-POST lines have no verdict.
  const numbers = lines.map((line) => Number(/\(c\.jsonl:(\d+)\)/.exec(line)?.[1]));
  assert.deepEqual(numbers, [...numbers].sort((a, b) => a - b));
  assert.equal(new Set(numbers).size, numbers.length);
  assert.match(lines[0] ?? '', /^✓ MessageSent req_\w+ \(c\.jsonl:1\)$/, 'the byte order mark is not part of line 1');
  // The 1.3 MB line was read whole: signed, JSON, only its schema fails.
  const long = lines.filter((line) => / \(c\.jsonl:\d+\): payload\.status is required;/.test(line));
  assert.equal(long.length, 1);
  assert.doesNotMatch(long[0] ?? '', /signature|not JSON/);
});
