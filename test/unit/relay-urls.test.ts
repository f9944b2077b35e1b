import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseRelayUrls } from '../../src/cli/relay-link.js';
import { describeRedisUrl } from '../../src/relay/redis-url.js';

test('listen --relay URL1,URL2: each URL checked, order kept, blanks ignored', () => {
  assert.deepEqual(
    parseRelayUrls('http://127.0.0.1:8081, http://127.0.0.1:8082,').map((url) => url.href),
    ['http://127.0.0.1:8081/', 'http://127.0.0.1:8082/'],
  );
  assert.throws(() => parseRelayUrls('http://127.0.0.1:8081,http://relay.example.com'), /Refusing plain http/);
  assert.throws(() => parseRelayUrls(' , '), /--relay needs a URL/);
});

test('a Redis URL is shown without its credentials', () => {
  assert.equal(describeRedisUrl('redis://user:hunter2@redis.internal:6380/2'), 'redis.internal:6380/2');
  assert.equal(describeRedisUrl('redis://:hunter2@10.0.0.5'), '10.0.0.5:6379');
  assert.equal(describeRedisUrl('not a url hunter2'), 'the configured Redis');
});
