import assert from 'node:assert/strict';
import { access, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { request } from 'undici';
import { expectUsageErrors, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli, type RunningListen } from '../helpers/listen-cli.js';
import { deadPort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { startReceiver, type Receiver } from '../helpers/receiver.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  json: Record<string, unknown> | undefined;
}

async function admin(url: string, method: 'POST' | 'DELETE' | 'GET', token?: string): Promise<Answer> {
  const response = await request(url, { method, headers: token !== undefined ? { authorization: `Bearer ${token}` } : {} });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

const rotate = (relayUrl: string, id: string, token?: string): Promise<Answer> => admin(`${relayUrl}/channels/${id}/token`, 'POST', token);
const remove = (relayUrl: string, id: string, token?: string): Promise<Answer> => admin(`${relayUrl}/channels/${id}`, 'DELETE', token);

/** A `listen` on a channel; resolves once an event posted to the channel reached the app through it. */
async function connectedListen(t: TestContext, relayUrl: string, channel: { id: string; token: string }, app: Receiver, cwd: string, postUrl = relayUrl): Promise<RunningListen> {
  const listen = await startListenCli(t, ['--relay', relayUrl, '--channel', channel.id, '--token', channel.token, '--forward', app.url, '--no-save'], { cwd });
  const before = app.requests.length;
  const answer = await post(`${postUrl}/c/${channel.id}`, JSON.stringify({ probe: before }));
  assert.ok([200, 202].includes(answer.status), `probe: ${answer.status} ${answer.text}`);
  await app.waitFor(before + 1, 20_000);
  return listen;
}

/** listen ended on its own with exit 2 and one error line matching `reason`; no token in what it printed. */
async function assertStopped(listen: RunningListen, reason: RegExp, secrets: string[]): Promise<void> {
  const exit = await Promise.race([listen.exited(), new Promise<never>((_, reject) => setTimeout(() => reject(new Error('listen did not exit within 20 s')), 20_000).unref())]);
  assert.equal(exit.code, 2, exit.stderr);
  const errors = exit.stderr.split('\n').filter((line) => line.startsWith('error:'));
  assert.equal(errors.length, 1, exit.stderr);
  assert.match(errors[0] as string, reason);
  assert.ok(exit.stderr.trimEnd().endsWith(errors[0] as string), 'the reason is the last line');
  for (const secret of secrets) assert.ok(!(exit.stdout + exit.stderr).includes(secret), 'no token printed');
  assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack');
}

test('POST /channels/<id>/token: JSON refusals, a new token at once; the old one is refused on HTTP and WebSocket, and its listen exits 2', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  let relay = await startRelayProcess(t, dataDir);
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  const listen = await connectedListen(t, relay.url, channel, app, dir);

  const missing = await rotate(relay.url, channel.id);
  assert.equal(missing.status, 401);
  assert.match(String(missing.json?.error), /Authorization: Bearer/);
  assert.match(String(missing.headers['www-authenticate']), /^Bearer /);
  assert.equal((await rotate(relay.url, channel.id, 'not-the-token')).status, 403);
  assert.equal((await rotate(relay.url, channel.id, 'not-the-token')).json?.error, 'wrong token for this channel');
  const unknown = await rotate(relay.url, 'nosuchchannel_000000000', channel.token);
  assert.deepEqual([unknown.status, unknown.json], [404, { error: 'unknown channel' }]);
  const wrongMethod = await admin(`${relay.url}/channels/${channel.id}/token`, 'GET', channel.token);
  assert.deepEqual([wrongMethod.status, wrongMethod.headers.allow], [405, 'POST']);
  assert.equal(app.requests.length, 1, 'refused calls changed nothing');

  const rotated = await rotate(relay.url, channel.id, channel.token);
  assert.equal(rotated.status, 200);
  assert.deepEqual(Object.keys(rotated.json ?? {}), ['token']);
  const token = rotated.json?.token as string;
  assert.match(token, /^[A-Za-z0-9_-]{43}$/);
  assert.notEqual(token, channel.token);

  await assertStopped(listen, /revoked this listener's token for channel .*rotated/, [channel.token, token]);
  // HTTP: the old token is refused from now on.
  assert.equal((await rotate(relay.url, channel.id, channel.token)).status, 403);
  assert.equal((await remove(relay.url, channel.id, channel.token)).status, 403);
  // WebSocket: a listen with the old token is refused (exit 2), not retried.
  const stale = await startListenCli(t, ['--relay', relay.url, '--channel', channel.id, '--token', channel.token, '--no-save'], { cwd: dir }).catch((error: Error) => error);
  if (!(stale instanceof Error)) await assertStopped(stale, /refused channel/, [channel.token]);
  else assert.match(stale.message, /exited with 2[\s\S]*refused channel/);

  // The new token is the one that works, and stays so after a restart (it was stored before the 200).
  await relay.kill('SIGTERM');
  relay = await startRelayProcess(t, dataDir);
  const fresh = await connectedListen(t, relay.url, { id: channel.id, token }, app, dir);
  assert.equal((await post(`${relay.url}/c/${channel.id}`, '{"n":"after"}')).status, 200);
  await app.waitFor(3);
  assert.equal(app.requests.at(-1)?.body.toString(), '{"n":"after"}');
  assert.equal((await fresh.stop('SIGINT')).code, 130);
});

test('DELETE /channels/<id>: 204, its listener exits 2, posts get 404, its files go and its slot is free (--max-channels 1)', async (t) => {
  const dir = await tempDir(t);
  const dataDir = path.join(dir, 'relay-data');
  let relay = await startRelayProcess(t, dataDir, ['--max-channels', '1']);
  const app = await startReceiver(t);
  const channel = await createTestChannel(relay.url);
  assert.equal((await request(`${relay.url}/channels`, { method: 'POST' })).statusCode, 503, 'full');
  const listen = await connectedListen(t, relay.url, channel, app, dir);
  assert.equal((await remove(relay.url, channel.id)).status, 401);
  assert.equal((await remove(relay.url, channel.id, 'not-the-token')).status, 403);
  assert.equal((await admin(`${relay.url}/channels/${channel.id}`, 'GET', channel.token)).status, 405);

  const deleted = await remove(relay.url, channel.id, channel.token);
  assert.deepEqual([deleted.status, deleted.json], [204, undefined]);
  await assertStopped(listen, /deleted channel/, [channel.token]);
  const later = await post(`${relay.url}/c/${channel.id}`, '{"n":"late"}');
  assert.deepEqual([later.status, JSON.parse(later.text)], [404, { error: 'unknown channel' }]);
  assert.equal((await remove(relay.url, channel.id, channel.token)).status, 404);
  assert.equal((await rotate(relay.url, channel.id, channel.token)).status, 404);
  assert.deepEqual(await readdir(path.join(dataDir, 'channels')), [], 'the log is gone');

  // The slot is free: a new channel fits under --max-channels 1, and a restart keeps the deletion.
  const next = await createTestChannel(relay.url);
  await relay.kill('SIGKILL');
  relay = await startRelayProcess(t, dataDir, ['--max-channels', '1']);
  assert.equal((await post(`${relay.url}/c/${channel.id}`, '{}')).status, 404);
  assert.equal((await post(`${relay.url}/c/${next.id}`, '{}')).status, 202);
  assert.deepEqual(await readdir(path.join(dataDir, 'channels')), [next.id]);
  assert.equal(app.requests.length, 1, 'only the probe reached the app');
});

test('fe-webhooks channel rotate-token / delete act on the channel listen saved, and update .fe-webhooks/relay.json', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const app = await startReceiver(t);
  const saved = path.join(dir, '.fe-webhooks/relay.json');
  const first = await startListenCli(t, ['--relay', relay.url, '--forward', app.url, '--no-save'], { cwd: dir });
  const original = JSON.parse(await readFile(saved, 'utf8')) as { id: string; token: string; url: string };
  assert.equal((await post(original.url, '{"n":1}')).status, 200);

  const rotated = await runCli(['channel', 'rotate-token'], { cwd: dir });
  assert.equal(rotated.code, 0, rotated.stderr);
  const after = JSON.parse(await readFile(saved, 'utf8')) as { id: string; token: string; url: string };
  assert.equal(after.id, original.id);
  assert.notEqual(after.token, original.token);
  assert.equal((await stat(saved)).mode & 0o777, 0o600);
  assert.match(rotated.stdout, new RegExp(`Rotated the token of channel ${original.id} on ${relay.url}`));
  assert.match(rotated.stdout, new RegExp(`New token ${after.token.slice(0, 4)}…\\*+ saved in \\.fe-webhooks/relay\\.json`));
  assert.ok(!(rotated.stdout + rotated.stderr).includes(after.token), 'a saved token is not printed');
  await assertStopped(first, /revoked this listener's token/, [original.token, after.token]);
  assert.equal((await rotate(relay.url, original.id, original.token)).status, 403);

  // listen picks up the saved token as it is.
  const second = await startListenCli(t, ['--relay', relay.url, '--forward', app.url, '--no-save'], { cwd: dir });
  assert.equal((await post(original.url, '{"n":2}')).status, 200);
  assert.deepEqual(app.requests.map((r) => r.body.toString()), ['{"n":1}', '{"n":2}']);

  const deleted = await runCli(['channel', 'delete'], { cwd: dir });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.match(deleted.stdout, new RegExp(`Deleted channel ${original.id}`));
  assert.match(deleted.stdout, /Removed it from \.fe-webhooks\/relay\.json/);
  await assertStopped(second, /deleted channel/, [after.token]);
  await assert.rejects(access(saved), { code: 'ENOENT' });
  await assert.rejects(access(path.join(dir, `.fe-webhooks/relay-cursor-${original.id}`)), { code: 'ENOENT' });
  assert.equal((await post(original.url, '{"n":3}')).status, 404);

  // Nothing saved any more: one line saying what to give.
  await expectUsageErrors([[['channel', 'delete'], /No channel saved in \.fe-webhooks\/relay\.json: give --relay, --channel and --token/]], { cwd: dir });
  // And the next listen makes a new channel.
  const third = await startListenCli(t, ['--relay', relay.url, '--no-save'], { cwd: dir });
  assert.notEqual((third.ready as unknown as { channel: string }).channel, original.id);
});

test('fe-webhooks channel with --relay/--channel/--token: --json gives the new token once; refusals are one line, exit 2', async (t) => {
  const dir = await tempDir(t);
  const relay = await startRelayProcess(t, path.join(dir, 'relay-data'));
  const channel = await createTestChannel(relay.url);
  const flags = ['--relay', relay.url, '--channel', channel.id];
  const rotated = await runCli(['channel', 'rotate-token', ...flags, '--token', channel.token, '--json'], { cwd: dir });
  assert.equal(rotated.code, 0, rotated.stderr);
  const result = JSON.parse(rotated.stdout) as { action: string; channel: string; token: string; savedIn: string | null };
  assert.deepEqual({ ...result, token: typeof result.token }, { action: 'rotate-token', relay: relay.url, channel: channel.id, savedIn: null, token: 'string' });
  assert.equal((await rotate(relay.url, channel.id, channel.token)).status, 403);
  await assert.rejects(access(path.join(dir, '.fe-webhooks/relay.json')), { code: 'ENOENT' }, 'flags are not saved');

  const human = await runCli(['channel', 'rotate-token', ...flags, '--token', result.token], { cwd: dir });
  assert.equal(human.code, 0, human.stderr);
  const newest = /New token: ([A-Za-z0-9_-]+) {2}\(shown once/.exec(human.stdout)?.[1];
  assert.ok(newest, human.stdout);

  const unreachable = `http://127.0.0.1:${await deadPort()}`;
  await expectUsageErrors(
    [
      [['channel', 'rotate-token', ...flags, '--token', result.token], /refused the token for channel .* \(HTTP 403\)/],
      [['channel', 'delete', '--relay', relay.url, '--channel', 'nosuchchannel_000000000', '--token', newest], /has no channel nosuchchannel_000000000/],
      [['channel', 'delete', ...flags], /--channel and --token go together/],
      [['channel', 'delete', '--channel', channel.id, '--token', newest], /--relay is needed with --channel/],
      [['channel', 'rotate-token', '--relay', unreachable, '--channel', channel.id, '--token', newest], /Cannot reach the relay at/],
      [['channel', 'rename', ...flags, '--token', newest], /value 'rename' is invalid for argument 'action'/],
    ],
    { cwd: dir },
  );
  const deleted = await runCli(['channel', 'delete', ...flags, '--token', newest, '--json'], { cwd: dir });
  assert.equal(deleted.code, 0, deleted.stderr);
  assert.deepEqual(JSON.parse(deleted.stdout), { action: 'delete', relay: relay.url, channel: channel.id, forgotten: null });
  assert.equal((await post(`${relay.url}/c/${channel.id}`, '{}')).status, 404);
});

test('on Redis, a rotation or deletion through one instance closes the listener on another and holds there at once', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  const [a, b] = await Promise.all(['a', 'b'].map((name) => startRelayProcess(t, path.join(dir, name), ['--redis', redis.url, '--max-channels', '1'])));
  const relayA = a as Awaited<ReturnType<typeof startRelayProcess>>;
  const relayB = b as Awaited<ReturnType<typeof startRelayProcess>>;
  const app = await startReceiver(t);
  const channel = await createTestChannel(relayA.url);
  // The listener is on B; events posted to A reach it.
  const onB = await connectedListen(t, relayB.url, channel, app, dir, relayA.url);

  const rotated = await runCli(['channel', 'rotate-token', '--relay', relayA.url, '--channel', channel.id, '--token', channel.token, '--json'], { cwd: dir });
  assert.equal(rotated.code, 0, rotated.stderr);
  const token = (JSON.parse(rotated.stdout) as { token: string }).token;
  await assertStopped(onB, /revoked this listener's token/, [channel.token, token]);
  assert.equal((await rotate(relayB.url, channel.id, channel.token)).status, 403, 'the old token is refused on B too');
  const stale = await startListenCli(t, ['--relay', relayB.url, '--channel', channel.id, '--token', channel.token, '--no-save'], { cwd: dir }).catch((error: Error) => error);
  if (!(stale instanceof Error)) await assertStopped(stale, /refused channel/, [channel.token]);
  else assert.match(stale.message, /exited with 2[\s\S]*refused channel/);

  const again = await connectedListen(t, relayB.url, { id: channel.id, token }, app, dir, relayA.url);
  const deleted = await runCli(['channel', 'delete', '--relay', relayA.url, '--channel', channel.id, '--token', token], { cwd: dir });
  assert.equal(deleted.code, 0, deleted.stderr);
  await assertStopped(again, /deleted channel/, [token]);
  // At once on both instances: no post is stored for a deleted channel.
  assert.equal((await post(`${relayB.url}/c/${channel.id}`, '{}')).status, 404);
  assert.equal((await post(`${relayA.url}/c/${channel.id}`, '{}')).status, 404);
  // The shared slot is free: --max-channels 1 lets a new one in, through either instance.
  assert.equal((await request(`${relayB.url}/channels`, { method: 'POST' })).statusCode, 201);
  assert.equal((await request(`${relayA.url}/channels`, { method: 'POST' })).statusCode, 503);
  assert.equal(app.requests.length, 2, 'only the two probes reached the app');
});
