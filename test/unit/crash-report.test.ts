import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { PassThrough, Writable } from 'node:stream';
import { test } from 'node:test';
import { crashReportLine, main } from '../../src/cli/main.js';
import { bugReportAddress, packageVersion } from '../../src/cli/version.js';
import { REPO_ROOT } from '../helpers/cli.js';

/** An output stream that breaks the way no command expects: a genuine bug path through main(). */
class BrokenOutput extends Writable {
  override write(): boolean {
    throw new TypeError('output stream exploded');
  }
}

test('a crash (an error no command expected) exits 70 with its stack, and names no address package.json does not give', async () => {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const io = { cwd: tmpdir(), env: {}, stdin: new PassThrough(), stdout: new BrokenOutput(), stderr };
  const code = await main(['node', 'fe-webhooks', 'events'], io);
  assert.equal(code, 70);
  const [first, ...stack] = text.split('\n');
  const pkg = JSON.parse(readFileSync(`${REPO_ROOT}/package.json`, 'utf8')) as { bugs?: unknown };
  if (pkg.bugs === undefined) {
    assert.equal(first, `fe-webhooks ${packageVersion()} crashed: this is a bug. Please report it with the command you ran and the output below.`);
    assert.doesNotMatch(text, /https?:\/\//, 'no invented address');
  } else {
    assert.ok(first?.includes(` at ${bugReportAddress()} `), first);
  }
  assert.match(stack.join('\n'), /TypeError: output stream exploded\n\s+at /);
});

test('the report address comes from package.json "bugs": a URL, {url}, or {email}', () => {
  assert.equal(bugReportAddress({ bugs: 'https://example.com/issues' }), 'https://example.com/issues');
  assert.equal(bugReportAddress({ bugs: { url: 'https://example.com/bugs', email: 'b@example.com' } }), 'https://example.com/bugs');
  assert.equal(bugReportAddress({ bugs: { email: 'b@example.com' } }), 'b@example.com');
  assert.equal(bugReportAddress({ bugs: { url: ' ' } }), undefined);
  assert.equal(bugReportAddress({}), undefined);
  assert.match(crashReportLine('https://example.com/issues'), /Please report it at https:\/\/example\.com\/issues with the command you ran/);
  assert.doesNotMatch(crashReportLine(undefined), /\bat\b|https?:/);
});
