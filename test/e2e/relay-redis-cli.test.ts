import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { access, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { BIN, cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { deadPort } from '../helpers/ports.js';
import { startRedis } from '../helpers/redis.js';
import { createTestChannel, post } from '../helpers/relay.js';
import { needs } from '../helpers/system-programs.js';

test('relay --redis with no Redis there exits 2 with one clear line and never shows the password', async (t) => {
  const port = await deadPort();
  const dir = await tempDir(t);
  const result = await runCli(['relay', '--port', '0', '--data-dir', dir, '--redis', `redis://:hunter2@127.0.0.1:${port}`], { timeoutMs: 15_000 });
  assert.equal(result.code, 2);
  assert.match(result.stderr, new RegExp(`Cannot start the relay on Redis: cannot reach Redis at 127\\.0\\.0\\.1:${port}`));
  assert.doesNotMatch(result.stderr + result.stdout, /hunter2/);
  assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack');
});

test('relay takes Redis from FE_WEBHOOKS_REDIS_URL or the config key "redis", and stores nothing in --data-dir', needs('redis-server'), async (t) => {
  const dir = await tempDir(t);
  const redis = await startRedis(t, dir);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ redis: redis.url }));
  const start = async (cwd: string, env: NodeJS.ProcessEnv): Promise<string> => {
    const child = spawn(process.execPath, [BIN, 'relay', '--port', '0', '--json', '--data-dir', path.join(dir, 'unused')], { cwd, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.after(async () => {
      child.kill('SIGKILL');
      await exited;
    });
    const ready = await new Promise<{ url: string; redis?: string }>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
      createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as { url: string; redis?: string }));
    });
    assert.equal(ready.redis, `127.0.0.1:${redis.port}`);
    return ready.url;
  };
  const fromEnv = await start(await tempDir(t), { FE_WEBHOOKS_REDIS_URL: redis.url });
  const fromConfig = await start(dir, {});
  // One store: a channel created on one is known on the other.
  const channel = await createTestChannel(fromEnv);
  assert.equal((await post(`${fromConfig}/c/${channel.id}`, '{}')).status, 202);
  await assert.rejects(access(path.join(dir, 'unused')), { code: 'ENOENT' });
});
