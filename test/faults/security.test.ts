import assert from 'node:assert/strict';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { startListenCli } from '../helpers/listen-cli.js';
import { startReceiver } from '../helpers/receiver.js';

const SECRET = 'sup3r-s3cret-never-shown-0123456789';

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath ?? (e as unknown as { path: string }).path, e.name));
}

test('a secret the user supplied never appears in output, captures, exports, the inspector or any file the tool writes', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const env = cleanEnv();
  const app = await startReceiver(t, { secret: SECRET });
  const listen = await startListenCli(t, ['--secret', SECRET, '--forward', `127.0.0.1:${app.port}/hooks`], { cwd: dir, env });
  const outputs: string[] = [];
  const sent = await runCli(['send', 'MessageSent', 'MessageBounced', '--url', listen.ready.url, '--secret', SECRET], { cwd: dir, env });
  assert.equal(sent.code, 0, sent.stderr);
  outputs.push(sent.stdout, sent.stderr);
  const forged = await runCli(['send', 'MessageSent', '--url', listen.ready.url, '--secret', SECRET, '--bad-signature'], { cwd: dir, env });
  outputs.push(forged.stdout, forged.stderr);
  assert.equal(app.requests.filter((r) => r.signatureValid).length, 2, 'the app verified the forwarded events');
  await listen.waitForLines(5);

  const inspector = await fetch(`${listen.ready.inspectorUrl.replace(/\/$/, '')}/api/requests`, { headers: { origin: new URL(listen.ready.inspectorUrl).origin } });
  assert.equal(inspector.status, 200);
  outputs.push(await inspector.text());
  const page = await fetch(listen.ready.inspectorUrl);
  outputs.push(await page.text());

  const stopped = await listen.stop('SIGINT');
  assert.equal(stopped.code, 130);
  outputs.push(stopped.stdout, stopped.stderr);

  for (const args of [
    ['verify', '--secret', SECRET],
    ['verify', '--secret', SECRET, '--reporter', 'json'],
    ['verify', '--secret', SECRET, '--reporter', 'junit', '--output', 'verify.xml'],
    ['captures', 'export', '--har', '--output', 'captures.har'],
    ['replay', '--to', `127.0.0.1:${app.port}/hooks`],
    ['sign', '-', '--secret', SECRET],
    ['send', 'MessageHeld', '--dry-run', '--secret', SECRET],
  ]) {
    const result = await runCli(args, { cwd: dir, env, input: '{}' });
    assert.ok(result.code === 0 || result.code === 1, `${args.join(' ')}: ${result.stderr}`);
    outputs.push(result.stdout, result.stderr);
  }
  const fromEnv = await runCli(['config'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_SECRET: SECRET }) });
  outputs.push(fromEnv.stdout, fromEnv.stderr);
  const badFlag = await runCli(['send', 'MessageSent', '--url', 'http://app.example.com/x', '--secret', SECRET], { cwd: dir, env });
  assert.equal(badFlag.code, 2);
  outputs.push(badFlag.stdout, badFlag.stderr);

  for (const [i, text] of outputs.entries()) assert.ok(!text.includes(SECRET), `output #${i} shows the secret`);
  const written = await filesUnder(dir);
  assert.ok(written.some((f) => f.endsWith('captures.jsonl')) && written.some((f) => f.endsWith('captures.har')));
  for (const file of written) assert.ok(!(await readFile(file, 'utf8')).includes(SECRET), `${path.relative(dir, file)} holds the secret`);

  // Captures hold other people's webhooks: owner-only, in an owner-only folder.
  assert.equal((await stat(path.join(dir, '.fe-webhooks'))).mode & 0o777, 0o700);
  assert.equal((await stat(path.join(dir, '.fe-webhooks', 'captures.jsonl'))).mode & 0o777, 0o600);
});
