import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { sign } from '../../src/signing/index.js';
import { cleanEnv, runCli, tempDir } from '../helpers/cli.js';
import { captureRecord, capturesText, sampleBody, writeCaptures } from '../helpers/verify-captures.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'ci-secret';

/** Parses JUnit XML with python3's xml.etree and returns its shape. */
function parseJunit(xml: string): { tests: string; failures: string; cases: Array<{ name: string; failure: string | null }> } {
  const script = `
import json, sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.buffer.read())
assert root.tag == 'testsuites'
cases = [{'name': c.get('name'), 'failure': (c.find('failure').get('message') if c.find('failure') is not None else None)} for c in root.iter('testcase')]
print(json.dumps({'tests': root.get('tests'), 'failures': root.get('failures'), 'cases': cases}))`;
  const result = spawnSync('python3', ['-c', script], { input: xml, encoding: 'utf8' });
  assert.equal(result.status, 0, `not valid JUnit XML: ${result.stderr}`);
  return JSON.parse(result.stdout);
}

async function project(t: Parameters<typeof tempDir>[0]): Promise<string> {
  const dir = await tempDir(t);
  await mkdir(path.join(dir, '.fe-webhooks'));
  await writeCaptures(path.join(dir, '.fe-webhooks/captures.jsonl'), [
    captureRecord({ event: 'MessageSent', seed: 1, secret: SECRET }),
    captureRecord({ event: 'MessageBounced', seed: 2, secret: SECRET }),
  ]);
  return dir;
}

test('verify reads the default captures file with the secret from the environment; exit 0', async (t) => {
  const dir = await project(t);
  const result = await runCli(['verify'], { cwd: dir, env: cleanEnv({ FE_WEBHOOKS_SECRET: SECRET }) });
  assert.equal(result.code, 0, result.stderr);
  const lines = result.stdout.trimEnd().split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0] ?? '', /^✓ MessageSent req_\w+ \(\.fe-webhooks\/captures\.jsonl:1\)$/);
  assert.equal(lines[2], '2 passed, 0 failed');
  assert.equal(result.stderr, '');
  assert.doesNotMatch(result.stdout, new RegExp(SECRET), 'the secret is never printed');
});

test('verify: exit 1 on a failure, 2 with no secret anywhere or no captures, and for bad flags', async (t) => {
  const dir = await project(t);
  const wrong = await runCli(['verify', '--secret', 'not-it'], { cwd: dir });
  assert.equal(wrong.code, 1);
  assert.match(wrong.stdout, /0 passed, 2 failed\n$/);
  assert.equal(wrong.stderr, '');
  const noSecret = await runCli(['verify'], { cwd: dir });
  assert.equal(noSecret.code, 2);
  assert.match(noSecret.stderr, /^error: No secret to verify with: pass --secret/);
  assert.equal(noSecret.stdout, '');
  const empty = await tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['verify', '--secret', 's'], /No captures at \.fe-webhooks\/captures\.jsonl: run `fe-webhooks listen` first/],
    [['verify', '--secret', 's', '--reporter', 'xml'], /Allowed choices are text, json, junit/],
    [['verify', '--secret', 's', '--max-age', 'soon'], /Invalid --max-age "soon"/],
    [['verify', '--secret', 's', '--expect', 'MessageSend'], /Did you mean MessageSent\?/],
    [['verify', '--secret', 's', '--body', 'x.json'], /--body and --signature go together/],
    [['verify', '--secret', 's', '.'], /it is a directory/],
    [['verify', '--secret', 's', 'pages.har'], /Nothing verified: no webhook requests in the input \(1 non-POST request\(s\) skipped\)/],
  ];
  await writeFile(path.join(empty, 'pages.har'), JSON.stringify({ log: { version: '1.2', entries: [{ request: { method: 'GET', url: 'https://example.com/' } }] } }));
  for (const [args, message] of cases) {
    const result = await runCli(args, { cwd: empty });
    assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1);
  }
});

test('verify --reporter junit is valid JUnit XML; --output writes the report to a file', needs('python3'), async (t) => {
  const dir = await project(t);
  await writeFile(
    path.join(dir, 'more.jsonl'),
    capturesText([captureRecord({ event: 'MessageHeld', seed: 3, secret: 'wrong' })]) + '{"id":"req_cut","body":"{\\"ev',
  );
  const result = await runCli(
    ['verify', '.fe-webhooks/captures.jsonl', 'more.jsonl', '--secret', SECRET, '--reporter', 'junit', '--expect', 'MessageSent:2'],
    { cwd: dir },
  );
  assert.equal(result.code, 1);
  const junit = parseJunit(result.stdout);
  assert.equal(junit.tests, '5');
  assert.equal(junit.failures, '3');
  assert.deepEqual(junit.cases.map((c) => c.failure === null), [true, true, false, false, false]);
  assert.match(junit.cases[2]?.failure ?? '', /signature does not match/);
  assert.match(junit.cases[3]?.name ?? '', /more\.jsonl:2/);
  assert.match(junit.cases[4]?.name ?? '', /at least 2 valid MessageSent/);

  const written = await runCli(['verify', '--secret', SECRET, '--reporter', 'json', '--output', 'report.json'], { cwd: dir });
  assert.equal(written.code, 0, written.stderr);
  assert.equal(written.stdout, '');
  assert.match(written.stderr, /2 passed, 0 failed \(json report in report\.json\)/);
  const report = JSON.parse(await readFile(path.join(dir, 'report.json'), 'utf8'));
  assert.equal(report.verdicts.length, 2);
  assert.deepEqual(report.summary.requests, { passed: 2, failed: 0 });
});

test('verify --body/--signature checks one request, from a file or stdin', async (t) => {
  const dir = await tempDir(t);
  const body = sampleBody('SendLimitApproaching', 8);
  await writeFile(path.join(dir, 'body.json'), body);
  const good = await runCli(['verify', '--body', 'body.json', '--signature', sign(body, SECRET), '--secret', SECRET], { cwd: dir });
  assert.equal(good.code, 0, good.stderr);
  assert.match(good.stdout, /^✓ SendLimitApproaching \(body\.json\)\n1 passed, 0 failed\n$/);
  const bad = await runCli(['verify', '--body', '-', '--signature', sign(body, 'other'), '--secret', SECRET, '--json'], { cwd: dir, input: body });
  assert.equal(bad.code, 1);
  const report = JSON.parse(bad.stdout);
  assert.equal(report.verdicts[0].reasons[0].code, 'signature-invalid');
  assert.equal(report.verdicts[0].location, 'stdin');
});
