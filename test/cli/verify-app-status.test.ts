import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { deadPort } from '../helpers/ports.js';
import { startReceiver } from '../helpers/receiver.js';
import { captureRecord, writeCaptures } from '../helpers/verify-captures.js';

const SECRET = 'app-status-secret';

/** Runs listen (forwarding as given) in `dir`, sends one MessageSent through it, and stops it. */
async function captureOne(t: TestContext, dir: string, file: string, listenArgs: string[]): Promise<number | null> {
  const env = cleanEnv({ FE_WEBHOOKS_SECRET: SECRET });
  const listen = await startListenCli(t, [...listenArgs, '--save', file], { cwd: dir, env });
  const sent = await runCli(['send', 'MessageSent', '--url', listen.ready.url, '--json'], { cwd: dir, env });
  await listen.waitForLines(1);
  const stopped = await listen.stop('SIGINT');
  assert.equal(stopped.code, 130, stopped.stderr);
  return (JSON.parse(sent.stdout.trim().split('\n')[0] as string) as { status?: number | null }).status ?? null;
}

test('verify fails requests that listen forwarded and the app did not take, with the reason; --ignore-app-status; --expect counts accepted ones', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-app-status-');
  const failing = await startReceiver(t, { respond: () => 500 });
  const healthy = await startReceiver(t, { secret: SECRET });
  const dead = await deadPort();
  assert.equal(await captureOne(t, dir, 'dead.jsonl', ['--forward', `127.0.0.1:${dead}/hooks`]), 502);
  assert.equal(await captureOne(t, dir, 'failing.jsonl', ['--forward', `${failing.url}/hooks`]), 500);
  assert.equal(await captureOne(t, dir, 'healthy.jsonl', ['--forward', `${healthy.url}/hooks`]), 200);
  const verify = (args: string[]) => runCli(['verify', '--secret', SECRET, ...args], { cwd: dir });

  const deadRun = await verify(['dead.jsonl', '--expect', 'MessageSent']);
  assert.equal(deadRun.code, 1, deadRun.stdout + deadRun.stderr);
  assert.match(deadRun.stdout, new RegExp(`^✗ MessageSent req_\\w+ \\(dead\\.jsonl:1\\): your app never got it: refused: nothing listens there \\(forwarded to http://127\\.0\\.0\\.1:${dead}/hooks\\)$`, 'm'));
  assert.match(deadRun.stdout, /^✗ expected at least 1 valid MessageSent: saw 0$/m, '--expect counts only deliveries the app accepted');

  const failingRun = await verify(['failing.jsonl']);
  assert.equal(failingRun.code, 1);
  assert.match(failingRun.stdout, /\(failing\.jsonl:1\): your app answered 500 \(forwarded to http:\/\/127\.0\.0\.1:\d+\/hooks\)$/m);

  const healthyRun = await verify(['healthy.jsonl', '--expect', 'MessageSent']);
  assert.equal(healthyRun.code, 0, healthyRun.stdout);

  // Switched off: the signature and schema are all that is checked, as before.
  const ignored = await verify(['dead.jsonl', 'failing.jsonl', '--ignore-app-status', '--expect', 'MessageSent:2']);
  assert.equal(ignored.code, 0, ignored.stdout);
  assert.match(ignored.stdout, /^3 passed, 0 failed$/m);

  // The same from listen's own HAR export (`_forward`).
  const exported = await runCli(['captures', 'export', '--har', '--from', 'failing.jsonl', '--output', 'failing.har'], { cwd: dir });
  assert.equal(exported.code, 0, exported.stderr);
  const fromHar = await verify(['failing.har']);
  assert.equal(fromHar.code, 1);
  assert.match(fromHar.stdout, /\(failing\.har#1\): your app answered 500/);
});

test('a capture refused with 413 gets its one true reason only', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-app-status-413-');
  assert.equal(await captureOne(t, dir, 'big.jsonl', ['--max-body', '100']), 413);
  const result = await runCli(['verify', 'big.jsonl', '--secret', SECRET, '--json'], { cwd: dir });
  assert.equal(result.code, 1, result.stderr);
  const { verdicts } = JSON.parse(result.stdout) as { verdicts: Array<{ reasons: Array<{ code: string; message: string }>; notes: string[] }> };
  assert.deepEqual(verdicts[0]?.reasons, [{ code: 'rejected', message: 'refused when captured: body over the 100 B limit' }]);
  assert.equal(verdicts.length, 1);
});

test('header names in a captures file match in any case', async (t) => {
  const dir = await tempDir(t, 'fe-webhooks-app-status-case-');
  const records = [1, 2].map((seed) => captureRecord({ seed, secret: SECRET }));
  const file = path.join(dir, 'mixed.jsonl');
  await writeCaptures(file, records);
  // As another tool might write them: the sender's spelling kept.
  const text = (await readFile(file, 'utf8')).replaceAll('"x-webhook-signature"', '"X-Webhook-Signature"');
  await writeFile(file, text);
  const result = await runCli(['verify', 'mixed.jsonl', '--secret', SECRET], { cwd: dir });
  assert.equal(result.code, 0, result.stdout);
  assert.match(result.stdout, /^2 passed, 0 failed$/m);
  // Both spellings at once are the header sent twice, as HTTP sees it.
  const twice = { ...captureRecord({ seed: 3, secret: SECRET }) };
  const signature = twice.headers['x-webhook-signature'] as string;
  delete twice.headers['x-webhook-signature'];
  twice.headers['X-Webhook-Signature'] = signature;
  twice.headers['X-WEBHOOK-SIGNATURE'] = signature;
  await writeFile(path.join(dir, 'twice.jsonl'), `${JSON.stringify(twice)}\n`);
  const repeated = await runCli(['verify', 'twice.jsonl', '--secret', SECRET], { cwd: dir });
  assert.equal(repeated.code, 1);
  assert.match(repeated.stdout, /X-Webhook-Signature sent 2 times/);
});
