import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { BIN, cleanEnv, expectUsageErrors, runCli, tempDir } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'send-edges-secret';

/** The values of one header, as the receiving app saw them on the wire (each field line). */
function headerValues(rawHeaders: string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) values.push(rawHeaders[i + 1] as string);
  return values;
}

test('--set/--data fields that the event does not have are named on stderr, and the body is still sent', async (t) => {
  const dir = await tempDir(t);
  const cases: Array<[string[], string[]]> = [
    [['MessageBounced', '--set', 'payload.message.id=5'], ['warning: --set payload.message.id is not a field of MessageBounced (no payload.message); it is added anyway']],
    [['SendLimitExceeded', '--set', 'payload.message.id=5'], ['warning: --set payload.message.id is not a field of SendLimitExceeded (no payload.message); it is added anyway']],
    [['MessageSent', '--set', 'payload.mesage.to=a@example.com'], ['warning: --set payload.mesage.to is not a field of MessageSent (no payload.mesage); it is added anyway']],
    [['MessageSent', '--set', 'payload.message.colour=red'], ['warning: --set payload.message.colour is not a field of MessageSent; it is added anyway']],
    // Known fields, array items included, are quiet.
    [['MessageSent', '--set', 'payload.message.to=a@example.com', '--set', 'payload.status=sent'], []],
  ];
  for (const [args, warnings] of cases) {
    const result = await runCli(['generate', ...args, '--compact']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(result.stderr.split('\n').filter(Boolean), warnings, args.join(' '));
  }
  const data = path.join(dir, 'partial.json');
  await writeFile(data, JSON.stringify({ payload: { message: { to: 'a@example.com', tagz: 'typo' }, extra: { deep: 1 } } }));
  const app = await startReceiver(t, { secret: SECRET });
  const sent = await runCli(['send', 'MessageSent', '--url', app.url, '--secret', SECRET, '--data', data, '--set', 'payload.mesage.to=x@example.com']);
  assert.equal(sent.code, 0, sent.stderr);
  assert.deepEqual(sent.stderr.split('\n').filter(Boolean), [
    'warning: --data payload.message.tagz is not a field of MessageSent; it is added anyway',
    'warning: --data payload.extra.deep is not a field of MessageSent (no payload.extra); it is added anyway',
    'warning: --set payload.mesage.to is not a field of MessageSent (no payload.mesage); it is added anyway',
  ]);
  const [request] = await app.waitFor(1);
  const body = JSON.parse(request?.body.toString('utf8') ?? '{}') as { payload: { mesage?: { to: string }; message: { tagz?: string } } };
  assert.equal(body.payload.mesage?.to, 'x@example.com');
  assert.equal(body.payload.message.tagz, 'typo');
  assert.equal(request?.signatureValid, true);
});

test('contradictions and framing headers are exit 2 with a reason, before anything is sent', async (t) => {
  const dir = await tempDir(t);
  const app = await startReceiver(t, { secret: SECRET });
  const sentBody = path.join(dir, 'sent.json');
  await writeFile(sentBody, (await runCli(['generate', 'MessageSent', '--compact'])).stdout.trim());
  const base = ['--url', app.url, '--secret', SECRET];
  await expectUsageErrors([
    [['send', 'MessageBounced', '--body', sentBody, ...base], /^error: --body .*sent\.json is a "MessageSent" event, not MessageBounced: name no event, or give a MessageBounced body$/m],
    [['send', 'MessageSent', '--header', 'Content-Length: 5', ...base], /^error: Invalid --header "Content-Length: 5": fe-webhooks sets Content-Length from the body$/m],
    [['send', 'MessageSent', '--header', 'Transfer-Encoding: chunked', ...base], /^error: Invalid --header "Transfer-Encoding: chunked": fe-webhooks sends the body whole/],
    [['send', 'MessageSent', '--header', 'connection: close', '--count', '2', ...base], /^error: Invalid --header "connection: close": the connection is managed by fe-webhooks$/m],
    [['send', 'MessageSent', '--header', 'Expect: 100-continue', ...base], /^error: Invalid --header "Expect: 100-continue"/],
    [['send', 'MessageSent', '--header', 'Host: a.test', '--header', 'host: b.test', ...base], /^error: --header "Host: …" can be given once$/m],
  ]);
  assert.equal(app.requests.length, 0);
  // The body's own event, named or not, goes as it is.
  for (const named of [['MessageSent'], []]) {
    const sent = await runCli(['send', ...named, '--body', sentBody, ...base]);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^MessageSent +200 /);
  }
});

test('a repeated --header is sent once per value, in single and load mode', async (t) => {
  const app = await startReceiver(t, { secret: SECRET });
  const headers = ['--header', 'X-A: 1', '--header', 'x-a: 2', '--header', 'X-B: only'];
  const single = await runCli(['send', 'MessageSent', '--url', app.url, '--secret', SECRET, ...headers]);
  assert.equal(single.code, 0, single.stderr);
  const load = await runCli(['send', 'MessageSent', '--count', '2', '--concurrency', '1', '--url', app.url, '--secret', SECRET, ...headers]);
  assert.equal(load.code, 0, load.stderr);
  const requests = await app.waitFor(3);
  for (const request of requests) {
    assert.deepEqual(headerValues(request.rawHeaders, 'x-a'), ['1', '2']);
    assert.deepEqual(headerValues(request.rawHeaders, 'x-b'), ['only']);
    assert.equal(request.signatureValid, true);
  }
  const dry = await runCli(['send', 'MessageSent', '--dry-run', '--url', app.url, '--secret', SECRET, ...headers]);
  assert.match(dry.stdout, /^X-A: 1\nX-A: 2\n/m);
  assert.match(dry.stdout, /-H 'X-A: 1' -H 'X-A: 2'/);
});

test('--seed is exact over its whole range; seeds below 2^32 keep their samples', async () => {
  const sample = async (seed: string): Promise<string> => {
    const result = await runCli(['generate', 'MessageSent', '--seed', seed, '--compact']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout).payload.message.token as string;
  };
  const [s42, s42again, high, max, maxMinus] = await Promise.all(['42', '42', '4294967338', '9007199254740991', String(9007199254740991 - 2 ** 32)].map(sample));
  assert.equal(s42, s42again);
  assert.notEqual(high, s42, '4294967338 is 42 + 2^32, a different seed');
  assert.notEqual(max, maxMinus);
  await expectUsageErrors([[['generate', 'MessageSent', '--seed', '9007199254740993'], /Invalid --seed "9007199254740993": expected a whole number/]]);
});

test('numbers JSON cannot hold are refused, a --data BOM is skipped', async (t) => {
  const dir = await tempDir(t);
  const huge = path.join(dir, 'huge.json');
  await writeFile(huge, '{"payload": {"message": {"id": 1e400}}}');
  await expectUsageErrors([
    [['generate', 'MessageSent', '--set', 'payload.message.id=1e400'], /Invalid --set "payload\.message\.id=1e400": payload\.message\.id is too large for a JSON number/],
    [['generate', 'MessageSent', '--set', 'payload.message.id=12345678901234567890'], /12345678901234567890 is past 2\^53 and would change as a JSON number \(to 12345678901234567000\); quote it for a string/],
    [['generate', 'MessageSent', '--set', 'payload.x=[1,-1e999]'], /Invalid --set "payload\.x=\[1,-1e999\]": payload\.x\[1\] is too large/],
    [['generate', 'MessageSent', '--data', huge], /^error: Invalid data in .*huge\.json: the number at payload\.message\.id is too large for JSON/],
  ]);
  const withBom = path.join(dir, 'bom.json');
  await writeFile(withBom, Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"payload": {"message": {"to": "bom@example.com"}}}')]));
  const result = await runCli(['generate', 'MessageSent', '--data', withBom]);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).payload.message.to, 'bom@example.com');
  assert.equal(result.stderr, '');
});

test('--retry --time-scale that would overflow a timer is exit 2, not a warning and an instant retry', async (t) => {
  const app = await startReceiver(t, { respond: () => 500 });
  const result = await runCli(['send', 'MessageSent', '--retry', '--time-scale', '1e9', '--url', app.url, '--secret', SECRET]);
  assert.equal(result.code, 2);
  assert.equal(result.stderr, 'error: Invalid --time-scale 1000000000: the 12 h retry would wait longer than 24 days; use at most 49\n');
  assert.equal(app.requests.length, 0);
});

test('FORCE_COLOR=0 turns colour off on a terminal', { skip: spawnSync('script', ['--version']).status !== 0 && 'needs script(1) for a terminal' }, () => {
  // script(1) gives the CLI a real pseudo-terminal, where it would colour.
  const onTerminal = (env: NodeJS.ProcessEnv): string =>
    spawnSync('script', ['-qec', `${process.execPath} ${BIN} events`, '/dev/null'], { cwd: tmpdir(), env, encoding: 'utf8', timeout: 30_000 }).stdout;
  assert.match(onTerminal(cleanEnv()), /\x1b\[/, 'colours on a terminal by default');
  for (const off of ['0', 'false']) assert.doesNotMatch(onTerminal(cleanEnv({ FORCE_COLOR: off })), /\x1b\[/, `FORCE_COLOR=${off}`);
  assert.doesNotMatch(onTerminal(cleanEnv({ NO_COLOR: '1' })), /\x1b\[/);
});

test('URL mistakes get the reason, and every local spelling of this machine gets plain http', async (t) => {
  await expectUsageErrors([
    [['send', 'MessageSent', '--url', 'http:///path'], /^error: Invalid --url "http:\/\/\/path": no host name after the scheme$/m],
    [['send', 'MessageSent', '--url', 'mailto:x@y'], /^error: Invalid --url "mailto:x@y": only http and https are supported, not mailto:$/m],
    [['send', 'MessageSent', '--url', 'http://127.0.0.1:99999/'], /^error: Invalid --url "http:\/\/127\.0\.0\.1:99999\/": port 99999 is out of range \(1-65535\)$/m],
  ]);
  const app = await startReceiver(t, { secret: SECRET });
  for (const target of [`0.0.0.0:${app.port}`, `http://localhost.:${app.port}/`, `http://[::ffff:127.0.0.1]:${app.port}/`]) {
    const dry = await runCli(['send', 'MessageSent', '--dry-run', '--url', target, '--secret', SECRET]);
    assert.equal(dry.code, 0, `${target}: ${dry.stderr}`);
  }
  // Both reach the app listening on 127.0.0.1.
  for (const target of [`0.0.0.0:${app.port}`, `localhost.:${app.port}`]) {
    const sent = await runCli(['send', 'MessageSent', '--url', target, '--secret', SECRET]);
    assert.equal(sent.code, 0, `${target}: ${sent.stderr}`);
  }
  assert.equal((await app.waitFor(2)).length, 2);
});
