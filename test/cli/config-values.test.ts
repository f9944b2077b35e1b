import assert from 'node:assert/strict';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { cleanEnv, expectUsageErrors, runCli, tempDir, type CliRun } from '../helpers/cli.js';
import { startReceiver } from '../helpers/receiver.js';

/**
 * Permissions only bind an ordinary user: as root, run the CLI as `nobody`, whose access
 * the folder modes below decide; as anyone else, run it as that user.
 */
const UNPRIVILEGED: Pick<CliRun, 'user'> = process.getuid?.() === 0 ? { user: { uid: 65534, gid: 65534 } } : {};

/** A temporary folder that the unprivileged user can enter (mkdtemp makes it 0700). */
async function openDir(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  await chmod(dir, 0o755);
  return dir;
}

test('no secret and a folder the user cannot write: one line suggesting --secret or FE_WEBHOOKS_SECRET, exit 2', async (t) => {
  const dir = await openDir(t);
  const readOnly = path.join(dir, 'read-only');
  await mkdir(readOnly);
  await chmod(readOnly, 0o555);
  const run = { cwd: readOnly, ...UNPRIVILEGED };
  await expectUsageErrors(
    [
      [['send', 'MessageSent', '--dry-run', '--url', 'localhost:1'], /^error: No signing secret: pass --secret or set FE_WEBHOOKS_SECRET \(.*read-only.*permission denied\)$/m],
      [['sign', '-'], /^error: No signing secret: pass --secret or set FE_WEBHOOKS_SECRET/m],
    ],
    run,
  );
  // A local secret that is there but not readable is named, not replaced.
  const locked = path.join(dir, 'locked');
  await mkdir(path.join(locked, '.fe-webhooks'), { recursive: true });
  await writeFile(path.join(locked, '.fe-webhooks', 'secret'), 'fe_dev_someone_elses\n', { mode: 0o600 });
  await chmod(path.join(locked, '.fe-webhooks', 'secret'), 0o000);
  await chmod(path.join(locked, '.fe-webhooks'), 0o755);
  await chmod(locked, 0o755);
  await expectUsageErrors([[['sign', '-'], /^error: Cannot read the local secret .*locked\/\.fe-webhooks\/secret: permission denied$/m]], { cwd: locked, ...UNPRIVILEGED });
  // What the line suggests works from the same folder.
  const withSecret = await runCli(['sign', '-', '--secret', 's3cret'], { ...run, input: 'x' });
  assert.equal(withSecret.code, 0, withSecret.stderr);
  assert.match(withSecret.stdout, /^sha256=[0-9a-f]{64}\n$/);
});

test('an empty secret from the config, the environment or the local secret file is exit 2 naming where it came from', async (t) => {
  const dir = await tempDir(t);
  const rc = path.join(dir, '.fe-webhooksrc');
  await writeFile(rc, JSON.stringify({ secret: '' }));
  for (const args of [['sign', '-'], ['verify', '--body', '-', '--signature', 'sha256=00'], ['config']]) {
    const result = await runCli(args, { cwd: dir, input: 'x' });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.equal(result.stderr, `error: Invalid config in ${rc}: "secret" must not be empty\n`);
  }
  const blank = path.join(dir, 'blank');
  await mkdir(blank);
  await writeFile(path.join(blank, 'package.json'), '{}');
  const empty = await runCli(['sign', '-'], { cwd: blank, input: 'x', env: cleanEnv({ FE_WEBHOOKS_SECRET: '' }) });
  assert.equal(empty.code, 2);
  assert.equal(empty.stderr, 'error: FE_WEBHOOKS_SECRET is set but empty: give it the webhook secret, or unset it\n');
  const spaces = await runCli(['sign', '-', '--secret', '  '], { cwd: blank, input: 'x' });
  assert.equal(spaces.code, 2);
  assert.equal(spaces.stderr, 'error: --secret must not be empty\n');
  // An emptied local development secret is not a key: it is named, not used.
  await mkdir(path.join(blank, '.fe-webhooks'));
  const local = path.join(blank, '.fe-webhooks', 'secret');
  await writeFile(local, '\n');
  for (const args of [['sign', '-'], ['verify', '--body', '-', '--signature', 'sha256=00']]) {
    const result = await runCli(args, { cwd: blank, input: 'x' });
    assert.equal(result.code, 2, result.stderr);
    assert.match(result.stderr, new RegExp(`^error: The local secret ${local.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is empty`));
  }
});

test('a config file that cannot be read, or a JavaScript config that does not parse, is exit 2 naming the file', async (t) => {
  const dir = await openDir(t);
  const rc = path.join(dir, '.fe-webhooksrc');
  await writeFile(rc, JSON.stringify({ port: 9000 }));
  await chmod(rc, 0o000);
  for (const args of [['config'], ['send', 'MessageSent', '--dry-run', '--secret', 's']]) {
    const result = await runCli(args, { cwd: dir, ...UNPRIVILEGED });
    assert.equal(result.code, 2, result.stderr);
    assert.equal(result.stderr, `error: Cannot read the config file ${rc}: permission denied\n`);
    assert.equal(result.stdout, '');
  }
  // A folder on the way that the user may not look into hides no config: not an error.
  await chmod(rc, 0o644);
  await writeFile(rc, JSON.stringify({ port: 9000 }));
  const sub = path.join(dir, 'project');
  await mkdir(path.join(sub, '.config'), { recursive: true });
  await chmod(sub, 0o755);
  await chmod(path.join(sub, '.config'), 0o700);
  const hidden = await runCli(['config', '--json'], { cwd: sub, ...UNPRIVILEGED });
  assert.equal(hidden.code, 0, hidden.stderr);
  assert.equal((JSON.parse(hidden.stdout) as { configFile: string }).configFile, rc);
  const jsDir = await tempDir(t);
  const js = path.join(jsDir, 'fe-webhooks.config.js');
  await writeFile(js, 'module.exports = {\n  port: 9000,\n');
  const broken = await runCli(['config'], { cwd: jsDir });
  assert.equal(broken.code, 2);
  assert.equal(broken.stderr, `error: Invalid config file ${js}: Unexpected end of input\n`);
  // JSON and YAML errors too: one line, the file named once.
  const jsonDir = await tempDir(t);
  const json = path.join(jsonDir, '.fe-webhooksrc.json');
  await writeFile(json, '{"port": 90');
  const badJson = await runCli(['send', 'MessageSent', '--dry-run', '--secret', 's'], { cwd: jsonDir });
  assert.equal(badJson.code, 2);
  assert.match(badJson.stderr, /^error: Invalid config file \S+\.fe-webhooksrc\.json: [^\n]*JSON[^\n]*\n$/);
  assert.equal(badJson.stderr.split(json).length, 2, badJson.stderr);
});

test('config and every command check values when they load them: the file, the key and the rule', async (t) => {
  const dir = await tempDir(t);
  const rc = path.join(dir, '.fe-webhooksrc');
  const cases: Array<[Record<string, unknown>, string]> = [
    [{ port: 99999 }, '"port" must be a whole number 0-65535 (it is 99999)'],
    [{ port: 1.5 }, '"port" must be a whole number 0-65535 (it is 1.5)'],
    [{ timeout: 'abc' }, '"timeout" must be a duration more than 0, e.g. 500ms, 5s or 1m (it is "abc")'],
    [{ timeout: '0s' }, '"timeout" must be a duration more than 0, e.g. 500ms, 5s or 1m (it is "0s")'],
    [{ url: 'ftp://x' }, '"url" must be an http(s) URL: only http and https are supported, not ftp: (it is "ftp://x")'],
    [{ forward: 'http:///hooks' }, '"forward" must be an http(s) URL: no host name after the scheme (it is "http:///hooks")'],
    [{ redis: 'http://user:hunter2@cache:6379' }, '"redis" must be a Redis URL, redis://host:port[/db] (it is "http://user:****@cache:6379")'],
    [{ host: 'http://0.0.0.0' }, '"host" must be a host name or IP address, e.g. 127.0.0.1 (it is "http://0.0.0.0")'],
    [{ token: '' }, '"token" must not be empty'],
  ];
  for (const [config, rule] of cases) {
    await writeFile(rc, JSON.stringify(config));
    for (const args of [['config'], ['config', '--json'], ['send', 'MessageSent', '--dry-run', '--secret', 's', '--url', 'localhost:1'], ['sign', '-']]) {
      const result = await runCli(args, { cwd: dir });
      const label = `${JSON.stringify(config)} ${args.join(' ')}`;
      assert.equal(result.code, 2, `${label}: ${result.stdout}${result.stderr}`);
      assert.equal(result.stderr, `error: Invalid config in ${rc}: ${rule}\n`, label);
      assert.equal(result.stdout, '', label);
      assert.ok(!result.stderr.includes('hunter2'), label);
    }
  }
  // The environment is held to the same rules, and a flag that was never given is never blamed.
  await writeFile(rc, '{}');
  const envTimeout = await runCli(['send', 'MessageSent', '--dry-run', '--secret', 's'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_TIMEOUT: '0s' }) });
  assert.equal(envTimeout.code, 2);
  assert.equal(envTimeout.stderr, 'error: Invalid FE_WEBHOOKS_TIMEOUT: must be a duration more than 0, e.g. 500ms, 5s or 1m (it is "0s")\n');
  const flagTimeout = await runCli(['send', 'MessageSent', '--dry-run', '--secret', 's', '--timeout', '0'], { cwd: dir });
  assert.equal(flagTimeout.code, 2);
  assert.equal(flagTimeout.stderr, 'error: --timeout must be more than 0\n');
});

test('config masks passwords in URLs as it masks secrets', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, '.fe-webhooksrc'), JSON.stringify({ redis: 'redis://user:hunter2@cache.internal:6379/2', secret: 'config-secret-value-123' }));
  const env = cleanEnv();
  const json = await runCli(['config', '--json'], { cwd: dir, env });
  assert.equal(json.code, 0, json.stderr);
  const redis = (JSON.parse(json.stdout) as { settings: Array<{ key: string; value: unknown }> }).settings.find((s) => s.key === 'redis');
  assert.equal(redis?.value, 'redis://user:****@cache.internal:6379/2');
  const text = await runCli(['config'], { cwd: dir, env });
  assert.match(text.stdout, /redis +redis:\/\/user:\*\*\*\*@cache\.internal:6379\/2 /);
  for (const output of [json.stdout, text.stdout, json.stderr, text.stderr]) {
    assert.ok(!output.includes('hunter2') && !output.includes('config-secret-value-123'), output);
  }
  const badEnv = await runCli(['config'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_REDIS_URL: 'redis:/user:hunter2@x' }) });
  assert.equal(badEnv.code, 2);
  assert.ok(!badEnv.stderr.includes('hunter2'), badEnv.stderr);
});

test('with no --url, send aims where listen would listen: the config port and host', async (t) => {
  const app = await startReceiver(t, { secret: 'config-port-secret' });
  const dir = await tempDir(t);
  // 0.0.0.0 is where listen binds; send reaches it through loopback.
  await writeFile(path.join(dir, '.fe-webhooksrc'), JSON.stringify({ port: app.port, host: '0.0.0.0', secret: 'config-port-secret' }));
  const config = await runCli(['config', '--json'], { cwd: dir });
  const url = (JSON.parse(config.stdout) as { settings: Array<{ key: string; value: unknown; source: string }> }).settings.find((s) => s.key === 'url');
  assert.deepEqual(url, { key: 'url', value: `http://127.0.0.1:${app.port}/`, source: 'default' });
  const sent = await runCli(['send', 'MessageSent'], { cwd: dir });
  assert.equal(sent.code, 0, sent.stderr);
  const [request] = await app.waitFor(1);
  assert.equal(request?.signatureValid, true);
  assert.match(sent.stdout, /MessageSent +200/);
  // A port from the environment counts the same way.
  const other = await startReceiver(t);
  const viaEnv = await runCli(['send', 'MessageBounced'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_PORT: String(other.port) }) });
  assert.equal(viaEnv.code, 0, viaEnv.stderr);
  assert.equal((await other.waitFor(1)).length, 1);
  // listen on port 0 takes a random port: send cannot know it and says so.
  await writeFile(path.join(dir, '.fe-webhooksrc'), JSON.stringify({ port: 0, secret: 'config-port-secret' }));
  await expectUsageErrors([[['send', 'MessageSent'], /^error: listen's port is 0 .*pass --url/]], { cwd: dir });
});

test('commands started together make one local secret, whole, and leave nothing else behind', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'package.json'), '{}');
  const runs = await Promise.all(Array.from({ length: 6 }, () => runCli(['sign', '-'], { cwd: dir, input: 'same body' })));
  for (const run of runs) assert.equal(run.code, 0, run.stderr);
  assert.equal(new Set(runs.map((run) => run.stdout)).size, 1, 'every command signed with the same secret');
  // The secret, and the .gitignore that keeps the folder out of git: no temporary file left.
  assert.deepEqual((await readdir(path.join(dir, '.fe-webhooks'))).sort(), ['.gitignore', 'secret']);
  assert.match(await readFile(path.join(dir, '.fe-webhooks', 'secret'), 'utf8'), /^fe_dev_[A-Za-z0-9_-]{43}\n$/);
});
