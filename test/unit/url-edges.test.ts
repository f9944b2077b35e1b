import assert from 'node:assert/strict';
import { test } from 'node:test';
import { assertDeliverableUrl, isLocalDestination, isLoopbackHost, parseTargetUrl } from '../../src/util/url.js';

test('URL errors say what is wrong with the URL', () => {
  const cases: Array<[string, string]> = [
    ['http:///path', 'Invalid --url "http:///path": no host name after the scheme'],
    ['https://:8443/x', 'Invalid --url "https://:8443/x": no host name after the scheme'],
    ['http:/app.example.com/hooks', 'Invalid --url "http:/app.example.com/hooks": expected http:// before the host'],
    ['mailto:x@y', 'Invalid --url "mailto:x@y": only http and https are supported, not mailto:'],
    ['ftp://files.example.com/', 'Invalid --url "ftp://files.example.com/": only http and https are supported, not ftp:'],
    ['http://127.0.0.1:99999/', 'Invalid --url "http://127.0.0.1:99999/": port 99999 is out of range (1-65535)'],
    ['localhost:70000', 'Invalid --url "localhost:70000": port 70000 is out of range (1-65535)'],
    ['[::1]:0/x', 'Invalid --url "[::1]:0/x": port 0 is out of range (1-65535)'],
    ['https://user:pw@app.example.com/', 'Invalid --url "https://user:pw@app.example.com/": put credentials in a --header, not in the URL'],
    ['http://[zz', 'Invalid --url "http://[zz": not a URL'],
  ];
  for (const [input, message] of cases) assert.throws(() => parseTargetUrl(input, '--url'), { name: 'UserError', message }, input);
  // Shorthands still work, and a port shorthand is not taken for a scheme.
  assert.equal(parseTargetUrl('localhost:3000/hooks').href, 'http://localhost:3000/hooks');
  assert.equal(parseTargetUrl('app.example.com:8443/hooks').href, 'https://app.example.com:8443/hooks');
});

test('localhost., 0.0.0.0, [::] and IPv4-mapped loopback are local destinations', () => {
  for (const host of ['localhost.', 'api.localhost.', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '127.0.0.1', '[::1]']) {
    assert.equal(isLoopbackHost(host), true, host);
  }
  for (const host of ['0.0.0.0', '[::]', 'localhost.', '[::ffff:127.0.0.1]']) assert.equal(isLocalDestination(host), true, host);
  // Binding 0.0.0.0 opens a port to the network: as a bind address it is not loopback.
  for (const host of ['0.0.0.0', '[::]', '[::ffff:10.0.0.1]', 'localhost.example.com.']) assert.equal(isLoopbackHost(host), false, host);
  for (const input of ['http://localhost.:3000/', 'http://0.0.0.0:3000/', 'http://[::ffff:127.0.0.1]:3000/', '0.0.0.0:3000', 'localhost.:3000']) {
    const url = parseTargetUrl(input);
    assert.equal(url.protocol, 'http:', input);
    assert.doesNotThrow(() => assertDeliverableUrl(url, false), input);
  }
  // The rooted name is resolved as localhost (the system resolver does not know `localhost.`).
  assert.equal(parseTargetUrl('localhost.:3000/x').href, 'http://localhost:3000/x');
  assert.throws(() => assertDeliverableUrl(parseTargetUrl('http://[::ffff:10.0.0.1]/'), false), /requires HTTPS/);
});
