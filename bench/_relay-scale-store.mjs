// Part of bench/relay-scale.mjs (run.mjs skips `_` files), in a fresh process so nothing
// else is on its heap: on a relay data folder (no relay running), with the relay's own
// store, the longest event-loop stall of a retention pass over every channel's open log,
// and the memory each idle channel costs once the pass has dropped its recent cache.
// Usage: node --expose-gc bench/_relay-scale-store.mjs <data-dir>
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { FileChannelStore } from '../dist/relay/file-store.js';
import { startRetentionSweep } from '../dist/relay/retention-sweep.js';
import { forEachLimited } from '../dist/util/for-each-limited.js';

const dataDir = process.argv[2];
// Bodies are Buffers, outside the JS heap: counted too.
const memory = () => (globalThis.gc(), globalThis.gc(), process.memoryUsage().heapUsed + process.memoryUsage().arrayBuffers);

const store = await FileChannelStore.open({ dataDir, retention: { maxEvents: 100_000, maxAgeMs: 7 * 86_400_000 } });
const ids = readdirSync(path.join(dataDir, 'channels'));
const before = memory();
await forEachLimited(ids, 32, async (id) => void (await store.log(id)));
const sweep = startRetentionSweep(store, 3_600_000);
let stall = Number.POSITIVE_INFINITY;
for (let pass = 0; pass < 3; pass++) {
  let longest = 0;
  let last = performance.now();
  let timer;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    timer = setTimeout(tick, 1);
  };
  timer = setTimeout(tick, 1);
  await sweep.runNow();
  clearTimeout(timer);
  stall = Math.min(stall, Math.max(longest, performance.now() - last));
}
sweep.stop();
console.log(
  `RESULT relay-scale-sweep-stall-ms ${stall.toFixed(1)} ms longest event-loop stall during a retention pass ` +
    `over ${ids.length} open logs (best of 3; goal < 50)`,
);
// Idle: the pass a minute after the last use drops the logs' recent caches.
for (const log of store.openLogs()) await log.applyRetention(new Date(Date.now() + 120_000));
const perChannel = (memory() - before) / ids.length / 1024;
console.log(
  `RESULT relay-scale-kb-per-idle-channel ${perChannel.toFixed(2)} KB (heap and buffers) per channel ` +
    'with its log opened and idle, records excluded (goal < 10)',
);
await store.close();
