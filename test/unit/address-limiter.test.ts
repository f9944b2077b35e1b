import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AddressRateLimiter, limitKey } from '../../src/relay/address-limiter.js';

test('a burst, then one per refill, with the wait in whole seconds', () => {
  const limiter = new AddressRateLimiter({ burst: 2, refillMs: 6_000, maxAddresses: 10 });
  assert.equal(limiter.take('10.0.0.1', 0), undefined);
  assert.equal(limiter.take('10.0.0.1', 0), undefined);
  assert.equal(limiter.take('10.0.0.1', 0), 6);
  assert.equal(limiter.take('10.0.0.1', 3_000), 3);
  assert.equal(limiter.take('10.0.0.1', 6_000), undefined);
  assert.equal(limiter.take('10.0.0.1', 6_000), 6);
});

test('memory is bounded: refilled entries expire, and past maxAddresses the least recently used goes', () => {
  const limiter = new AddressRateLimiter({ burst: 1, refillMs: 1_000, maxAddresses: 3 });
  for (let n = 0; n < 1_000; n++) limiter.take(`10.0.${n >> 8}.${n & 255}`, 0);
  assert.equal(limiter.size, 3);
  assert.equal(limiter.take('10.0.3.231', 0), 1, 'the most recent address is still limited');
  limiter.take('192.0.2.1', 5_000);
  assert.equal(limiter.size, 1, 'refilled entries are gone');
});

test('IPv6 is limited per /64, IPv4-mapped as IPv4', () => {
  assert.equal(limitKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.equal(limitKey('2001:db8::'), '2001:db8:0:0::/64');
  assert.equal(limitKey('::1'), '0:0:0:0::/64');
  assert.equal(limitKey('::ffff:192.0.2.7'), '192.0.2.7');
  assert.equal(limitKey('192.0.2.7'), '192.0.2.7');
  const limiter = new AddressRateLimiter({ burst: 1, refillMs: 1_000, maxAddresses: 10 });
  assert.equal(limiter.take('2001:db8:1:2::1', 0), undefined);
  assert.equal(limiter.take('2001:db8:1:2::99', 0), 1, 'same /64');
  assert.equal(limiter.take('2001:db8:1:3::1', 0), undefined, 'another /64');
});
