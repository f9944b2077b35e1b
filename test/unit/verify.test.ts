import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { sign } from '../../src/signing/index.js';
import { parseExpectation } from '../../src/verify/expectations.js';
import type { InputSpec } from '../../src/verify/inputs.js';
import { lineBatches } from '../../src/capture/lines.js';
import { jsonReporter } from '../../src/verify/reporters/json.js';
import { textReporter } from '../../src/verify/reporters/text.js';
import { verifyRequests, type VerifyOptions } from '../../src/verify/run.js';
import type { Verdict, VerifySummary } from '../../src/verify/types.js';
import { tempDir } from '../helpers/cli.js';
import { captureRecord, harDocument, sampleBody, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'test-secret';

interface Run {
  summary: VerifySummary;
  verdicts: Verdict[];
  text: string;
}

/** Runs verify in-process with the json reporter, and once more with text for the lines. */
async function run(inputs: InputSpec[], options: Partial<VerifyOptions> = {}): Promise<Run> {
  let json = '';
  const base = { inputs, secrets: [SECRET], cwd: '/', ...options };
  const summary = await verifyRequests({ ...base, reporter: jsonReporter(), write: (t) => void (json += t) });
  let text = '';
  await verifyRequests({ ...base, reporter: textReporter(base.secrets.length), write: (t) => void (text += t) });
  const document = JSON.parse(json) as { verdicts: Verdict[] };
  return { summary, verdicts: document.verdicts, text };
}

function codes(verdict: Verdict | undefined): string[] {
  return (verdict?.reasons ?? []).map((r) => r.code);
}

test('each verdict and reason on a captures file, with line numbers; a corrupt line does not stop the rest', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'captures.jsonl');
  const sent = sampleBody('MessageSent', 1);
  const badSchema = JSON.stringify({ ...JSON.parse(sent), payload: { ...JSON.parse(sent).payload, message: { ...JSON.parse(sent).payload.message, id: 'abc' } } });
  const notUtf8 = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
  const records = [
    captureRecord({ body: sent, secret: SECRET }),
    captureRecord({ body: sent, secret: null }),
    captureRecord({ body: sent, signature: sign(sent, SECRET).toUpperCase().replace('SHA256', 'sha256') }),
    captureRecord({ body: sent, secret: 'someone-else' }),
    captureRecord({ body: `${sent} `, signature: sign(sent, SECRET) }), // tampered: one byte added
    captureRecord({ body: 'not json', secret: SECRET }),
    captureRecord({ body: notUtf8, secret: SECRET }),
    captureRecord({ body: JSON.stringify({ event: 'MessageExploded', payload: {} }), secret: SECRET }),
    captureRecord({ body: badSchema, secret: SECRET }),
    captureRecord({ body: sampleBody('DomainDNSError', 2), secret: SECRET, extra: { rejected: 'over the 25 MiB limit' } }),
    captureRecord({ body: sampleBody('MessageBounced', 3), secret: SECRET, extra: { headers: { 'x-webhook-signature': [sign(sampleBody('MessageBounced', 3), SECRET), 'sha256=x'] } } }),
  ];
  await writeCaptures(file, records, '\n{"id":"req_half","receivedAt":"2026-0');
  const { summary, verdicts, text } = await run([{ kind: 'file', path: file }]);
  const expected = [
    [],
    ['signature-missing'],
    ['signature-malformed'],
    ['signature-invalid'],
    ['signature-invalid'],
    ['body-not-json'],
    ['body-not-utf8'],
    ['event-unknown'],
    ['schema'],
    ['rejected'],
    ['signature-repeated'],
    ['unreadable'],
  ];
  assert.deepEqual(verdicts.map(codes), expected);
  assert.equal(verdicts[0]?.ok, true);
  assert.equal(verdicts[0]?.secretIndex, 0);
  assert.equal(verdicts[8]?.reasons[0]?.path, 'payload.message.id');
  assert.match(verdicts[8]?.reasons[0]?.message ?? '', /payload\.message\.id expected integer, got string/);
  assert.equal(verdicts[11]?.location, `${file}:13`, 'the half-written line keeps its line number (a blank line before it)');
  assert.match(verdicts[11]?.reasons[0]?.message ?? '', /not JSON .*half-written/);
  assert.equal(summary.requests.passed, 1);
  assert.equal(summary.requests.failed, 11);
  const lines = text.trimEnd().split('\n');
  assert.equal(lines.at(-1), '1 passed, 11 failed');
  assert.match(lines[0] ?? '', /^✓ MessageSent req_\w+ \(.*captures\.jsonl:1\)$/);
  assert.match(lines[1] ?? '', /^✗ MessageSent req_\w+ \(.*:2\): no X-Webhook-Signature header — exact duplicate of req_\w+/);
  assert.match(lines[3] ?? '', /signature does not match the secret/);
  assert.match(lines[11] ?? '', /^✗ \? \(.*:13\): not JSON/);
});

test('rotation: any of several secrets, and the report says which one matched', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'c.jsonl');
  await writeCaptures(file, [captureRecord({ seed: 1, secret: 'old' }), captureRecord({ seed: 2, secret: 'new' }), captureRecord({ seed: 3, secret: 'other' })]);
  const { verdicts, text } = await run([{ kind: 'file', path: file }], { secrets: ['old', 'new'] });
  assert.deepEqual(verdicts.map((v) => v.secretIndex), [0, 1, undefined]);
  assert.match(text, /✓ MessageSent \S+ \(.*:1\) signed with secret #1\n/);
  assert.match(text, /✓ MessageSent \S+ \(.*:2\) signed with secret #2\n/);
  assert.match(text, /✗ .*:3\): signature does not match any of the 2 secrets/);
});

test('duplicates: exact bytes and repeated event + message_id are told apart, with the key named', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'c.jsonl');
  const delayed = JSON.parse(sampleBody('MessageDelayed', 5));
  const secondDelay = JSON.stringify({ ...delayed, payload: { ...delayed.payload, details: 'second attempt', timestamp: delayed.payload.timestamp + 60 } });
  const first = captureRecord({ body: JSON.stringify(delayed), secret: SECRET });
  const retry = captureRecord({ body: JSON.stringify(delayed), secret: SECRET });
  const other = captureRecord({ body: secondDelay, secret: SECRET });
  const limit = captureRecord({ event: 'SendLimitExceeded', seed: 9, secret: SECRET });
  const limitAgain = captureRecord({ event: 'SendLimitExceeded', seed: 10, secret: SECRET });
  await writeCaptures(file, [first, retry, other, limit, limitAgain]);
  const { summary, verdicts, text } = await run([{ kind: 'file', path: file }], { expect: [parseExpectation('MessageDelayed:3')] });
  assert.equal(verdicts[1]?.exactDuplicateOf, first.id);
  assert.equal(verdicts[1]?.samePairAs, undefined, 'an exact duplicate is not also counted as a pair repeat');
  assert.equal(verdicts[2]?.exactDuplicateOf, undefined);
  assert.equal(verdicts[2]?.samePairAs, first.id);
  assert.equal(verdicts[4]?.samePairAs, undefined, 'server events carry no message_id');
  assert.equal(summary.exactDuplicates, 1);
  assert.equal(summary.repeatedPairs, 1);
  assert.match(text, /exact duplicate of req_\w+ \(same bytes: a redelivery\)/);
  assert.match(text, /same event \+ message_id as req_\w+ but different bytes: a separate event, not a redelivery/);
  assert.match(text, /duplicates: 1 exact \(keyed by the exact body bytes\); 1 repeated event \+ payload\.message\.message_id/);
  // Every request passes, but the retry is the same delivery: 2 distinct MessageDelayed, not 3.
  assert.deepEqual(summary.expectations, [{ event: 'MessageDelayed', min: 3, seen: 2, ok: false }]);
  assert.equal(summary.failed, 1);
  assert.match(text, /✗ expected at least 3 valid MessageDelayed: saw 2\n5 passed, 1 failed\n$/);
});

test('--expect, --event and --max-age', async (t) => {
  const dir = await tempDir(t);
  const file = path.join(dir, 'c.jsonl');
  const now = Date.parse('2026-03-30T15:00:00Z');
  const old = new Date('2026-03-30T14:00:00Z');
  const records = [
    captureRecord({ body: sampleBody('MessageSent', 1, old), secret: SECRET }),
    captureRecord({ body: sampleBody('MessageSent', 2, new Date(now - 60_000)), secret: SECRET }),
    captureRecord({ body: sampleBody('DomainDNSError', 3, old), secret: SECRET }),
    captureRecord({ body: sampleBody('MessageBounced', 4, old), secret: SECRET, receivedAt: new Date(now - 5000).toISOString() }),
    captureRecord({ body: 'garbage', secret: SECRET }),
  ];
  await writeCaptures(file, records);
  const aged = await run([{ kind: 'file', path: file }], { maxAgeMs: 10 * 60_000, now: () => now });
  assert.deepEqual(aged.verdicts.map((v) => v.ageSource), ['payload.timestamp', 'payload.timestamp', 'payload.dns_checked_at', 'receivedAt', 'receivedAt']);
  assert.deepEqual(aged.verdicts.map(codes).slice(0, 4), [['too-old'], [], ['too-old'], []]);
  assert.match(aged.text, /MessageSent .*: 1h\d*m? old \(by payload\.timestamp\), over --max-age 10m/);
  assert.match(aged.text, /--max-age: 2 request\(s\) aged by receipt time/);

  const filtered = await run([{ kind: 'file', path: file }], {
    event: 'MessageSent',
    expect: [parseExpectation('message.sent:2'), parseExpectation('DomainDNSError')],
  });
  // The unreadable body might be a MessageSent: it stays in, as a failure.
  assert.deepEqual(filtered.verdicts.map((v) => v.event ?? '?'), ['MessageSent', 'MessageSent', '?']);
  assert.equal(filtered.summary.filteredOut, 2);
  assert.deepEqual(filtered.summary.expectations.map((e) => [e.event, e.seen, e.ok]), [['MessageSent', 2, true], ['DomainDNSError', 0, false]]);
  assert.match(filtered.text, /✓ expected at least 2 valid MessageSent: saw 2\n✗ expected at least 1 valid DomainDNSError: saw 0\n3 passed, 2 failed\n$/);
  assert.throws(() => parseExpectation('MessageSent:0'), /N must be 1 or more/);
  assert.throws(() => parseExpectation('MessageSend:2'), /Did you mean MessageSent/);
});

test('HAR input: POST entries checked, non-POST skipped, base64 bodies decoded, pretty or one line', async (t) => {
  const dir = await tempDir(t);
  const body = sampleBody('MessageLinkClicked', 7);
  const signature = sign(body, SECRET);
  const document = harDocument([
    { method: 'GET', url: 'https://app.example.com/' },
    { body, headers: { 'Content-Type': 'application/json', 'X-Webhook-Signature': signature } },
    { body: Buffer.from(body).toString('base64'), encoding: 'base64', headers: { 'x-webhook-signature': signature } },
    { body, headers: {} },
    { method: 'OPTIONS' },
  ]);
  const entries = (document as { log: { entries: Array<{ request: Record<string, unknown> }> } }).log.entries;
  entries.push({ request: { method: 'POST', url: 'https://x', headers: [] } });
  // listen's HAR export marks a refused capture with `_rejected`.
  entries.push({ ...entries[1]!, _id: 'req_refused', _rejected: 'over the 25 MiB limit' } as (typeof entries)[number]);
  // Some exporters spell it `_encoding` (HAR 1.2 has no encoding on postData).
  entries.push({
    request: { method: 'post', url: 'https://x', headers: [{ name: 'X-Webhook-Signature', value: signature }], postData: { text: Buffer.from(body).toString('base64'), _encoding: 'base64' } },
  });
  await writeFile(path.join(dir, 'pretty.har'), JSON.stringify(document, null, 2));
  await writeFile(path.join(dir, 'oneline.har'), JSON.stringify(document));
  for (const name of ['pretty.har', 'oneline.har']) {
    const { summary, verdicts } = await run([{ kind: 'file', path: path.join(dir, name) }]);
    assert.equal(summary.skipped, 2, name);
    assert.deepEqual(verdicts.map((v) => v.location.split('#')[1]), ['2', '3', '4', '6', '7', '8']);
    assert.deepEqual(verdicts.map(codes), [[], [], ['signature-missing'], ['body-missing'], ['rejected'], []]);
    assert.equal(verdicts[4]?.id, 'req_refused');
    assert.equal(verdicts[5]?.exactDuplicateOf, `${path.join(dir, name)}#2`);
    assert.equal(verdicts[1]?.exactDuplicateOf, `${path.join(dir, name)}#2`, 'the base64 body is the same bytes');
    assert.match(verdicts[3]?.reasons[0]?.message ?? '', /^the HAR does not include the body: the POST has no postData/);
  }
});

test('input errors: empty, directory, missing, neither format, a bare webhook body; stdin works', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'empty.jsonl'), '\n\n');
  await mkdir(path.join(dir, 'folder'));
  await writeFile(path.join(dir, 'notes.txt'), 'hello\nworld\n');
  await writeFile(path.join(dir, 'body.json'), sampleBody('MessageSent'));
  await writeFile(path.join(dir, 'array.json'), '[1,2]\n');
  await writeFile(path.join(dir, 'broken.har'), '{\n  "log": {\n');
  const cases: Array<[string, RegExp]> = [
    ['empty.jsonl', /empty\.jsonl is empty: nothing to verify/],
    ['folder', /it is a directory/],
    ['missing.jsonl', /no such file/],
    ['notes.txt', /neither a captures JSON Lines file nor a HAR 1\.2 file: line 1 is not JSON/],
    ['body.json', /single webhook body; verify it with --body FILE --signature SIG/],
    ['array.json', /first line is JSON but not an object/],
    ['broken.har', /neither .*: not JSON/],
  ];
  for (const [name, message] of cases) {
    await assert.rejects(run([{ kind: 'file', path: name }], { cwd: dir }), (error: unknown) => error instanceof UserError && message.test(error.message), name);
  }
  const record = captureRecord({ seed: 4, secret: SECRET });
  const stdin = Readable.from([Buffer.from(JSON.stringify(record).slice(0, 50)), Buffer.from(`${JSON.stringify(record).slice(50)}\n`)]);
  let text = '';
  const summary = await verifyRequests({ inputs: [{ kind: 'stdin', stream: stdin }], secrets: [SECRET], cwd: dir, reporter: textReporter(1), write: (s) => void (text += s) });
  assert.equal(summary.requests.passed, 1, text);
  assert.match(text, /\(stdin:1\)/);
});

test('a captures file is told apart by its first record: after a byte order mark and blank lines, past the first 64 KiB, with CRLF; a HAR log first is HAR', async (t) => {
  const dir = await tempDir(t);
  const line = (seed: number, extra = {}): string => JSON.stringify({ ...captureRecord({ seed, secret: SECRET }), ...extra });
  const files: Array<[string, string, number]> = [
    // Told from the first 64 KiB (the quick way): a mark and blank lines before the record.
    ['marked.jsonl', `\ufeff\n  \n${line(1)}\n${line(2)}\n`, 2],
    ['crlf.jsonl', `${line(3)}\r\n${line(4)}\r\n`, 2],
    // A first record longer than the first read: told from the stream, as before.
    ['long.jsonl', `${line(5, { note: 'n'.repeat(70 * 1024) })}\n${line(6)}`, 2],
    // ... even one whose first key is not one a capture starts with.
    ['unusual.jsonl', `${JSON.stringify({ note: 'n'.repeat(70 * 1024), ...captureRecord({ seed: 9, secret: SECRET }) })}\n${line(6)}`, 2],
    // A half-written first record and nothing else: still a captures file, its verdict says why.
    ['cut.jsonl', line(7).slice(0, 60), 0],
    // One line holding a HAR log that also has a string "body": HAR, whichever way it is told.
    ['both.har', `${JSON.stringify({ body: 'x', ...(harDocument([{ body: sampleBody('MessageSent', 8), headers: { 'x-webhook-signature': sign(sampleBody('MessageSent', 8), SECRET) } }]) as object) })}\n`, 1],
  ];
  for (const [name, content, passed] of files) {
    await writeFile(path.join(dir, name), content);
    const { summary, verdicts } = await run([{ kind: 'file', path: name }], { cwd: dir });
    assert.equal(summary.requests.passed, passed, name);
    assert.equal(verdicts.length, passed === 0 ? 1 : passed, name);
    const where: Record<string, RegExp> = { 'marked.jsonl': /:3$/, 'both.har': /#1$/ };
    if (passed > 0) assert.match(verdicts[0]?.location ?? '', where[name] ?? /:1$/, name);
  }
});

test('lineBatches: lines split anywhere across chunks, multi-byte characters intact, last line without newline', async () => {
  const text = 'ä€😀 one\n\ntwo 😀😀\nthree';
  const bytes = Buffer.from(text);
  for (let size = 1; size <= 7; size++) {
    const chunks: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.subarray(i, i + size));
    const lines: Array<[number, string]> = [];
    for await (const batch of lineBatches(Readable.from(chunks))) batch.lines.forEach((line, i) => lines.push([batch.firstLine + i, line]));
    assert.deepEqual(lines, [[1, 'ä€😀 one'], [2, ''], [3, 'two 😀😀'], [4, 'three']], `chunk size ${size}`);
  }
  const withBom: string[] = [];
  for await (const batch of lineBatches(Readable.from([Buffer.from('\uFEFF{"a":1}\n{"b":2}')]))) withBom.push(...batch.lines);
  assert.deepEqual(withBom, ['{"a":1}', '{"b":2}'], 'a byte order mark is dropped');
});
