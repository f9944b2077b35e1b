import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';

interface Printed {
  configFile: string | null;
  settings: Array<{ key: string; value: unknown; source: string; origin?: string }>;
}

test('config prints every setting with its source: flag > env > file > default, secrets masked', async (t) => {
  const dir = await tempDir(t);
  await writeFile(
    path.join(dir, 'package.json'),
    JSON.stringify({ name: 'app', 'fe-webhooks': { secret: 'config-secret-value-123', forward: 'localhost:3000/hooks', port: 9000 } }),
  );
  const env = cleanEnv({ FE_WEBHOOKS_URL: 'https://staging.example.com/hooks', FE_WEBHOOKS_TOKEN: 'tok_abcdefghijklmnop' });
  const result = await runCli(['config', '--json'], { cwd: dir, env });
  assert.equal(result.code, 0, result.stderr);
  const printed = JSON.parse(result.stdout) as Printed;
  assert.equal(printed.configFile, path.join(dir, 'package.json'));
  const byKey = Object.fromEntries(printed.settings.map((s) => [s.key, s]));
  assert.deepEqual(byKey.forward, { key: 'forward', value: 'localhost:3000/hooks', source: 'config', origin: path.join(dir, 'package.json') });
  assert.deepEqual(byKey.url, { key: 'url', value: 'https://staging.example.com/hooks', source: 'env', origin: 'FE_WEBHOOKS_URL' });
  assert.equal(byKey.port?.value, 9000);
  assert.equal(byKey.host?.source, 'default');
  assert.equal(byKey.relay?.source, 'unset');
  assert.equal(byKey.secret?.source, 'config');
  assert.equal(byKey.token?.source, 'env');
  for (const hidden of ['config-secret-value-123', 'tok_abcdefghijklmnop']) {
    assert.ok(!result.stdout.includes(hidden) && !result.stderr.includes(hidden), `${hidden} is masked`);
  }
  const text = await runCli(['config'], { cwd: dir, env });
  assert.match(text.stdout, /forward +localhost:3000\/hooks +\(config .*package\.json\)/);
  assert.ok(!text.stdout.includes('config-secret-value-123'));
});

test('config reports the local dev secret, masked, and a bad env port as an input error', async (t) => {
  const dir = await tempDir(t);
  await runCli(['sign', '-'], { cwd: dir, input: 'x' });
  const result = await runCli(['config', '--json'], { cwd: dir });
  const secret = (JSON.parse(result.stdout) as Printed).settings.find((s) => s.key === 'secret');
  assert.equal(secret?.source, 'local');
  assert.equal(secret?.origin, path.join('.fe-webhooks', 'secret'));
  assert.doesNotMatch(String(secret?.value), /^fe_dev_.{20}/);
  const badPort = await runCli(['config'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_PORT: 'http' }) });
  assert.equal(badPort.code, 2);
  assert.match(badPort.stderr, /Invalid FE_WEBHOOKS_PORT: must be a whole number 0-65535 \(it is "http"\)/);
});
