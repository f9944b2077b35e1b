import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UserError } from '../../src/errors.js';
import { forwardUrl } from '../../src/intake/forward.js';
import { assertDeliverableUrl, hasDotSegments, isLoopbackHost, parseTargetUrl } from '../../src/util/url.js';

test('URL shorthand: loopback means http, anything else https', () => {
  assert.equal(parseTargetUrl('localhost:3000/hooks').href, 'http://localhost:3000/hooks');
  assert.equal(parseTargetUrl('3000').href, 'http://localhost:3000/');
  assert.equal(parseTargetUrl(':3000/x').href, 'http://localhost:3000/x');
  assert.equal(parseTargetUrl('127.0.0.5:8080').href, 'http://127.0.0.5:8080/');
  assert.equal(parseTargetUrl('[::1]:9000/a').href, 'http://[::1]:9000/a');
  assert.equal(parseTargetUrl('app.example.com/webhooks').href, 'https://app.example.com/webhooks');
  for (const bad of ['', 'ftp://x.example', 'http://user:pw@x.example/', 'http://[zz']) assert.throws(() => parseTargetUrl(bad), UserError, bad);
});

test('plain http only to loopback unless --insecure', () => {
  for (const host of ['localhost', '127.0.0.1', '127.9.9.9', '[::1]', 'api.localhost']) assert.equal(isLoopbackHost(host), true, host);
  for (const host of ['example.com', '10.0.0.1', '0.0.0.0', '128.0.0.1', 'localhost.example.com']) assert.equal(isLoopbackHost(host), false, host);
  assert.throws(() => assertDeliverableUrl(new URL('http://app.example.com/'), false), /requires HTTPS/);
  assert.doesNotThrow(() => assertDeliverableUrl(new URL('http://app.example.com/'), true));
  assert.doesNotThrow(() => assertDeliverableUrl(new URL('http://127.0.0.1:3000/'), false));
});

test('dot segments are caught, encoded or not, so a forward never climbs out of its target', () => {
  for (const path of ['/..', '/../admin', '/a/./b', '/%2e%2e/x', '/%2E%2e%2fetc', '/a/..?x=1', '/a\\..\\b']) assert.equal(hasDotSegments(path), true, path);
  for (const path of ['/', '/hooks', '/a..b/c', '/x?path=../..', '/.well-known/x', '/%2e%2e%2e']) assert.equal(hasDotSegments(path), false, path);
  assert.equal(forwardUrl(new URL('http://127.0.0.1:3000/hooks'), '/email?x=1').href, 'http://127.0.0.1:3000/hooks/email?x=1');
});
