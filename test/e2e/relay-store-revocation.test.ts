import assert from 'node:assert/strict';
import { readdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { FileChannelStore } from '../../src/relay/file-store.js';
import { RedisChannelStore } from '../../src/relay/redis-store.js';
import type { ChannelStore, NewEvent, Revocation } from '../../src/relay/store.js';
import { tempDir } from '../helpers/cli.js';
import { startRedis } from '../helpers/redis.js';
import { needs } from '../helpers/system-programs.js';

const CHANNEL = 'revocation_channel_01';
const RETENTION = { maxEvents: 1000, maxAgeMs: 60_000 };
const event = (n: number): NewEvent => ({ method: 'POST', path: '/', rawHeaders: [], body: Buffer.from(`{"n":${n}}`), receivedAt: new Date() });
const record = { id: CHANNEL, tokenHash: 'aa'.repeat(32), createdAt: new Date().toISOString() };

/** The contract both stores keep: compare-and-set rotation, deletion that frees the slot and refuses later appends. */
async function checkContract(store: ChannelStore, alreadyCreated = false): Promise<void> {
  if (!alreadyCreated) assert.equal(await store.createChannel(record, 1), true);
  assert.equal(await store.createChannel({ ...record, id: 'revocation_channel_02' }, 1), false, 'full');
  const log = await store.log(CHANNEL);
  assert.ok(log);
  assert.equal(await log.append(event(1)), 1);

  // Two rotations with the same old token at once: exactly one wins.
  const outcomes = await Promise.all(['bb', 'cc'].map((to) => store.replaceToken(CHANNEL, { from: 'aa'.repeat(32), to: to.repeat(32) })));
  assert.deepEqual([...outcomes].sort(), ['changed', 'replaced']);
  const winner = outcomes[0] === 'replaced' ? 'bb' : 'cc';
  assert.equal((await store.channel(CHANNEL))?.tokenHash, winner.repeat(32));
  assert.equal(await store.replaceToken('revocation_channel_09', { from: 'aa'.repeat(32), to: 'dd'.repeat(32) }), 'unknown');

  assert.equal(await store.deleteChannel(CHANNEL), true);
  assert.equal(await store.deleteChannel(CHANNEL), false);
  assert.equal(await store.channel(CHANNEL), undefined);
  assert.equal(await store.log(CHANNEL), undefined);
  await assert.rejects(log.append(event(2)), 'the old log object stores nothing more');
  assert.equal(await store.createChannel({ ...record, id: 'revocation_channel_02' }, 1), true, 'the slot is free');
}

test('file store: rotation is compare-and-set and durable; deletion removes the folder, frees the slot, survives a reopen', async (t) => {
  const dataDir = await tempDir(t);
  const store = await FileChannelStore.open({ dataDir, retention: RETENTION });
  t.after(() => store.close());
  await checkContract(store);
  assert.deepEqual(await readdir(path.join(dataDir, 'channels')), ['revocation_channel_02']);
  await store.replaceToken('revocation_channel_02', { from: 'aa'.repeat(32), to: 'ee'.repeat(32) });
  await store.close();
  const reopened = await FileChannelStore.open({ dataDir, retention: RETENTION });
  t.after(() => reopened.close());
  assert.equal(await reopened.channel(CHANNEL), undefined);
  assert.equal((await reopened.channel('revocation_channel_02'))?.tokenHash, 'ee'.repeat(32));
});

test('file store: a second store on the same folder in one process is refused while the first holds it', async (t) => {
  const dataDir = await tempDir(t);
  const first = await FileChannelStore.open({ dataDir, retention: RETENTION });
  await assert.rejects(FileChannelStore.open({ dataDir, retention: RETENTION }), new RegExp(`in use by another relay \\(PID ${process.pid}\\)`));
  // The same folder through a symlink is the same folder.
  const alias = path.join(await tempDir(t), 'alias');
  await symlink(dataDir, alias);
  await assert.rejects(FileChannelStore.open({ dataDir: alias, retention: RETENTION }), /in use by another relay/);
  await first.close();
  const second = await FileChannelStore.open({ dataDir, retention: RETENTION });
  await second.close();
});

test('Redis store: rotation and deletion reach every instance; a deleted channel leaves no key and its cached log on another instance stores nothing', needs('redis-server'), async (t) => {
  const redis = await startRedis(t, await tempDir(t));
  const open = async (): Promise<RedisChannelStore> => {
    const store = await RedisChannelStore.open({ url: redis.url, retention: RETENTION });
    t.after(() => store.close());
    return store;
  };
  const [one, two] = [await open(), await open()];
  const heard: Array<[string, Revocation]> = [];
  const bothHeard = new Promise<void>((resolve) =>
    two.onRevoked((id, revocation) => {
      heard.push([id, revocation]);
      if (heard.length === 2) resolve();
    }),
  );
  // The other instance opened the log before the deletion: its append must fail, not recreate the stream.
  assert.equal(await one.createChannel(record, 1), true);
  const otherLog = await two.log(CHANNEL);
  assert.ok(otherLog);
  await checkContract(one, true);
  await bothHeard;
  assert.deepEqual(heard, [
    [CHANNEL, 'token-rotated'],
    [CHANNEL, 'channel-deleted'],
  ]);
  await assert.rejects(otherLog.append(event(3)), /the channel was deleted/);
  assert.equal(await two.log(CHANNEL), undefined);
  const client = new Redis(redis.url);
  t.after(() => client.disconnect());
  assert.deepEqual(await client.keys(`fe-webhooks:{${CHANNEL}}:*`), [], 'no key of the deleted channel is left');
  assert.equal(await client.get('fe-webhooks:channel-count'), '1');
});
