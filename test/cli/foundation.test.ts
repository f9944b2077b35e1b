import assert from 'node:assert/strict';
import { stat, writeFile, readFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { EVENT_NAMES } from '../../src/events/catalog.js';
import { validateEvent } from '../../src/events/validate.js';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, expectUsageErrors, runCli, tempDir } from '../helpers/cli.js';
import { pythonVerify } from '../helpers/python.js';
import { needs } from '../helpers/system-programs.js';

test('events --json lists the nine events', async () => {
  const result = await runCli(['events', '--json']);
  assert.equal(result.code, 0);
  const list = JSON.parse(result.stdout) as Array<{ name: string; category: string; description: string }>;
  assert.deepEqual(list.map((e) => e.name), EVENT_NAMES);
  assert.ok(list.every((e) => ['message', 'server'].includes(e.category) && e.description.length > 10));
  const text = await runCli(['events']);
  assert.match(text.stdout, /Message events\n {2}MessageSent +Message successfully sent to a recipient/);
  assert.doesNotMatch(text.stdout, /\x1b\[/, 'no colour when stdout is not a terminal');
});

test('generate prints a valid body for every event', async () => {
  for (const name of EVENT_NAMES) {
    const result = await runCli(['generate', name]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    assert.deepEqual(validateEvent(JSON.parse(result.stdout)), { event: name, violations: [] });
  }
});

test('generate --seed repeats byte for byte; --compact is one line; --set and --data apply', async (t) => {
  const dir = await tempDir(t);
  const first = await runCli(['generate', 'message.bounced', '--seed', '42']);
  const second = await runCli(['generate', 'MESSAGEBOUNCED', '--seed', '42']);
  assert.equal(first.stdout, second.stdout);
  const compact = await runCli(['generate', 'MessageSent', '--seed', '42', '--compact']);
  assert.equal(compact.stdout.trimEnd().split('\n').length, 1);
  await writeFile(path.join(dir, 'partial.json'), JSON.stringify({ payload: { message: { subject: 'Hallo Welt ✓' } } }));
  const custom = await runCli(
    ['generate', 'MessageSent', '--data', 'partial.json', '--set', 'payload.message.to=ana@example.com', '--set', 'payload.time=0.5'],
    { cwd: dir },
  );
  assert.equal(custom.code, 0, custom.stderr);
  const body = JSON.parse(custom.stdout);
  assert.equal(body.payload.message.subject, 'Hallo Welt ✓');
  assert.equal(body.payload.message.to, 'ana@example.com');
  assert.equal(body.payload.time, 0.5);
  const broken = await runCli(['generate', 'MessageSent', '--set', 'payload.message.id=abc']);
  assert.equal(broken.code, 0);
  assert.match(broken.stderr, /warning: MessageSent schema: payload\.message\.id expected integer, got string/);
});

test('bad input: exit 2, one line on stderr, nothing on stdout', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'bad.json'), '{"payload": ');
  await writeFile(path.join(dir, 'array.json'), '[1,2]');
  const cases: Array<[string[], RegExp]> = [
    [['generate', 'MessageBounce'], /Unknown event "MessageBounce"\. Did you mean MessageBounced\?/],
    [['generate', 'MessageSent', '--set', 'payload.message.to'], /expected path=value/],
    [['generate', 'MessageSent', '--data', 'missing.json'], /Cannot read missing\.json: no such file/],
    [['generate', 'MessageSent', '--data', 'bad.json'], /Invalid JSON in bad\.json/],
    [['generate', 'MessageSent', '--data', 'array.json'], /expected a JSON object/],
    [['generate', 'MessageSent', '--data', '.'], /it is a directory/],
    [['generate', 'MessageSent', '--seed', 'abc'], /Invalid --seed/],
    [['generate'], /missing required argument/],
    [['sign', 'missing.bin', '--secret', 's'], /no such file/],
    [['frobnicate'], /unknown command/],
    [['generate', 'MessageSent', '--bogus'], /unknown option/],
  ];
  await expectUsageErrors(cases, { cwd: dir });
});

test('sign agrees with the page\'s Python verify_webhook on arbitrary bytes, from a file and stdin', needs('python3'), async (t) => {
  const dir = await tempDir(t);
  const bodies = [Buffer.from([0, 255, 128, 10, 13, 0xc3]), Buffer.from('{"subject":"Grüße 🚀"}\n'), Buffer.alloc(0)];
  const cases: Array<[Buffer, string, string]> = [];
  for (const [i, body] of bodies.entries()) {
    const file = path.join(dir, `body-${i}`);
    await writeFile(file, body);
    const fromFile = await runCli(['sign', file, '--secret', 'sëcret']);
    const fromStdin = await runCli(['sign', '-', '--secret', 'sëcret'], { input: body });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.match(fromFile.stdout, /^sha256=[0-9a-f]{64}\n$/);
    assert.equal(fromFile.stdout, fromStdin.stdout);
    assert.equal(fromFile.stdout.trim(), sign(body, 'sëcret'));
    cases.push([body, fromFile.stdout.trim(), 'sëcret']);
  }
  assert.deepEqual(pythonVerify(cases), [true, true, true]);
});

test('secret order: --secret, then FE_WEBHOOKS_SECRET, then the config file, then the local dev secret', async (t) => {
  const dir = await tempDir(t);
  const body = 'x';
  const run = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['sign', ...args], { cwd: dir, env: cleanEnv(env), input: body });

  const local = await run([]);
  assert.equal(local.code, 0, local.stderr);
  const secretFile = path.join(dir, '.fe-webhooks', 'secret');
  const localSecret = (await readFile(secretFile, 'utf8')).trim();
  assert.match(localSecret, /^fe_dev_[A-Za-z0-9_-]{43}$/);
  assert.equal((await stat(secretFile)).mode & 0o777, 0o600);
  assert.equal((await stat(path.dirname(secretFile))).mode & 0o777, 0o700);
  assert.equal(local.stdout.trim(), sign(body, localSecret));
  assert.ok(!local.stdout.includes(localSecret) && !local.stderr.includes(localSecret));
  // The same local secret the next time: send, listen and verify agree with no flags.
  assert.equal((await run([])).stdout, local.stdout);

  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ secret: 'from-config' }));
  assert.equal((await run([])).stdout.trim(), sign(body, 'from-config'));
  assert.equal((await run([], { FE_WEBHOOKS_SECRET: 'from-env' })).stdout.trim(), sign(body, 'from-env'));
  const flag = await run(['--secret', 'from-flag'], { FE_WEBHOOKS_SECRET: 'from-env' });
  assert.equal(flag.stdout.trim(), sign(body, 'from-flag'));
  assert.ok(!flag.stdout.includes('from-flag') && !flag.stderr.includes('from-flag'));
});

test('the config file is validated with clear errors', async (t) => {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, 'sub'));
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ secrt: 'typo' }));
  const unknown = await runCli(['sign', '-'], { cwd: path.join(dir, 'sub'), input: 'x' });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /Unknown config key "secrt" in .*\.fe-webhooksrc\.json\. Did you mean secret\?/);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), JSON.stringify({ port: 'eighty' }));
  const wrongType = await runCli(['sign', '-'], { cwd: dir, input: 'x' });
  assert.equal(wrongType.code, 2);
  assert.match(wrongType.stderr, /"port" must be a number/);
  await writeFile(path.join(dir, '.fe-webhooksrc.json'), '{ not json');
  const broken = await runCli(['sign', '-'], { cwd: dir, input: 'x' });
  assert.equal(broken.code, 2);
  assert.equal(broken.stderr.trimEnd().split('\n').length, 1, broken.stderr);
});

// Every command's --help is checked once, in test/cli/startup.test.ts.
test('help: the overview with no arguments, and --version', async () => {
  const overview = await runCli([]);
  assert.equal(overview.code, 0);
  assert.match(overview.stdout, /Usage: fe-webhooks/);
  const version = await runCli(['--version']);
  assert.equal(version.code, 0);
  assert.match(version.stdout, /^\d+\.\d+\.\d+\n$/);
});
