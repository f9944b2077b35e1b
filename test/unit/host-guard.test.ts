import assert from 'node:assert/strict';
import { test } from 'node:test';
import { forwardUrl } from '../../src/intake/forward.js';
import { AllowedHosts, hostRefusal, isValidAllowedHost } from '../../src/listen/host-guard.js';
import { requestTargetProblem } from '../../src/util/request-target.js';

const allowed = new AllowedHosts(['hooks.example.test', '.tunnel.test', 'Trailing.Dot.']);

function statusFor(host: string | undefined, extra: string[] = []): number | undefined {
  return hostRefusal([...(host === undefined ? [] : ['Host', host]), 'Content-Type', 'application/json', ...extra], allowed)?.status;
}

test('host rule: IP literals, localhost and allowed names pass, whatever the port; other names are 403', () => {
  for (const host of ['127.0.0.1', '127.0.0.1:7878', '192.168.1.20:80', '0.0.0.0', '[::1]', '[::1]:7878', '[::ffff:127.0.0.1]:1', '[2001:db8::1]', 'localhost', 'LocalHost:9', 'localhost.', 'hooks.example.test:443', 'HOOKS.EXAMPLE.TEST', 'tunnel.test', 'a.b.tunnel.test:1', 'trailing.dot', undefined]) {
    assert.equal(statusFor(host), undefined, String(host));
  }
  for (const host of ['evil.example', 'evil.example:7878', 'localhost.evil.example', 'app.localhost', '127.0.0.1.nip.io', 'xhooks.example.test', 'tunnel.test.evil', 'eviltunnel.test', '2130706433', '127.1']) {
    assert.equal(statusFor(host), 403, host);
  }
  // Not a host at all, or two of them: 400.
  for (const host of ['[::1', '[evil.example]', 'a:b:c', '[::1]x']) assert.equal(statusFor(host), 400, host);
  assert.equal(hostRefusal(['Host', '127.0.0.1', 'host', 'evil.example'], allowed)?.status, 400);
});

test('host rule: a browser\'s Origin or cross-site Sec-Fetch-Site is 403 even on 127.0.0.1', () => {
  assert.equal(statusFor('127.0.0.1', ['Origin', 'http://127.0.0.1:7878']), 403);
  assert.equal(statusFor('127.0.0.1', ['origin', 'null']), 403);
  assert.equal(statusFor('127.0.0.1', ['Sec-Fetch-Site', 'cross-site']), 403);
  assert.equal(statusFor('127.0.0.1', ['sec-fetch-site', ' Same-Site ']), 403);
  assert.equal(statusFor('127.0.0.1', ['Sec-Fetch-Site', 'none']), undefined);
  assert.equal(statusFor('127.0.0.1', ['Sec-Fetch-Site', 'same-origin']), undefined);
  const reason = hostRefusal(['Host', 'evil.example:1'], allowed)?.reason ?? '';
  assert.match(reason, /^Host "evil\.example" is not allowed \(DNS-rebinding guard\).*--allow-host$/);
  // A strange host is described, not quoted back.
  assert.doesNotMatch(hostRefusal(['Host', 'e\u001b]0;x'], allowed)?.reason ?? '', /\u001b/);
});

test('--allow-host names: host names (a leading dot for subdomains), never a URL or a port', () => {
  for (const name of ['hooks.example.test', '.example.test', 'localhost', 'my_host', 'a-b.c', 'x.test.']) assert.equal(isValidAllowedHost(name), true, name);
  for (const name of ['', 'http://x.test', 'x.test:80', 'a b', '*.x.test', '-x.test', 'x..test', '[::1]', '.']) assert.equal(isValidAllowedHost(name), false, name);
});

test('request targets: origin-form passes; absolute and asterisk form 400; over 8 KiB 414', () => {
  assert.equal(requestTargetProblem('/'), undefined);
  assert.equal(requestTargetProblem("/a?c='q'"), undefined);
  assert.equal(requestTargetProblem('http://evil.example/abs')?.status, 400);
  assert.equal(requestTargetProblem('evil.example:443')?.status, 400);
  assert.equal(requestTargetProblem('*')?.status, 400);
  assert.equal(requestTargetProblem(`/${'a'.repeat(8191)}`), undefined);
  assert.equal(requestTargetProblem(`/${'a'.repeat(8192)}`)?.status, 414);
});

test('forwardUrl keeps the request path and query byte for byte', () => {
  const target = new URL('http://localhost:3000/hooks?k=v');
  assert.equal(forwardUrl(target, "/a/{b}/`c`/\"d\"/<e>?c='q'&x=%27").path, "/hooks/a/{b}/`c`/\"d\"/<e>?k=v&c='q'&x=%27");
  assert.equal(forwardUrl(new URL('http://localhost:3000/'), '/p?').path, '/p?');
  assert.equal(forwardUrl(target, '/p?').path, '/hooks/p?k=v');
  assert.equal(forwardUrl(new URL('http://127.0.0.1:3000/in/'), '/%7Bx%7D?q=%20').href, 'http://127.0.0.1:3000/in/%7Bx%7D?q=%20');
  assert.equal(forwardUrl(new URL('http://127.0.0.1:3000'), '/x').origin, 'http://127.0.0.1:3000');
});
