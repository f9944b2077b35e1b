import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import type { CaptureRecord } from '../../src/capture/record.js';
import type { DeliveryOutcome } from '../../src/delivery/deliver.js';
import type { CliIO } from '../../src/cli/io.js';
import { caseLine } from '../../src/cli/commands/check.js';
import { relayLogLine } from '../../src/cli/commands/relay.js';
import { colors } from '../../src/cli/colors.js';
import { requestLine } from '../../src/cli/listen-printer.js';
import { errorLine } from '../../src/cli/main.js';
import { failureReason, formatDelivery } from '../../src/cli/print-delivery.js';
import { printDryRun } from '../../src/cli/send/dry-run.js';
import type { SendPlan } from '../../src/cli/send/plan.js';
import { curlCommand, printfFormat, shellWord } from '../../src/util/curl-command.js';
import { printableLine, printableSnippet, quotedSnippet } from '../../src/util/printable.js';
import { textReporter } from '../../src/verify/reporters/text.js';
import type { Verdict } from '../../src/verify/types.js';
import { assertPrintable } from '../helpers/printable-output.js';

function quietIO(): CliIO & { text(): string } {
  const stdout = new PassThrough();
  const chunks: Buffer[] = [];
  stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  return { cwd: tmpdir(), env: {}, stdin: new PassThrough(), stdout, stderr: new PassThrough(), text: () => Buffer.concat(chunks).toString('utf8') };
}

test('printableSnippet escapes controls, C1, bidi and invalid UTF-8, and keeps other text', () => {
  assert.equal(printableSnippet('MessageSent /hooks?x=1'), 'MessageSent /hooks?x=1');
  assert.equal(printableSnippet('\x1b]0;pwned\x07'), '\\x1b]0;pwned\\x07');
  assert.equal(printableSnippet('a\tb\nc\rd\x7f'), 'a\\tb\\nc\\rd\\x7f');
  assert.equal(printableSnippet('\u009b31m \u202egnp.exe \u2028'), '\\u009b31m \\u202egnp.exe \\u2028');
  assert.equal(printableSnippet(Buffer.from([0x41, 0xff, 0x00, 0xc3, 0xa9, 0xc2, 0x85, 0xe0, 0x80, 0x80, 0xed, 0xa0, 0x80])), 'A\\xff\\x00é\\u0085\\xe0\\x80\\x80\\xed\\xa0\\x80', 'overlong and surrogate forms are not UTF-8');
  assert.equal(printableSnippet('é 😀 日本'), 'é 😀 日本');
  assert.equal(printableSnippet('\ud800x'), '\\ud800x', 'a lone surrogate');
  assert.equal(printableSnippet('x ##[error]y ##vso[task.setvariable]'), 'x ##\\x5berror]y ##vso\\x5btask.setvariable]');
  assert.equal(quotedSnippet('Evil\n'), '"Evil\\n"');
});

test('printableSnippet is bounded by characters and never cuts an escape in half', () => {
  assert.equal(printableSnippet('a'.repeat(50), 10), `${'a'.repeat(9)}…`);
  assert.equal(printableSnippet('a'.repeat(10), 10), 'a'.repeat(10), 'exactly the bound: not cut');
  const cut = printableSnippet('\x1b'.repeat(50), 10);
  assert.equal(cut, '\\x1b\\x1b…');
  assert.ok(printableSnippet(Buffer.alloc(1_000_000, 0xff), 80).length <= 80);
});

test('printableLine: a line cannot start a CI command, even after white space', () => {
  assert.equal(printableLine('::error title=pwned::x'), '\\x3a:error title=pwned::x');
  assert.equal(printableLine('   ::warning::x'), '   \\x3a:warning::x');
  assert.equal(printableLine('\u00a0::x'), '\u00a0\\x3a:x');
  assert.equal(printableLine('{"event":"::x"}'), '{"event":"::x"}');
  assert.equal(printableLine('\n::x'), '\\n::x', 'a newline is escaped, so the colon is not at a line start');
});

test('curl words: printable ASCII quoted, anything else through printf octal escapes', () => {
  assert.equal(shellWord('POST'), 'POST');
  assert.equal(shellWord("it's"), `'it'\\''s'`);
  assert.equal(shellWord('x-a: \xe9'), `"$(printf 'x-a: \\351')"`, 'a Latin-1 header value goes out as its byte');
  assert.equal(printfFormat(Buffer.from("a%b\\c'd\n\x00\xff1", 'latin1')), `'a%%b\\\\c\\047d\\n\\000\\3771'`);
  const small = curlCommand({ method: 'POST', url: 'http://127.0.0.1:1/x', headers: [['a', 'b']], body: Buffer.from('{"a":1}') });
  assert.equal(small, `curl -X POST http://127.0.0.1:1/x -H 'a: b' --data-binary '{"a":1}'`);
  const binary = curlCommand({ method: 'POST', url: 'http://127.0.0.1:1/x', headers: [], body: Buffer.from([0, 0x0a]) });
  assert.equal(binary, `printf '\\000\\n' | curl -X POST http://127.0.0.1:1/x --data-binary @-`);
  assert.match(curlCommand({ method: 'POST', url: 'http://h/', headers: [], body: Buffer.alloc(70_000, 0x61) }), /^printf 'a{70000}' \| curl /, 'large: piped, not one exec argument');
  assert.equal(curlCommand({ method: 'POST', url: 'http://h/', headers: [], body: { file: 'my body.json' } }), `curl -X POST http://h/ --data-binary @'my body.json'`);
});

/** Random bytes, biased toward the dangerous ones, from a seeded generator so a failure reproduces. */
function fuzzer(seed: number): { bytes(max: number): Buffer; text(max: number): string; int(n: number): number } {
  let state = seed >>> 0;
  const next = (): number => {
    // mulberry32
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pieces = ['\x1b[31m', '\x1b]0;t\x07', '\n::error::x', '::warning::', '##[error]', '##vso[task]', '\u009b', '\u202e', '\r', '\x00', '\ud800', 'é', '😀', '\\x1b'];
  const bytes = (max: number): Buffer => {
    const out = Buffer.alloc(int(max + 1));
    for (let i = 0; i < out.length; i++) out[i] = int(4) === 0 ? int(0x20) : int(256);
    if (int(3) === 0) return Buffer.concat([out, Buffer.from(pieces[int(pieces.length)] as string)]);
    return out;
  };
  const text = (max: number): string => {
    let out = '';
    const length = int(max + 1);
    while (out.length < length) out += int(3) === 0 ? (pieces[int(pieces.length)] as string) : String.fromCharCode(int(0x3000));
    return out;
  };
  return { bytes, text, int };
}

const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20261206);
const FUZZ_ROUNDS = 300;

test(`fuzz: random bytes through every human-readable printer leave nothing raw (seed ${FUZZ_SEED})`, () => {
  const f = fuzzer(FUZZ_SEED);
  const io = quietIO();
  const plainChalk = colors(io);
  for (let round = 0; round < FUZZ_ROUNDS; round++) {
    const label = `round ${round} (FUZZ_SEED=${FUZZ_SEED})`;
    const check = (printer: string, output: string): void => assertPrintable(output, `${printer}, ${label}`);
    const bytes = f.bytes(300);
    const text = f.text(120);
    // A snippet goes after a label of ours (only printableLine may start a line).
    check('printableSnippet(bytes)', `x ${printableSnippet(bytes)}`);
    check('printableSnippet(text)', `x ${printableSnippet(text)}`);
    check('printableLine(bytes)', printableLine(bytes));
    check('printableLine(text)', printableLine(text));
    check('quotedSnippet', `x ${quotedSnippet(text)}`);

    const outcome: DeliveryOutcome = { ok: false, status: 503, latencyMs: 3, responseHead: bytes, responseSnippet: bytes.toString('utf8') };
    check('failureReason', `x ${failureReason(outcome) ?? ''}`);
    check('formatDelivery (send)', formatDelivery({ event: text, attempt: 1, outcome }, plainChalk));
    check('formatDelivery (replay tag)', formatDelivery({ event: text, attempt: 1, outcome }, plainChalk, f.text(40)));
    const failed: DeliveryOutcome = { ok: false, latencyMs: 3, error: { kind: 'other', message: f.text(80) } };
    check('formatDelivery (error)', formatDelivery({ event: 'MessageSent', attempt: 2, outcome: failed }, plainChalk, true));

    const record = {
      id: 'req_1',
      receivedAt: new Date(0).toISOString(),
      method: f.text(10),
      path: `/${f.text(200)}`,
      headers: {},
      body: '',
      bodyEncoding: 'utf8',
      bodySize: 0,
      signature: 'invalid',
      event: f.text(40),
      responseStatus: 403,
      ...(f.int(2) === 0 ? { rejected: f.text(60) } : { forward: { status: 502, latencyMs: 1, error: f.text(60) } }),
    } as unknown as CaptureRecord;
    check('listen requestLine', requestLine(record, io));

    const verdict: Verdict = {
      location: `captures.jsonl:${round}`,
      id: f.text(20),
      event: f.text(40),
      ok: false,
      reasons: [{ code: 'body-not-json', path: undefined, message: `body is not JSON (${f.text(100)})` }],
      exactDuplicateOf: f.text(20),
      notes: [f.text(50)],
    };
    const reporter = textReporter(2);
    check('verify text verdict', reporter.verdict(verdict));
    check('verify text withRepeat', reporter.withRepeat(reporter.verdict({ ...verdict, exactDuplicateOf: undefined }), { samePairAs: f.text(20) }));

    const summary = { passed: 0, failed: 1, skipped: 0, filteredOut: 0, agedByReceipt: 0, notAged: 0, exactDuplicates: 0, repeatedPairs: 0, duplicateKeys: { exact: 'bytes', pair: 'event + message_id' }, expectations: [{ event: f.text(30), min: 1, seen: 0, ok: false }] } as unknown as Parameters<typeof reporter.finish>[0];
    check('verify text finish', String(reporter.finish(summary)));
    check('check caseLine', caseLine({ id: 'accept:MessageSent', name: 'accepts MessageSent', ok: false, expected: '2xx within 5 s', status: 503, latencyMs: 2, reason: f.text(100) }, io));
    check('relay log line', relayLogLine({ kind: 'listener-closed', channel: f.text(20), reason: f.text(60) }, plainChalk));
    check('relay store error', relayLogLine({ kind: 'store-error', channel: '-', message: f.text(60) }, plainChalk));
    check('error line', errorLine(`Unknown event "${f.text(60)}".`));
  }
});

test('fuzz: send --dry-run previews random bodies and headers without a raw byte, and its curl line is exact ASCII', () => {
  const f = fuzzer(FUZZ_SEED + 1);
  for (let round = 0; round < 50; round++) {
    const io = quietIO();
    const plan = { url: new URL('http://127.0.0.1:9/hooks'), insecure: false, json: false, repeat: 1, mode: 'deliver', secret: 's', userAgent: 'fe-webhooks/test', headers: [['x-note', f.text(30).replace(/[\r\n\0]/g, '')]], body: { file: '-' } } as unknown as SendPlan;
    const body = f.bytes(400);
    printDryRun(plan, [{ label: f.text(30), bytes: body }], io);
    const output = io.text();
    assertPrintable(output, `dry-run round ${round} (FUZZ_SEED=${FUZZ_SEED + 1})`);
    const curl = output.trimEnd().split('\n').at(-1) ?? '';
    assert.match(curl, /^[\x20-\x7e]+$/, 'the curl line is printable ASCII');
  }
});
