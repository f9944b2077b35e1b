import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sign } from '../../src/signing/index.js';
import { runCli, tempDir } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';
import { captureRecord, sampleBody, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'replay-secret';

test('replay re-sends the exact bytes and headers: the signature verifies at a real receiver', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t, { secret: SECRET });
  // Bytes a re-serialisation would change: key order, spacing, escapes, a non-UTF-8 byte.
  const odd = Buffer.concat([Buffer.from('{"payload": {"b":1,  "a":"\\u00e9 é"}, "event":"MessageSent"}'), Buffer.from([0xff, 0x0a])]);
  const pretty = Buffer.from(sampleBody('MessageBounced', 3).replace('{', '{\n  '));
  const records = [
    captureRecord({ body: pretty, secret: SECRET }),
    captureRecord({ body: odd, secret: SECRET, method: 'POST' }),
    captureRecord({ event: 'MessageSent', seed: 2, secret: SECRET, method: 'GET' }),
  ];
  // Characters a URL object would percent-encode: the replay sends them as captured.
  records[0]!.path = "/webhooks/{email}/`x`?x=1&q='a'&s=\"b\"&lt=<c>";
  records[0]!.headers = { ...records[0]!.headers, 'x-custom': ['a', 'b'], host: 'hooks.example.com', connection: 'keep-alive, x-hop', 'x-hop': '1', 'user-agent': 'FrontEngine/1.0' };
  await mkdir(path.join(dir, '.fe-webhooks'));
  await writeCaptures(path.join(dir, '.fe-webhooks/captures.jsonl'), records);

  const result = await runCli(['replay', '--last', '5', '--to', `127.0.0.1:${receiver.port}`], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stderr, /1 unreadable, refused or non-POST request\(s\)/);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0] ?? '', new RegExp(`^${records[0]!.id}  MessageBounced +200 +\\d+ ms$`));
  const got = await receiver.waitFor(2);
  assert.ok(got[0]!.body.equals(pretty), 'first body byte-exact');
  assert.ok(got[1]!.body.equals(odd), 'non-UTF-8 body byte-exact');
  assert.deepEqual(got.map((r) => r.signatureValid), [true, true]);
  assert.equal(got[0]!.url, "/webhooks/{email}/`x`?x=1&q='a'&s=\"b\"&lt=<c>", 'a bare host:port gets the captured path, byte for byte');
  assert.equal(got[0]!.headers['x-webhook-signature'], sign(pretty, SECRET));
  assert.equal(got[0]!.headers['user-agent'], 'FrontEngine/1.0');
  assert.equal(got[0]!.headers['x-custom'], 'a, b');
  assert.equal(got[0]!.headers.host, `127.0.0.1:${receiver.port}`);
  assert.equal(got[0]!.headers['x-hop'], undefined, 'headers named by Connection are hop-by-hop');
});

test('replay by id prefix, --event, --json; a failed replay and unknown ids are exit 1 and 2', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t, { secret: SECRET });
  const records = [
    captureRecord({ event: 'MessageSent', seed: 1, secret: SECRET }),
    captureRecord({ event: 'MessageHeld', seed: 2, secret: SECRET }),
    captureRecord({ event: 'MessageSent', seed: 3, secret: 'stale-secret' }),
  ];
  const file = path.join(dir, 'caps.jsonl');
  await writeCaptures(file, records);
  const to = ['--from', 'caps.jsonl', '--to', `${receiver.url}/hook`];
  const byId = await runCli(['replay', records[1]!.id.slice(0, -4), '--json', ...to], { cwd: dir });
  assert.equal(byId.code, 0, byId.stderr);
  const line = JSON.parse(byId.stdout);
  assert.equal(line.id, records[1]!.id);
  assert.equal(line.status, 200);
  assert.equal((await receiver.waitFor(1))[0]!.url, '/hook');

  const last = await runCli(['replay', '--event', 'message.sent', ...to], { cwd: dir });
  assert.equal(last.code, 1, 'the last MessageSent was signed with another secret: the receiver says 401');
  assert.match(last.stdout, new RegExp(`^${records[2]!.id}  MessageSent +401`));
  assert.match(last.stderr, /1 of 1 replays failed/);

  for (const [args, message] of [
    [['replay', 'req_nope', ...to], /No capture "req_nope" in caps\.jsonl/],
    [['replay', 'req_', ...to], /"req_" matches 3 captures/],
    [['replay', 'x', '--last', '2', ...to], /ids or --last, not both/],
    [['replay', '--to', 'http://example.com/hook'], /Refusing plain http/],
    [['replay', '--to', `${receiver.url}/hook`], /no such file/],
  ] as Array<[string[], RegExp]>) {
    const result = await runCli(args, { cwd: dir });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
});
