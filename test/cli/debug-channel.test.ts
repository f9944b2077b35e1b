// The debug channel: NODE_DEBUG=fe-webhooks (util.debuglog) or --debug turns the errors the
// tool deliberately swallows into one stderr line each, saying what was skipped and why.
// The real case here: listen's inspector wants the port after listen's own (or
// --inspector-port); when something else holds it, listen quietly takes any free port.
// On the relay: the channel log's state file, when the disk refuses it.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanEnv, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { createTestChannel, post, startRelayProcess } from '../helpers/relay.js';

async function occupiedPort(t: TestContext): Promise<number> {
  const blocker: Server = createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => blocker.close(() => resolve())));
  return (blocker.address() as AddressInfo).port;
}

async function listenBesideTakenPort(t: TestContext, args: string[], env: NodeJS.ProcessEnv): Promise<{ taken: number; stderr: string }> {
  const taken = await occupiedPort(t);
  const cwd = await tempDir(t, 'fe-webhooks-debug-');
  const listen = await startListenCli(t, ['--inspector-port', String(taken), '--no-save', ...args], { cwd, env });
  // The tool's behaviour is unchanged: the inspector simply runs on another port.
  assert.notEqual(new URL(listen.ready.inspectorUrl).port, String(taken));
  const { stderr } = await listen.stop();
  return { taken, stderr };
}

const skippedLine = (taken: number): RegExp =>
  new RegExp(
    `^FE-WEBHOOKS \\d+: skipped the inspector's usual port \\(taking any free one\\): ` +
      `Port ${taken} on 127\\.0\\.0\\.1 is already in use`,
    'm',
  );

test('NODE_DEBUG=fe-webhooks prints the skipped error: what was skipped and why', async (t) => {
  const { taken, stderr } = await listenBesideTakenPort(t, [], cleanEnv({ NODE_DEBUG: 'fe-webhooks' }));
  assert.match(stderr, skippedLine(taken));
});

test('--debug prints the same line, wherever it stands on the command line', async (t) => {
  const { taken, stderr } = await listenBesideTakenPort(t, ['--debug'], cleanEnv());
  assert.match(stderr, skippedLine(taken));
});

test('without NODE_DEBUG or --debug the skipped error stays silent', async (t) => {
  const { stderr } = await listenBesideTakenPort(t, [], cleanEnv({ NODE_DEBUG: 'http,net' }));
  assert.doesNotMatch(stderr, /FE-WEBHOOKS/);
});

test('--debug on the relay: a state file it cannot write is said, and the relay still stops cleanly', async (t) => {
  const dataDir = await tempDir(t, 'fe-webhooks-debug-relay-');
  const relay = await startRelayProcess(t, dataDir, ['--debug']);
  const channel = await createTestChannel(relay.url);
  // Where the log's state file is written first: a folder there makes every write fail.
  await mkdir(path.join(dataDir, 'channels', channel.id, 'state.json.tmp'), { recursive: true });
  const stored = await post(channel.url, '{"event":"MessageSent"}', { 'content-type': 'application/json' });
  assert.equal(stored.status, 202);
  assert.equal(await relay.kill('SIGTERM'), 0);
  assert.match(relay.stderr(), /^FE-WEBHOOKS \d+: skipped writing the log's state file on close: EISDIR/m);
});

test('a debug line never quotes what it could not parse: a torn relay.json keeps its token to itself', async (t) => {
  const relay = await startRelayProcess(t, await tempDir(t, 'fe-webhooks-debug-relay-'));
  const cwd = await tempDir(t, 'fe-webhooks-debug-');
  await mkdir(path.join(cwd, '.fe-webhooks'), { recursive: true });
  // Torn mid-write by hand: V8's JSON error would quote the text around the token.
  const token = 'tok_debugLineMustNotShowThis';
  await writeFile(path.join(cwd, '.fe-webhooks', 'relay.json'), `x{"relay":"${relay.url}","id":"c1","token":"${token}"`);
  const listen = await startListenCli(t, ['--relay', relay.url, '--no-save'], { cwd, env: cleanEnv({ NODE_DEBUG: 'fe-webhooks' }) });
  const { stderr } = await listen.stop();
  assert.match(stderr, /^FE-WEBHOOKS \d+: skipped the saved channel \(unreadable: a new one is created\): Unexpected token 'x': not valid JSON$/m);
  assert.ok(!stderr.includes(token), stderr);
});
