import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { RedisChannelStore } from '../../src/relay/redis-store.js';
import { startRetentionSweep } from '../../src/relay/retention-sweep.js';
import type { EventLog } from '../../src/relay/store.js';
import { forEachLimited } from '../../src/util/for-each-limited.js';
import { tempDir } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';

const setting = (info: string, name: string): number => Number(new RegExp(`^${name}:(\\d+)`, 'm').exec(info)?.[1]);

test('on Redis, connections do not grow with channels, and idle channels cost no commands', { timeout: 120_000 }, async (t) => {
  const redis = await startRedis(t, await tempDir(t));
  const admin = new Redis(redis.url);
  t.after(() => admin.disconnect());
  const store = await RedisChannelStore.open({ url: redis.url, retention: { maxEvents: 1_000, maxAgeMs: 3_600_000 } });
  t.after(() => store.close());
  const connections = async (): Promise<number> => String(await admin.client('LIST')).trim().split('\n').length - 1;
  const create = async (count: number, from: number): Promise<void> =>
    forEachLimited(Array.from({ length: count }, (_, i) => `scale-channel-${String(from + i).padStart(6, '0')}`), 16, async (id) => {
      await store.createChannel({ id, tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() });
      const log = (await store.log(id)) as EventLog;
      await log.append({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from('{}'), receivedAt: new Date() });
    });
  await create(10, 0);
  const withTen = await connections();
  await create(290, 10);
  assert.equal(await connections(), withTen, 'the same connections for 300 channels as for 10');
  assert.ok(withTen <= 3, `${withTen} connections`);

  // The first retention pass reads each stream's oldest event; later passes know no event
  // can be old enough yet and send nothing, however many channels are open.
  const sweep = startRetentionSweep(store, 3_600_000);
  t.after(() => sweep.stop());
  await sweep.runNow();
  const before = setting(await admin.info('stats'), 'total_commands_processed');
  await sweep.runNow();
  // With no listener, nothing ticks either: no polling for idle channels.
  await new Promise((resolve) => setTimeout(resolve, 2_500));
  const commands = setting(await admin.info('stats'), 'total_commands_processed') - before;
  // The admin's own INFO is the one command counted.
  assert.ok(commands <= 2, `${commands} commands for 300 idle channels`);
});
