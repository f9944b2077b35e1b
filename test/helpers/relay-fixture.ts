import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { newChannelId } from '../../src/relay/credentials.js';
import { forEachLimited } from '../../src/util/for-each-limited.js';

/**
 * Writes `count` channels straight into a relay data folder, as the file store lays them
 * out (channel.json, and one stored event in the first segment), without the fsyncs:
 * thousands of channels in a second or two, for tests of what the relay does with them.
 * Returns the channel ids.
 */
export async function writeChannelFolders(dataDir: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => newChannelId());
  await forEachLimited(ids, 32, async (id) => {
    const dir = path.join(dataDir, 'channels', id);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await writeFile(path.join(dir, 'channel.json'), JSON.stringify({ id, tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() }), { mode: 0o600 });
    const line = { seq: 1, receivedAt: new Date().toISOString(), method: 'POST', path: '/', rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from(`{"channel":"${id}"}`).toString('base64') };
    await writeFile(path.join(dir, '0000000000000001.jsonl'), `${JSON.stringify(line)}\n`, { mode: 0o600 });
  });
  return ids;
}
