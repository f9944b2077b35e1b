import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { matchingSecretIndex, sign, verify } from '../../src/signing/index.js';
import { pythonVerify } from '../helpers/python.js';
import { needs } from '../helpers/system-programs.js';

test("GitHub's published HMAC-SHA256 vector", () => {
  assert.equal(
    sign('Hello, World!', "It's a Secret to Everybody"),
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17',
  );
  assert.equal(
    verify('Hello, World!', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17', "It's a Secret to Everybody"),
    true,
  );
});

test('strings and their UTF-8 bytes sign the same', () => {
  const text = '{"subject":"Ihre Bestellbestätigung – ✓ 🚀"}';
  assert.equal(sign(text, 'sëcret'), sign(Buffer.from(text, 'utf8'), 'sëcret'));
});

test('malformed and wrong signatures are false, never a throw', () => {
  const body = '{"event":"MessageSent"}';
  const good = sign(body, 's');
  const malformed: unknown[] = [
    undefined,
    null,
    42,
    '',
    'sha256=',
    good.toUpperCase(),
    `SHA256=${good.slice(7)}`,
    `sha1=${good.slice(7)}`,
    good.slice(7),
    `${good}0`,
    good.slice(0, -1),
    `sha256=${'z'.repeat(64)}`,
    ` ${good}`,
    `${good} `,
    ['sha256=abc'],
    { toString: () => good },
  ];
  for (const signature of malformed) assert.equal(verify(body, signature, 's'), false, String(signature));
  assert.equal(verify(body, good, 'other'), false);
  assert.equal(verify(`${body} `, good, 's'), false);
  assert.equal(verify(body, good, []), false);
  assert.equal(verify(body, good, ''), false);
});

test('rotation: the index of the secret that matched', () => {
  const body = Buffer.from('{"event":"MessageHeld"}');
  const signature = sign(body, 'new');
  assert.equal(matchingSecretIndex(body, signature, ['old', 'new']), 1);
  assert.equal(matchingSecretIndex(body, signature, ['new', 'old']), 0);
  assert.equal(matchingSecretIndex(body, signature, ['a', 'b']), -1);
  assert.equal(verify(body, signature, ['old', 'new']), true);
});

test("the page's Python verify_webhook accepts our signatures on binary and non-ASCII bodies", needs('python3'), () => {
  const bodies: Buffer[] = [
    Buffer.from(''),
    Buffer.from('{"event":"MessageSent","payload":{"subject":"Grüße aus Köln – 東京 🚀"}}', 'utf8'),
    Buffer.from('{"a":"\\u00e9\\ud83d\\ude80"}\n', 'utf8'),
    Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x28, 0x0d, 0x0a]),
    randomBytes(4096),
  ];
  const secrets = ['whsec_simple', 'sëcrét-ключ-🔑', "It's a Secret to Everybody"];
  const cases: Array<[Buffer, string, string]> = [];
  for (const body of bodies) for (const secret of secrets) cases.push([body, sign(body, secret), secret]);
  // And forged ones the page's check must refuse: wrong secret, one flipped byte.
  const tampered = Buffer.from(bodies[1] as Buffer);
  tampered[0] = 0x5b;
  cases.push([bodies[1] as Buffer, sign(bodies[1] as Buffer, 'wrong'), 'whsec_simple']);
  cases.push([tampered, sign(bodies[1] as Buffer, 'whsec_simple'), 'whsec_simple']);
  const results = pythonVerify(cases);
  assert.deepEqual(results.slice(0, -2), Array(results.length - 2).fill(true));
  assert.deepEqual(results.slice(-2), [false, false]);
});

test('constant-time ASCII equality', async () => {
  const { constantTimeEqualAscii } = await import('../../src/signing/index.js');
  assert.equal(constantTimeEqualAscii('abc', 'abc'), true);
  assert.equal(constantTimeEqualAscii('abc', 'abd'), false);
  assert.equal(constantTimeEqualAscii('abc', 'ab'), false);
  assert.equal(constantTimeEqualAscii('', ''), true);
});

test("hmacSha256Hex gives createHmac's bytes for every key length, body kind and size", async () => {
  const { createHmac } = await import('node:crypto');
  const { hmacSha256Hex } = await import('../../src/signing/hmac-hex.js');
  const secrets = ['k', 'sëcret ✓', 'x'.repeat(63), 'y'.repeat(64), 'z'.repeat(65), 'ü'.repeat(100)];
  const bodies: Array<string | Buffer> = [
    '',
    '{"event":"MessageSent"}',
    '{"subject":"Ihre Bestellbestätigung – ✓ 🚀"}',
    'a'.repeat(20_000),
    '✓'.repeat(400_000),
    // A lone surrogate (JSON can escape one): both sides encode it as U+FFFD.
    '{"x":"\ud800"}',
    Buffer.from([0xff, 0x00, 0xc3]),
    randomBytes(40_000),
  ];
  for (const secret of secrets) {
    const hmac = hmacSha256Hex(Buffer.from(secret, 'utf8'));
    // Twice over, so a scratch buffer reused from a longer body cannot leak into a shorter one.
    for (const body of [...bodies, ...bodies.slice().reverse()]) {
      assert.equal(hmac(body), createHmac('sha256', Buffer.from(secret, 'utf8')).update(body).digest('hex'));
    }
  }
});
