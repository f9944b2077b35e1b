import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newChannelId } from '../../src/relay/credentials.js';
import { FileChannelStore } from '../../src/relay/file-store.js';
import { HeartbeatSweep } from '../../src/relay/heartbeat-sweep.js';
import { connectionsAllowed, descriptorsNeeded, logFilesWithin, softOpenFilesLimit } from '../../src/relay/descriptor-budget.js';
import { OpenFileBudget, type ParkedFileHolder } from '../../src/relay/open-file-budget.js';
import type { EventLog, NewEvent, StoredEvent } from '../../src/relay/store.js';
import { encodeMessage } from '../../src/protocol/index.js';
import { tempDir } from '../helpers/cli.js';
import { watchDescriptors, openDescriptors } from '../helpers/descriptors.js';

const RETENTION = { maxEvents: 1_000_000, maxAgeMs: 86_400_000 };

function event(channel: string, n: number): NewEvent {
  return { method: 'POST', path: `/hooks?n=${n}`, rawHeaders: ['Content-Type', 'application/json'], body: Buffer.from(`{"channel":"${channel}","n":${n}}`), receivedAt: new Date() };
}

async function readAll(log: EventLog): Promise<StoredEvent[]> {
  const events: StoredEvent[] = [];
  for await (const stored of log.read(0)) events.push(stored);
  return events;
}

test('the budget hands out at most maxOpen slots and closes the least recently parked file for a waiter', async () => {
  const budget = new OpenFileBudget(2);
  const closed: string[] = [];
  const holder = (name: string): ParkedFileHolder => ({ closeParkedFile: async () => void closed.push(name) });
  const a = holder('a');
  const b = holder('b');
  await budget.acquire();
  budget.park(a);
  await budget.acquire();
  budget.park(b);
  assert.equal(budget.openCount, 2);
  // a is used again: b is now the least recently used.
  assert.equal(budget.unpark(a), true);
  budget.park(a);
  await budget.acquire();
  assert.deepEqual(closed, ['b']);
  assert.equal(budget.unpark(b), false, 'b must reopen its file');
  assert.equal(budget.openCount, 2);
  // All slots busy (a parked is taken next, then nothing is left): a waiter waits for a release.
  await budget.acquire();
  assert.deepEqual(closed, ['b', 'a']);
  let third = false;
  const waiting = budget.acquire().then(() => (third = true));
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(third, false);
  budget.release();
  await waiting;
  assert.equal(budget.openCount, 2);
});

test('a store with 4 log-file slots serves 40 channels: files stay bounded, order and bytes survive reopening', async (t) => {
  const dataDir = await tempDir(t);
  const store = await FileChannelStore.open({ dataDir, retention: RETENTION, maxOpenLogFiles: 4 });
  const ids = Array.from({ length: 40 }, () => newChannelId());
  for (const id of ids) await store.createChannel({ id, tokenHash: 'ab'.repeat(32), createdAt: new Date().toISOString() });
  const before = openDescriptors(process.pid);
  const descriptors = watchDescriptors(process.pid, 1);
  // Five rounds: each round finds most logs' files closed by the others and reopens them.
  for (let round = 1; round <= 5; round++) {
    const seqs = await Promise.all(ids.map(async (id) => ((await store.log(id)) as EventLog).append(event(id, round))));
    assert.deepEqual(new Set(seqs), new Set([round]));
    assert.ok(store.openFiles.openCount <= 4);
  }
  const peak = descriptors.stop();
  // Each slot may briefly hold a second descriptor (a folder fsync when a segment starts).
  assert.ok(peak - before <= 8, `${peak - before} more descriptors for 40 channels`);
  await store.close();
  assert.equal(store.openFiles.openCount, 0);

  const again = await FileChannelStore.open({ dataDir, retention: RETENTION, maxOpenLogFiles: 4 });
  t.after(() => again.close());
  for (const id of ids) {
    const events = await readAll((await again.log(id)) as EventLog);
    assert.deepEqual(
      events.map((e) => [e.seq, e.body.toString()]),
      [1, 2, 3, 4, 5].map((n) => [n, `{"channel":"${id}","n":${n}}`]),
    );
  }
});

test('one heartbeat timer for all links: quiet links are pinged, links heard from are not, silent ones are dead', (t) => {
  // On mocked timers and clock: the sweep's interval and Date.now move only when ticked,
  // so the exact pings and the moment of death are known, whatever the machine's load.
  t.mock.timers.enable({ apis: ['setInterval', 'Date'], now: 1_000_000 });
  const sweep = new HeartbeatSweep(50, 200);
  t.after(() => sweep.stop());
  const frames = { chatty: [] as string[], silent: [] as string[] };
  let dead = '';
  const chatty = sweep.join((frame) => frames.chatty.push(frame), () => (dead += 'chatty'));
  sweep.join((frame) => frames.silent.push(frame), () => (dead += 'silent'));
  assert.equal(sweep.size, 2);
  // The chatty link is heard from every 10 ms; sweeps come at 50, 100, 150 and 200 ms.
  const advance = (ms: number): void => {
    for (let elapsed = 0; elapsed < ms; elapsed += 10) {
      t.mock.timers.tick(10);
      chatty.heard();
    }
  };
  advance(200);
  assert.equal(dead, '', 'silent for exactly deadAfterMs is not yet dead');
  assert.equal(sweep.size, 2);
  const pings = frames.silent.map((frame) => JSON.parse(frame) as { type: string; t: number });
  assert.deepEqual(pings.map((ping) => [ping.type, ping.t - 1_000_000]), [['ping', 50], ['ping', 100], ['ping', 150], ['ping', 200]], 'the quiet link, pinged at every sweep');
  advance(50);
  assert.equal(dead, 'silent', 'silent for longer than deadAfterMs: dead at the next sweep');
  assert.equal(sweep.size, 1);
  assert.equal(frames.silent.length, 4, 'a dead link is not pinged');
  assert.deepEqual(frames.chatty, [], 'a link heard from within the interval needs no ping');
  // Pings from the other end are answered, whoever runs the timer.
  assert.equal(chatty.answer({ v: 1, type: 'ping', t: 7 } as never), true);
  assert.deepEqual(frames.chatty, [encodeMessage({ type: 'pong', t: 7 })]);
  chatty.stop();
  assert.equal(sweep.size, 0);
});

test('the descriptor budget: the soft limit read from /proc/self/limits, and what a relay needs', () => {
  const limits = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 4096                 files\n';
  assert.equal(softOpenFilesLimit(limits), 1024);
  assert.equal(softOpenFilesLimit(limits.replace('1024 ', 'unlimited ')), undefined);
  assert.equal(softOpenFilesLimit('garbage'), undefined);
  assert.ok(Number.isSafeInteger(softOpenFilesLimit()), 'this process has a limit');
  // 10,000 channels with a listener each, 128 log files: more than 1,024.
  assert.equal(descriptorsNeeded({ maxChannels: 10_000, maxOpenLogFiles: 128, storeConnections: 0 }), 10_352);
  assert.equal(logFilesWithin(1024), 128);
  assert.equal(logFilesWithin(128), 16);
  assert.equal(logFilesWithin(undefined), 128);
  assert.equal(connectionsAllowed(1024, { maxOpenLogFiles: 128, storeConnections: 0 }), 736);
});
