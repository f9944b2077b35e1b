import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { validateEvent } from '../../src/events/validate.js';
import { BUILTIN_STORIES } from '../../src/scenario/builtin.js';
import { sign } from '../../src/signing/index.js';
import { expectUsageErrors, REPO_ROOT, runCli, tempDir } from '../helpers/cli.js';
import { startReceiver, type ReceivedRequest } from '../helpers/receiver.js';
import { fishCompletions, zshCompletions } from '../helpers/shell-completion.js';
import { needs } from '../helpers/system-programs.js';

const SECRET = 'whsec_scenario_test';

type Body = { event: string; payload: Record<string, any> };

function jsonLines(stdout: string): Array<Record<string, unknown>> {
  return stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
}

const bodyOf = (request: ReceivedRequest): Body => JSON.parse(request.body.toString('utf8')) as Body;

/** The message a message event is about: the payload's message, or a bounce's original. */
function messageOf(body: Body): Record<string, unknown> {
  return (body.payload.message ?? body.payload.original_message) as Record<string, unknown>;
}

const domainOf = (address: string): string => address.slice(address.lastIndexOf('@') + 1);

test('every built-in story arrives signed, in order, about one message, with increasing timestamps', async (t) => {
  for (const story of BUILTIN_STORIES) {
    const receiver = await startReceiver(t, { secret: SECRET });
    const result = await runCli(['scenario', story.name, '--url', `${receiver.url}/hooks`, '--secret', SECRET, '--json']);
    assert.equal(result.code, 0, `${story.name}: ${result.stderr}`);
    const expected = story.steps.flatMap((step) => Array<string>(step.repeat).fill(step.event));
    const bodies = receiver.requests.map(bodyOf);
    assert.deepEqual(bodies.map((b) => b.event), expected, story.name);
    for (const request of receiver.requests) {
      assert.equal(request.signatureValid, true, story.name);
      assert.equal(request.url, '/hooks');
      assert.deepEqual(validateEvent(bodyOf(request)).violations, [], story.name);
    }
    const lines = jsonLines(result.stdout);
    assert.deepEqual(lines.slice(0, -1).map((l) => [l.event, l.place, l.of, l.duplicate, l.ok]), expected.map((e, i) => [e, i + 1, expected.length, false, true]));
    assert.deepEqual({ ...lines.at(-1), durationMs: 0 }, { story: story.name, sent: expected.length, ok: expected.length, failed: 0, duplicates: 0, durationMs: 0 });

    // One message: the same id, token, message id, recipient, sender and subject throughout.
    const messages = bodies.filter((b) => b.event.startsWith('Message')).map(messageOf);
    for (const key of ['id', 'token', 'to', 'from', 'subject']) {
      assert.equal(new Set(messages.map((m) => m[key])).size, Math.min(messages.length, 1), `${story.name}: one ${key}`);
    }
    const statuses = bodies.filter((b) => typeof b.payload.timestamp === 'number');
    assert.equal(new Set(statuses.map((b) => b.payload.message.message_id)).size, Math.min(statuses.length, 1), `${story.name}: one message_id`);
    const times = statuses.map((b) => b.payload.timestamp as number);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), `${story.name}: timestamps in story order`);
    assert.equal(new Set(times).size, times.length, `${story.name}: each step later than the one before`);
    for (const b of statuses) assert.ok(b.payload.message.timestamp < b.payload.timestamp, 'the message was created before any delivery status');
    const now = Math.floor(Date.now() / 1000);
    for (const time of times) assert.ok(time <= now + 1, 'nothing is dated in the future');
  }
});

test('built-in stories: each step says what happened to the message', async (t) => {
  const run = async (name: string): Promise<Body[]> => {
    const receiver = await startReceiver(t, { secret: SECRET });
    const result = await runCli(['scenario', name, '--url', receiver.url, '--secret', SECRET]);
    assert.equal(result.code, 0, result.stderr);
    return receiver.requests.map(bodyOf);
  };
  const [sent, bounced] = await run('bounced');
  assert.ok(sent && bounced);
  assert.deepEqual(bounced.payload.original_message, { id: sent.payload.message.id, token: sent.payload.message.token, to: sent.payload.message.to, from: sent.payload.message.from, subject: sent.payload.message.subject });
  assert.equal(bounced.payload.bounce.to, sent.payload.message.from, 'the bounce goes back to the original sender');
  assert.match(bounced.payload.bounce.from, new RegExp(`^(postmaster|MAILER-DAEMON|mailer-daemon)@${domainOf(sent.payload.message.to).replaceAll('.', '\\.')}$`));
  assert.match(sent.payload.details, new RegExp(`^Message for ${sent.payload.message.to.replaceAll('.', '\\.')} accepted by`));

  const [sentFirst, clicked] = await run('clicked');
  assert.ok(sentFirst && clicked);
  assert.equal(clicked.payload.token, sentFirst.payload.message.token);
  assert.equal(clicked.payload.message.id, sentFirst.payload.message.id);
  assert.equal(new URL(clicked.payload.url).hostname, domainOf(sentFirst.payload.message.from), 'the link is on the sender\'s site');

  const failing = await run('delayed-then-failed');
  assert.deepEqual(failing.map((b) => b.payload.status), ['softfail', 'softfail', 'hardfail']);
  assert.match(failing[0]?.payload.output, /^4\d\d /);
  assert.match(failing[1]?.payload.output, /^4\d\d /);
  assert.match(failing[2]?.payload.output, /^5\d\d /);
  // "Will retry in N minutes" is when the next event comes.
  for (const [delayed, next] of [[failing[0], failing[1]], [failing[1], failing[2]]] as const) {
    const minutes = Number(/Will retry in (\d+) minutes?/.exec(delayed?.payload.details)?.[1]);
    assert.equal((next?.payload.timestamp as number) - (delayed?.payload.timestamp as number), minutes * 60);
  }
  assert.equal(new Set(failing.map((b) => b.payload.details.split(' ').slice(3, 5).join(' '))).size, 1, 'the same MX throughout');

  const retried = await run('delayed-then-sent');
  assert.deepEqual(retried.map((b) => b.payload.status), ['softfail', 'sent']);

  const [approaching, exceeded] = await run('send-limit');
  assert.ok(approaching && exceeded);
  assert.deepEqual(approaching.payload.server, exceeded.payload.server);
  assert.equal(approaching.payload.limit, exceeded.payload.limit);
  assert.ok(approaching.payload.volume < approaching.payload.limit && exceeded.payload.volume > exceeded.payload.limit);
});

test('--seed repeats a story byte for byte; without it each run is a new message', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  for (const args of [['--seed', '42'], ['--seed', '42'], []]) {
    const result = await runCli(['scenario', 'bounced', '--url', receiver.url, '--secret', SECRET, ...args]);
    assert.equal(result.code, 0, result.stderr);
  }
  const [a, b, c] = [0, 2, 4].map((i) => Buffer.concat(receiver.requests.slice(i, i + 2).map((r) => r.body)).toString());
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test('--list shows one line per built-in story; a mistyped story name suggests one', async () => {
  const list = await runCli(['scenario', '--list']);
  assert.equal(list.code, 0, list.stderr);
  const lines = list.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), BUILTIN_STORIES.map((s) => s.name));
  await expectUsageErrors([
    [['scenario', 'bounce', '--url', 'localhost:9'], /Unknown story "bounce"\. Did you mean bounced\?/],
    [['scenario', '--url', 'localhost:9'], /Name a story/],
    [['scenario', 'bounced', '--duplicates', '1.5'], /Invalid --duplicates "1\.5": expected a probability from 0 to 1/],
    [['scenario', 'bounced', '--seed', 'x'], /Invalid --seed "x"/],
    [['scenario', 'missing.json', '--url', 'localhost:9'], /Cannot read .*missing\.json: no such file/],
  ]);
});

test('fixtures/scenarios: a JSON and a YAML story with references, repeat and after', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const json = await runCli(['scenario', path.join(REPO_ROOT, 'fixtures/scenarios/bounce-lookup.json'), '--url', receiver.url, '--secret', SECRET, '--json']);
  assert.equal(json.code, 0, json.stderr);
  const [sent, bounced] = receiver.requests.map(bodyOf);
  assert.ok(sent && bounced);
  assert.equal(sent.payload.message.to, 'ana.lopez@customers.example.org');
  assert.equal(sent.payload.details.includes('ana.lopez@customers.example.org'), true, '--set of the recipient also changes details');
  assert.equal(bounced.payload.original_message.id, sent.payload.message.id);
  assert.equal(bounced.payload.original_message.to, 'ana.lopez@customers.example.org', 'later steps follow what earlier ones set');
  assert.match(bounced.payload.bounce.from, /@customers\.example\.org$/);
  assert.equal(bounced.payload.bounce.subject, `Undelivered Mail Returned to Sender: ${sent.payload.message.subject}`);
  assert.ok((receiver.requests[1]?.receivedAt ?? 0) - (receiver.requests[0]?.receivedAt ?? 0) >= 90, '"after": "100ms" waited');
  assert.deepEqual(jsonLines(json.stdout).slice(0, 2).map((l) => l.step), ['sent', 'bounced']);

  const yaml = await runCli(['scenario', path.join(REPO_ROOT, 'fixtures/scenarios/greylisted-then-clicked.yaml'), '--url', receiver.url, '--secret', SECRET]);
  assert.equal(yaml.code, 0, yaml.stderr);
  const story = receiver.requests.slice(2).map(bodyOf);
  assert.deepEqual(story.map((b) => b.event), ['MessageDelayed', 'MessageDelayed', 'MessageSent', 'MessageLinkClicked']);
  const [first, , delivered, clicked] = story;
  assert.equal(delivered?.payload.message.subject, `Your order #${first?.payload.message.id} has shipped`);
  assert.equal(clicked?.payload.message.subject, delivered?.payload.message.subject);
  assert.equal(clicked?.payload.url, `https://shop.example.com/track/${delivered?.payload.message.id}?token=${delivered?.payload.message.token}`);
  assert.ok(receiver.requests.every((r) => r.signatureValid));
  assert.match(yaml.stdout, /^4 of 4 delivered/m);
});

test('story file errors are exit 2 naming the step and the path; nothing is sent', async (t) => {
  const dir = await tempDir(t);
  const receiver = await startReceiver(t, { secret: SECRET });
  const sent = { name: 'sent', event: 'MessageSent' };
  const files: Array<[string, unknown, RegExp]> = [
    ['unknown-event.json', { steps: [sent, { name: 'b', event: 'MessageBounce' }] }, /step 2 "b": "event": Unknown event "MessageBounce"\. Did you mean MessageBounced\?/],
    ['unknown-step.json', { steps: [sent, { event: 'MessageBounced', set: { 'payload.original_message.id': '${snet.payload.message.id}' } }] }, /step 2 \(MessageBounced\): set "payload\.original_message\.id": \$\{snet\.payload\.message\.id\}: no step is named "snet"/],
    ['unknown-path.json', { steps: [sent, { name: 'b', event: 'MessageBounced', set: { 'payload.original_message.id': '${sent.payload.mesage.id}' } }] }, /step 2 "b": \$\{sent\.payload\.mesage\.id\}: sent has no field payload\.mesage\.id/],
    ['self.json', { steps: [{ name: 'a', event: 'MessageSent', set: { 'payload.message.subject': '${a.payload.message.id}' } }] }, /step 1 "a": set "payload\.message\.subject": \$\{a\.payload\.message\.id\}: a step cannot refer to itself/],
    ['cycle.json', { steps: [{ name: 'a', event: 'MessageSent', set: { 'payload.message.subject': '${b.payload.bounce.subject}' } }, { name: 'b', event: 'MessageBounced', set: { 'payload.bounce.subject': '${a.payload.message.subject}' } }] }, /step 1 "a": set "payload\.message\.subject": \$\{b\.payload\.bounce\.subject\}: a cycle \(step 2 refers back to this step\)/],
    ['forward.json', { steps: [{ name: 'a', event: 'MessageSent', set: { 'payload.message.subject': '${b.payload.bounce.subject}' } }, { name: 'b', event: 'MessageBounced' }] }, /step 1 "a": .*step 2 comes later; a step can only refer to earlier steps/],
    ['bad-repeat.json', { steps: [{ event: 'MessageSent', repeat: 0 }] }, /step 1 \(MessageSent\): "repeat" must be a whole number from 1 to 1000/],
    ['bad-after.json', { steps: [{ event: 'MessageSent', after: 'soon' }] }, /step 1 \(MessageSent\): Invalid "after" "soon"/],
    ['typo.json', { steps: [{ event: 'MessageSent', sett: {} }] }, /step 1 \(MessageSent\): unknown key "sett"/],
    ['no-steps.json', { steps: [] }, /"steps" must be a non-empty list/],
    ['duplicate-name.json', { steps: [sent, sent] }, /step 2 "sent": "name" "sent" is already the name of step 1/],
  ];
  for (const [name, document] of files) await writeFile(path.join(dir, name), JSON.stringify(document));
  await writeFile(path.join(dir, 'broken.yaml'), 'steps:\n  - event: [MessageSent\n');
  await writeFile(path.join(dir, 'broken.json'), '{"steps": [');
  await writeFile(path.join(dir, 'infinite.yaml'), 'steps:\n  - event: SendLimitExceeded\n    set:\n      payload.volume: .inf\n');
  // "Billion laughs": nine levels of aliases, each used nine times (9^9 values if expanded).
  const laughs = ['a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]'];
  for (let level = 1; level < 9; level++) laughs.push(`a${level}: &a${level} [${Array(9).fill(`*a${level - 1}`).join(', ')}]`);
  await writeFile(path.join(dir, 'laughs.yaml'), `${laughs.join('\n')}\nsteps:\n  - event: MessageSent\n    set:\n      payload.message.subject: *a8\n`);
  await writeFile(path.join(dir, 'long.yaml'), 'steps:\n' + '  - event: MessageSent\n    repeat: 1000\n'.repeat(11));
  await expectUsageErrors(
    [
      ...files.map(([name, , message]): [string[], RegExp] => [['scenario', name, '--url', receiver.url], new RegExp(`^error: Invalid story ${name.replace('.', '\\.')}: ${message.source}`)]),
      [['scenario', 'broken.yaml', '--url', receiver.url], /^error: Invalid story broken\.yaml: not valid YAML/],
      [['scenario', 'broken.json', '--url', receiver.url], /^error: Invalid story broken\.json: not valid JSON/],
      [['scenario', 'infinite.yaml', '--url', receiver.url], /step 1 \(SendLimitExceeded\): set "payload\.volume": the number at payload\.volume is too large for JSON/],
      [['scenario', 'laughs.yaml', '--url', receiver.url], /^error: Invalid story laughs\.yaml: too large: more than 100000 values/],
      [['scenario', 'long.yaml', '--url', receiver.url], /^error: Invalid story long\.yaml: 11000 events: a story has at most 10000/],
    ],
    { cwd: dir },
  );
  assert.equal(receiver.requests.length, 0, 'a bad story sends nothing');
});

test('--duplicates 1 sends every delivery exactly twice, byte-identical, marked in --json', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['scenario', 'delayed-then-failed', '--url', receiver.url, '--secret', SECRET, '--duplicates', '1', '--json']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(receiver.requests.length, 6);
  for (let i = 0; i < 6; i += 2) {
    const [original, again] = [receiver.requests[i], receiver.requests[i + 1]];
    assert.ok(original && again);
    assert.deepEqual(again.body, original.body);
    assert.equal(again.headers['x-webhook-signature'], original.headers['x-webhook-signature']);
    assert.equal(original.headers['x-webhook-signature'], sign(original.body, SECRET));
  }
  assert.equal(new Set(receiver.requests.map((r) => r.body.toString())).size, 3, 'three distinct events');
  const lines = jsonLines(result.stdout);
  assert.deepEqual(lines.slice(0, -1).map((l) => [l.place, l.duplicate]), [[1, false], [1, true], [2, false], [2, true], [3, false], [3, true]]);
  assert.deepEqual({ ...lines.at(-1), durationMs: 0 }, { story: 'delayed-then-failed', sent: 6, ok: 6, failed: 0, duplicates: 3, durationMs: 0 });
  const pretty = await runCli(['scenario', 'bounced', '--url', receiver.url, '--secret', SECRET, '--duplicates', '1']);
  assert.match(pretty.stdout, /^1\/2 dup {2}MessageSent +200/m);
  assert.match(pretty.stdout, /^4 of 4 delivered \(2 events, 2 duplicates, /m);
});

test('--shuffle changes the order but delivers every event exactly once; a non-2xx fails the run', async (t) => {
  const dir = await tempDir(t);
  await writeFile(path.join(dir, 'many.yaml'), 'steps:\n  - event: MessageDelayed\n    repeat: 7\n  - event: MessageDeliveryFailed\n');
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['scenario', 'many.yaml', '--url', receiver.url, '--secret', SECRET, '--shuffle', '--seed', '5', '--json'], { cwd: dir });
  assert.equal(result.code, 0, result.stderr);
  const places = jsonLines(result.stdout).slice(0, -1).map((l) => l.place as number);
  assert.notDeepEqual(places, [1, 2, 3, 4, 5, 6, 7, 8]);
  assert.deepEqual([...places].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8]);
  // The receiver saw the story's events (ordered by their timestamps) each once, in the shuffled order.
  const times = receiver.requests.map((r) => bodyOf(r).payload.timestamp as number);
  const storyOrder = [...times].sort((a, b) => a - b);
  assert.deepEqual(places, times.map((time) => storyOrder.indexOf(time) + 1));
  assert.equal(new Set(times).size, 8);

  const failing = await startReceiver(t, { secret: SECRET, respond: (_r, index) => (index === 1 ? 500 : 200) });
  const failed = await runCli(['scenario', 'bounced', '--url', failing.url, '--secret', SECRET]);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /^2\/2 +MessageBounced +500/m);
  assert.match(failed.stderr, /1 of 2 deliveries failed/);
});

test('shell completion offers scenario and its story names (bash loads the script)', async (t) => {
  const dir = await tempDir(t);
  const script = await runCli(['completion', 'bash']);
  assert.equal(script.code, 0, script.stderr);
  await writeFile(path.join(dir, 'c.bash'), script.stdout);
  const complete = (words: string[]): string[] => {
    const bash = `source c.bash; COMP_WORDS=(${words.map((w) => JSON.stringify(w)).join(' ')}); COMP_CWORD=${words.length - 1}; _fe_webhooks; printf '%s\\n' "\${COMPREPLY[@]}"`;
    const result = spawnSync('bash', ['-c', bash], { encoding: 'utf8', cwd: dir });
    assert.equal(result.status, 0, result.stderr);
    return result.stdout.split('\n').filter(Boolean);
  };
  assert.deepEqual(complete(['fe-webhooks', 'sc']), ['scenario']);
  assert.deepEqual(complete(['fe-webhooks', 'scenario', 'delayed']), ['delayed-then-sent', 'delayed-then-failed']);
  assert.deepEqual(complete(['fe-webhooks', 'scenario', '--sh']), ['--shuffle']);
});

test('zsh and fish complete story names and scenario flags too, in the real shells', needs('zsh', 'fish'), async (t) => {
  const dir = await tempDir(t);
  for (const shell of ['zsh', 'fish'] as const) {
    const script = await runCli(['completion', shell]);
    assert.equal(script.code, 0, script.stderr);
    await writeFile(path.join(dir, `c.${shell}`), script.stdout);
  }
  const zsh = path.join(dir, 'c.zsh');
  const fish = path.join(dir, 'c.fish');
  assert.deepEqual(zshCompletions(zsh, 'fe-webhooks scenario delayed', dir), ['delayed-then-failed', 'delayed-then-sent']);
  assert.deepEqual(fishCompletions(fish, 'fe-webhooks scenario delayed'), ['delayed-then-failed', 'delayed-then-sent']);
  assert.deepEqual(fishCompletions(fish, 'fe-webhooks scenario --sh'), ['--shuffle']);
  const all = BUILTIN_STORIES.map((story) => story.name).sort();
  assert.deepEqual(fishCompletions(fish, 'fe-webhooks scenario '), all);
});

test('--interval spaces the deliveries; --list --json describes each story', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli(['scenario', 'clicked', '--url', receiver.url, '--secret', SECRET, '--interval', '300ms']);
  assert.equal(result.code, 0, result.stderr);
  const [first, second] = receiver.requests;
  assert.ok(first && second);
  assert.ok(second.receivedAt - first.receivedAt >= 280, `${second.receivedAt - first.receivedAt} ms apart`);
  const list = await runCli(['scenario', '--list', '--json']);
  assert.equal(list.code, 0, list.stderr);
  const stories = JSON.parse(list.stdout) as Array<{ name: string; events: string[] }>;
  assert.deepEqual(stories.find((s) => s.name === 'delayed-then-failed')?.events, ['MessageDelayed', 'MessageDelayed', 'MessageDeliveryFailed']);
  assert.equal(stories.length, BUILTIN_STORIES.length);
  assert.deepEqual((stories.find((s) => s.name === 'bounced') as unknown as { steps: string[] }).steps, ['sent', 'bounced']);
});

test('--set step.path=value tweaks one step of a built-in story, and later steps follow', async (t) => {
  const receiver = await startReceiver(t, { secret: SECRET });
  const result = await runCli([
    'scenario', 'bounced', '--url', receiver.url, '--secret', SECRET,
    '--set', 'sent.payload.message.to=ana@customers.example.org',
    '--set', 'bounced.payload.bounce.subject=Mail delivery failed',
  ]);
  assert.equal(result.code, 0, result.stderr);
  const [sent, bounced] = receiver.requests.map(bodyOf);
  assert.equal(sent?.payload.message.to, 'ana@customers.example.org');
  assert.match(sent?.payload.details, /^Message for ana@customers\.example\.org accepted/);
  assert.equal(bounced?.payload.original_message.to, 'ana@customers.example.org');
  assert.match(bounced?.payload.bounce.from, /@customers\.example\.org$/);
  assert.equal(bounced?.payload.bounce.subject, 'Mail delivery failed');
  await expectUsageErrors([
    [['scenario', 'bounced', '--url', receiver.url, '--set', 'snet.payload.message.to=x@y.example'], /Invalid --set "snet\.payload\.message\.to": expected <step>\.<path>=value, where <step> is a step of bounced \(one of sent, bounced\)/],
    [['scenario', 'bounced', '--url', receiver.url, '--set', 'sent=1'], /Invalid --set "sent"/],
  ]);
  assert.equal(receiver.requests.length, 2, 'a bad --set sends nothing');
});
