import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { captureRecord, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'output-secret';
const WORKERS_ENV = 'FE_WEBHOOKS_VERIFY_WORKERS_FROM_BYTES';
const WAIT_ENV = 'FE_WEBHOOKS_VERIFY_WAIT_FOR_WORKERS';

/** 1,500 captures (about 1.5 MB: a few worker pieces); every 20th signed with another secret. */
async function captures(file: string): Promise<number> {
  const records = Array.from({ length: 1500 }, (_, i) => captureRecord({ event: EVENT_NAMES[i % EVENT_NAMES.length], seed: i + 1, secret: i % 20 === 7 ? 'other' : SECRET }));
  await writeCaptures(file, records);
  return records.filter((_, i) => i % 20 === 7).length;
}

test('verify --output: the console still says which requests failed and why (at most 50, then a count), on one thread or many', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const bad = await captures(path.join(dir, 'captures.jsonl'));
  const args = (out: string) => ['verify', 'captures.jsonl', '--secret', SECRET, '--reporter', 'junit', '--output', out];
  const [one, many] = await Promise.all([
    runCli(args('one.xml'), { cwd: dir, env: cleanEnv({ [WORKERS_ENV]: String(Number.MAX_SAFE_INTEGER) }) }),
    runCli(args('many.xml'), { cwd: dir, env: cleanEnv({ [WORKERS_ENV]: '0', [WAIT_ENV]: '1' }) }),
  ]);
  for (const [result, out] of [[one, 'one.xml'], [many, 'many.xml']] as const) {
    assert.equal(result.code, 1, result.stderr);
    assert.equal(result.stdout, '', 'the report went to the file');
    const lines = result.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 52, result.stderr);
    for (const line of lines.slice(0, 50)) assert.match(line, /^✗ \w+ req_\w+ \(captures\.jsonl:\d+\): signature does not match the secret \(wrong secret, or the body changed\)$/);
    assert.deepEqual(lines.slice(0, 3).map((l) => /:(\d+)\)/.exec(l)?.[1]), ['8', '28', '48'], 'in input order');
    assert.equal(lines[50], `… and ${bad - 50} more failed request(s): see ${out}`);
    assert.equal(lines[51], `${1500 - bad} passed, ${bad} failed (junit report in ${out})`);
  }
  assert.equal(many.stderr.replaceAll('many.xml', 'one.xml'), one.stderr, 'the same lines from worker threads');
  assert.equal(await readFile(path.join(dir, 'many.xml'), 'utf8'), await readFile(path.join(dir, 'one.xml'), 'utf8'));
});

test('JUnit test names stay the same from run to run (event and position, no capture id)', async (t) => {
  const dir = await tempDir(t);
  const names: string[][] = [];
  for (const run of [1, 2]) {
    // New captures each run: new ids, same webhooks in the same order.
    await writeCaptures(path.join(dir, 'captures.jsonl'), [captureRecord({ event: 'MessageSent', seed: 1, secret: SECRET }), captureRecord({ event: 'MessageBounced', seed: 2, secret: 'wrong' })]);
    const result = await runCli(['verify', 'captures.jsonl', '--secret', SECRET, '--reporter', 'junit'], { cwd: dir });
    assert.equal(result.code, 1, `run ${run}: ${result.stderr}`);
    names.push([...result.stdout.matchAll(/<testcase classname="[^"]*" name="([^"]*)"/g)].map((m) => m[1] as string));
    assert.match(result.stdout, /<failure type="signature-invalid" [^>]*>signature-invalid: [^<]*\ncapture req_\w+<\/failure>/, 'the failure still names the capture');
  }
  assert.deepEqual(names[0], ['MessageSent (captures.jsonl:1)', 'MessageBounced (captures.jsonl:2)']);
  assert.deepEqual(names[1], names[0]);
});
