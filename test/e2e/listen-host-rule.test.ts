import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { promisify } from 'node:util';
import type { CaptureRecord } from '../../src/capture/record.js';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { rawRequest, startRawServer } from '../helpers/raw-http.js';
import { post } from '../helpers/relay.js';
import { captureRecord, sampleBody, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'host-rule-secret';

/** An app that hands out a session cookie: what a rebinding page would want to read. */
async function cookieApp(t: TestContext) {
  const app = await startRawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nSet-Cookie: session=app-cookie\r\nContent-Length: 2\r\n\r\nok'));
  return { ...app, target: `${new URL(app.url).origin}/hooks` };
}

function getWithHost(url: string, host: string | undefined, extraHeaders = '', version = '1.1'): Promise<string> {
  const hostLine = host === undefined ? '' : `Host: ${host}\r\n`;
  return rawRequest(url, `GET /admin/users?export=1 HTTP/${version}\r\n${hostLine}${extraHeaders}Connection: close\r\n\r\n`);
}

function statusOf(answer: string): number {
  return Number(/^HTTP\/1\.[01] (\d{3})/.exec(answer)?.[1]);
}

function bodyOf(answer: string): string {
  return answer.slice(answer.indexOf('\r\n\r\n') + 4);
}

async function readCaptures(file: string): Promise<CaptureRecord[]> {
  return (await readFile(file, 'utf8')).trimEnd().split('\n').map((line) => JSON.parse(line) as CaptureRecord);
}

test('listen: a foreign Host (DNS rebinding), Origin or Sec-Fetch-Site gets 403, is captured as rejected and never reaches the app', async (t) => {
  const dir = await tempDir(t);
  const captures = path.join(dir, 'captures.jsonl');
  const app = await cookieApp(t);
  const listen = await startListenCli(t, ['--forward', app.target, '--secret', SECRET, '--save', captures, '--allow-host', 'hooks.example.test', '--allow-host', '.tunnel.test'], { cwd: dir });
  const url = listen.ready.url;
  const port = new URL(url).port;

  const refused: Array<[string | undefined, string]> = [
    [`rebind.attacker.example:${port}`, ''],
    ['rebind.attacker.example', ''],
    ['localhost.attacker.example', ''],
    ['127.0.0.1.nip.io', ''],
    ['evil-hooks.example.test', ''],
    ['tunnel.test.evil.example', ''],
    [`127.0.0.1:${port}`, 'Origin: http://rebind.attacker.example\r\n'],
    [`127.0.0.1:${port}`, 'Origin: null\r\n'],
    [`localhost:${port}`, 'Sec-Fetch-Site: cross-site\r\n'],
  ];
  for (const [host, extra] of refused) {
    const answer = await getWithHost(url, host, extra);
    assert.equal(statusOf(answer), 403, `${host} ${extra}: ${answer}`);
    assert.doesNotMatch(answer, /app-cookie/i, 'nothing of the app goes back');
    const body = bodyOf(answer);
    assert.equal(body.trimEnd().split('\n').length, 1, 'one line');
    assert.match((JSON.parse(body) as { error: string }).error, /DNS-rebinding|browser sent this request/);
  }
  assert.equal(app.heads.length, 0, 'the app saw none of them');

  const allowed: Array<[string | undefined, string, string]> = [
    [`127.0.0.1:${port}`, '', '1.1'],
    [`localhost:${port}`, '', '1.1'],
    ['LOCALHOST', '', '1.1'],
    [`[::1]:${port}`, '', '1.1'],
    [`10.1.2.3:${port}`, '', '1.1'],
    [`hooks.example.test:${port}`, '', '1.1'],
    ['HOOKS.Example.Test', '', '1.1'],
    ['tunnel.test', '', '1.1'],
    ['abc.tunnel.test:443', '', '1.1'],
    [`127.0.0.1:${port}`, 'Sec-Fetch-Site: none\r\n', '1.1'],
    // HTTP/1.0 without Host: no browser sends that, so it cannot come from a rebinding page.
    [undefined, '', '1.0'],
  ];
  for (const [host, extra, version] of allowed) {
    const answer = await getWithHost(url, host, extra, version);
    assert.equal(statusOf(answer), 200, `${host}: ${answer}`);
    assert.match(answer, /set-cookie: session=app-cookie/i);
  }
  assert.equal(app.heads.length, allowed.length);
  assert.ok(app.heads.every((head) => head.startsWith('GET /hooks/admin/users?export=1 HTTP/1.1\r\n')));

  const records = await readCaptures(captures);
  assert.equal(records.length, refused.length + allowed.length);
  const rejected = records.slice(0, refused.length);
  assert.ok(rejected.every((r) => r.responseStatus === 403 && r.forward === undefined && /DNS-rebinding|browser/.test(r.rejected ?? '')));
  assert.ok(records.slice(refused.length).every((r) => r.responseStatus === 200 && r.rejected === undefined));
  const lines = (await listen.waitForLines(records.length)).map((l) => JSON.parse(l) as { status?: number; rejected?: string });
  assert.equal(lines.filter((l) => l.rejected !== undefined).length, refused.length, 'the printer shows the rejections');
});

test('listen: allowHosts in the config (and FE_WEBHOOKS_ALLOW_HOSTS) allow names; a bad --allow-host is exit 2', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ allowHosts: ['config.example.test'] }));
  const app = await cookieApp(t);
  const listen = await startListenCli(t, ['--forward', app.target, '--secret', SECRET, '--no-save'], { cwd: dir });
  assert.equal(statusOf(await getWithHost(listen.ready.url, 'config.example.test:80')), 200);
  assert.equal(statusOf(await getWithHost(listen.ready.url, 'other.example.test')), 403);
  assert.equal(app.heads.length, 1);
  // The environment beats the config file, as for every setting.
  const fromEnv = await startListenCli(t, ['--forward', app.target, '--secret', SECRET, '--no-save'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_ALLOW_HOSTS: 'env.example.test, .env-sub.test' }) });
  assert.equal(statusOf(await getWithHost(fromEnv.ready.url, 'env.example.test')), 200);
  assert.equal(statusOf(await getWithHost(fromEnv.ready.url, 'a.env-sub.test')), 200);
  assert.equal(statusOf(await getWithHost(fromEnv.ready.url, 'config.example.test')), 403);
  assert.equal(app.heads.length, 3);

  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ allowHosts: 'config.example.test' }));
  const wrongType = await runCli(['listen', '--port', '0', '--secret', SECRET, '--no-save'], { cwd: dir });
  assert.equal(wrongType.code, 2);
  assert.match(wrongType.stderr, /"allowHosts" must be a list of strings/);

  for (const bad of ['http://hooks.example.test', 'hooks.example.test:8080', 'a b', '']) {
    const result = await runCli(['listen', '--port', '0', '--secret', SECRET, '--no-save', '--allow-host', bad], { cwd: path.dirname(dir) });
    assert.equal(result.code, 2, `${bad}: ${result.stderr}`);
    assert.match(result.stderr, /^error: Invalid --allow-host/);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  }
});

test('listen: a captures file that ends in a torn line gets the next capture on a fresh line; verify reports one broken line and passes the new record', async (t) => {
  const dir = await tempDir(t);
  const captures = path.join(dir, 'captures.jsonl');
  const whole = captureRecord({ event: 'MessageSent', secret: SECRET });
  // What a crash mid-write leaves: one whole record, then half of the next one.
  await writeCaptures(captures, [whole], '{"id":"cap_torn","receivedAt":"2026-01-01T00:00:00.000Z","method":"POST","bo');
  const listen = await startListenCli(t, ['--secret', SECRET, '--save', captures], { cwd: dir });
  const body = sampleBody('MessageBounced', 2);
  const answer = await post(listen.ready.url, body, { 'x-webhook-signature': sign(body, SECRET), 'content-type': 'application/json' });
  assert.equal(answer.status, 200, answer.text);
  await listen.stop('SIGINT');

  const lines = (await readFile(captures, 'utf8')).split('\n');
  assert.equal(lines.length, 4, 'whole record, fragment, new record, final newline');
  assert.ok((lines[1] as string).endsWith('"bo'), 'the fragment stays as it was, on its own line');
  assert.equal((JSON.parse(lines[2] as string) as CaptureRecord).event, 'MessageBounced');

  const report = await runCli(['verify', captures, '--secret', SECRET, '--reporter', 'json']);
  const parsed = JSON.parse(report.stdout) as { verdicts: Array<{ event?: string; ok: boolean; reasons: Array<{ code: string }> }> };
  const broken = parsed.verdicts.filter((r) => !r.ok);
  assert.equal(broken.length, 1, report.stdout);
  assert.deepEqual(broken[0]?.reasons.map((r) => r.code), ['unreadable']);
  assert.deepEqual(parsed.verdicts.filter((r) => r.ok).map((r) => r.event), ['MessageSent', 'MessageBounced']);
  assert.equal(report.code, 1, 'the broken line still fails the run');
});

const exec = promisify(execFile);

test('.fe-webhooks/ is made with a .gitignore of *, added to an existing folder without one, a user\'s own kept', async (t) => {
  const dir = await tempDir(t);
  await exec('git', ['init', '-q', dir]);
  const listen = await startListenCli(t, [], { cwd: dir });
  assert.ok(listen.ready.signingSecret, 'a local secret was made in .fe-webhooks/');
  const body = '{"event":"MessageSent"}';
  assert.equal((await post(listen.ready.url, body, { 'x-webhook-signature': sign(body, listen.ready.signingSecret as string) })).status, 200);
  await listen.stop('SIGINT');
  assert.match(await readFile(path.join(dir, '.fe-webhooks/.gitignore'), 'utf8'), /^\*$/m);
  // git sees nothing of it: not the secret, not the captures, not the .gitignore itself.
  const { stdout } = await exec('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir });
  assert.equal(stdout, '');

  // A folder from before (no .gitignore) gets one; a user's own is never replaced.
  const older = await tempDir(t);
  await mkdir(path.join(older, '.fe-webhooks'));
  assert.equal((await runCli(['send', 'MessageSent', '--dry-run'], { cwd: older })).code, 0);
  assert.match(await readFile(path.join(older, '.fe-webhooks/.gitignore'), 'utf8'), /^\*$/m);
  const own = await tempDir(t);
  await mkdir(path.join(own, '.fe-webhooks'));
  await writeFile(path.join(own, '.fe-webhooks/.gitignore'), 'captures.jsonl\n');
  assert.equal((await runCli(['send', 'MessageSent', '--dry-run'], { cwd: own })).code, 0);
  assert.equal(await readFile(path.join(own, '.fe-webhooks/.gitignore'), 'utf8'), 'captures.jsonl\n');
});
