import { writeSync } from 'node:fs';
import { open, readFile, readdir, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { readCompleteLines } from './file-lines.js';
import { fsyncPath } from './fsync.js';
import { OpenFileBudget, type ParkedFileHolder } from './open-file-budget.js';
import { loadLogId } from './log-identity.js';
import { readNotices } from '../protocol/index.js';
import type { DroppedRange, EventLog, EventOutcome, NewEvent, RetentionPolicy, StoredEvent } from './store.js';
import { debugSkipped, skipped } from '../util/debug.js';

/** A segment file is closed and a new one started past either bound; retention drops whole files. */
const SEGMENT_MAX_EVENTS = 10_000;
const SEGMENT_MAX_BYTES = 64 * 1024 * 1024;
/** Recent events kept in memory so a caught-up listener is served without reading the disk. */
const RECENT_MAX_EVENTS = 512;
const RECENT_MAX_BYTES = 8 * 1024 * 1024;
/** The cursor file is rewritten at most this often: losing the last write only means a redelivery. */
const STATE_FLUSH_MS = 200;
/** A log untouched this long gives its recent events back to the heap (the next read goes to disk). */
const RECENT_IDLE_MS = 60_000;
const SEGMENT_SUFFIX = '.jsonl';
/**
 * A batch this small is written to the page cache on the main thread (microseconds): a
 * trip through the thread pool costs more than the copy. Bigger ones go asynchronously.
 */
const SYNC_WRITE_MAX_BYTES = 1024 * 1024;
const STATE_FILE = 'state.json';

interface Segment {
  first: number;
  file: string;
}

interface PendingAppend {
  event: NewEvent;
  written: ((seq: number) => void) | undefined;
  resolve: (seq: number) => void;
  reject: (error: Error) => void;
  /** Given when the event is written. */
  seq: number;
}

const segmentName = (first: number): string => `${String(first).padStart(16, '0')}${SEGMENT_SUFFIX}`;

/** `{"seq":N,...`: the seq without parsing the whole (possibly 30 MB) line. */
function lineSeq(text: string): number {
  if (!text.startsWith('{"seq":')) return Number.NaN;
  return Number(text.slice(7, text.indexOf(',', 7)));
}

/** A new event as stored, its fields in the order a line read back has them (one object shape for both). */
function storedEvent(seq: number, event: NewEvent): StoredEvent {
  return {
    seq,
    receivedAt: event.receivedAt.toISOString(),
    method: event.method,
    path: event.path,
    rawHeaders: event.rawHeaders,
    body: event.body,
  };
}

function encodeLine(event: StoredEvent): string {
  return `${JSON.stringify({
    seq: event.seq,
    receivedAt: event.receivedAt,
    method: event.method,
    path: event.path,
    rawHeaders: event.rawHeaders,
    body: event.body.toString('base64'),
  })}\n`;
}

function writeAll(fd: number, data: Buffer): void {
  for (let offset = 0; offset < data.length; ) offset += writeSync(fd, data, offset);
}

function decodeLine(text: string): StoredEvent | undefined {
  try {
    const value = JSON.parse(text) as Omit<StoredEvent, 'body'> & { body: string };
    if (!Number.isSafeInteger(value.seq) || typeof value.body !== 'string') return undefined;
    return { ...value, body: Buffer.from(value.body, 'base64') };
  } catch (error) {
    debugSkipped('a stored line that does not decode (torn: the log ends before it)', error);
    return undefined;
  }
}


/**
 * One channel's log as segment files of JSON lines in its folder. Appends are group
 * committed (one fdatasync per batch) and seqs are given at write time, so a failed
 * write (disk full) is cut back off the file and no seq is ever burnt or reused.
 */
export interface FileLogTuning {
  /** Events per segment file (tests make it small to see rollover and retention). */
  segmentMaxEvents?: number;
  /** Shared by all logs of a store: bounds the files they hold open (none: unbounded). */
  openFiles?: OpenFileBudget;
}

export class FileEventLog implements EventLog, ParkedFileHolder {
  private headSeq = 0;
  private firstSeq = 1;
  private ackedSeq = 0;
  private pushedSeq = 0;
  /** The listener's retry outcomes by seq, kept in the state file with the cursor. */
  private readonly outcomeMap = new Map<number, EventOutcome>();
  /** State file writes, one after the other (the timer's and the outcomes' own). */
  private stateWrites: Promise<void> = Promise.resolve();
  private handle: FileHandle | undefined;
  private segmentEvents = 0;
  private segmentBytes = 0;
  /** Appends not written yet: they go in one write at the end of this turn of the event loop. */
  private pending: PendingAppend[] = [];
  private writeScheduled = false;
  /** A write in progress (asynchronous only for a big batch or a new segment file). */
  private writing: Promise<void> | undefined;
  /** Written and readable, waiting for the sync that makes them durable. */
  private unsynced: PendingAppend[] = [];
  /** The one fdatasync in flight: it covers what was written before it started. */
  private syncing: Promise<void> | undefined;
  /** Between the first write and idle again the log holds its open-file slot. */
  private holdsSlot = false;
  private recent: StoredEvent[] = [];
  private recentBytes = 0;
  private stateTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private lastUsedMs = Date.now();

  private constructor(
    readonly channel: string,
    readonly id: string,
    private readonly dir: string,
    private readonly retention: RetentionPolicy,
    private segments: Segment[],
    private readonly onDropped?: (dropped: DroppedRange) => void,
    private readonly segmentMaxEvents = SEGMENT_MAX_EVENTS,
    private readonly openFiles = new OpenFileBudget(Number.POSITIVE_INFINITY),
  ) {}

  /** Opens a channel folder, rebuilding head, first and cursor from disk; a torn last line is cut off. */
  static async open(
    channel: string,
    dir: string,
    retention: RetentionPolicy,
    onDropped?: (dropped: DroppedRange) => void,
    tuning: FileLogTuning = {},
  ): Promise<FileEventLog> {
    const names = (await readdir(dir)).filter((n) => /^\d{16}\.jsonl$/.test(n)).sort();
    const segments = names.map((n) => ({ first: Number(n.slice(0, 16)), file: path.join(dir, n) }));
    const id = await loadLogId(dir);
    const log = new FileEventLog(channel, id, dir, retention, segments, onDropped, tuning.segmentMaxEvents, tuning.openFiles);
    const last = segments.at(-1);
    // Only a regular file is scanned (a device or a FIFO would never end).
    if (last && (await stat(last.file)).isFile()) {
      let head = last.first - 1;
      let goodEnd = 0;
      let events = 0;
      for await (const line of readCompleteLines(last.file)) {
        if (lineSeq(line.text) !== head + 1 || !decodeLine(line.text)) break;
        head++;
        events++;
        goodEnd = line.end;
      }
      if ((await stat(last.file)).size > goodEnd) {
        const handle = await open(last.file, 'r+');
        await handle.truncate(goodEnd);
        await handle.sync();
        await handle.close();
      }
      log.headSeq = head;
      log.segmentEvents = events;
      log.segmentBytes = goodEnd;
    } else if (last) {
      log.headSeq = last.first - 1;
    }
    log.firstSeq = segments[0]?.first ?? 1;
    const state = await readState(path.join(dir, STATE_FILE));
    log.firstSeq = Math.min(Math.max(log.firstSeq, state.first ?? 1), log.headSeq + 1);
    log.ackedSeq = Math.min(state.acked ?? 0, log.headSeq);
    log.pushedSeq = Math.min(Math.max(state.pushed ?? 0, log.ackedSeq), log.headSeq);
    for (const outcome of state.outcomes ?? []) {
      if (outcome.seq >= log.firstSeq && outcome.seq <= log.headSeq) log.outcomeMap.set(outcome.seq, outcome);
    }
    return log;
  }

  head(): number {
    return this.headSeq;
  }

  first(): number {
    return this.firstSeq;
  }

  acked(): number {
    return this.ackedSeq;
  }

  append(event: NewEvent, written?: (seq: number) => void): Promise<number> {
    if (this.closed) return Promise.reject(new Error(`channel ${this.channel} is closed`));
    this.lastUsedMs = Date.now();
    return new Promise((resolve, reject) => {
      this.pending.push({ event, written, resolve, reject, seq: 0 });
      this.scheduleWrite();
    });
  }

  /**
   * Appends are pipelined: the events that came in during one turn of the event loop are
   * written together at its end (setImmediate), whether or not a sync is running, and are
   * readable (sendable to the listener) from then on. Syncs run one at a time, each
   * covering everything written before it started, so the disk stays busy and an event
   * never waits for another batch's sync before its own write. A sender is answered only
   * once its event's sync is done. Written but not synced, an event outlives a killed
   * relay (the page cache is the kernel's); only a machine that loses power first can
   * lose it, and then no sender was answered, and a listener that got it finds its
   * cursor past this log's head, or under another event, and is served again
   * (ChannelDelivery.startFor).
   */
  private scheduleWrite(): void {
    if (this.writeScheduled || this.writing) return;
    this.writeScheduled = true;
    setImmediate(this.writeNow);
  }

  private readonly writeNow = (): void => {
    this.writeScheduled = false;
    if (this.writing || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writing = this.writeBatch(batch)
      .catch((error: unknown) => {
        // Only waiting for a file slot can end here: nothing of the batch was written.
        for (const p of batch) if (p.seq === 0) p.reject(error as Error);
      })
      .finally(() => {
        this.writing = undefined;
        if (this.pending.length > 0) this.scheduleWrite();
        else this.parkWhenIdle();
      });
  };

  private async writeBatch(batch: PendingAppend[]): Promise<void> {
    if (!this.holdsSlot) {
      // The segment file stays open between batches unless the budget took it back meanwhile.
      if (!this.openFiles.unpark(this)) await this.openFiles.acquire();
      this.holdsSlot = true;
    }
    const size = this.segmentBytes;
    let data: Buffer;
    let stored: StoredEvent[];
    try {
      const handle = await this.segmentHandle();
      let seq = this.headSeq;
      stored = batch.map((p) => storedEvent(++seq, p.event));
      data = Buffer.from(stored.map(encodeLine).join(''));
      if (data.length <= SYNC_WRITE_MAX_BYTES) writeAll(handle.fd, data);
      else await handle.writeFile(data);
    } catch (error) {
      // Nobody saw this batch: it is cut back off the file and its seqs are not used.
      await this.cutBack(size);
      for (const p of batch) p.reject(error as Error);
      return;
    }
    this.segmentBytes += data.length;
    this.segmentEvents += batch.length;
    const firstNew = this.headSeq + 1;
    this.headSeq += batch.length;
    batch.forEach((p, i) => {
      p.seq = firstNew + i;
      this.remember(stored[i] as StoredEvent);
      this.unsynced.push(p);
      try {
        p.written?.(p.seq);
      } catch (error) {
        // The caller's business: the event is stored all the same.
        debugSkipped('a callback on a written event threw', error);
      }
    });
    this.startSync();
    if (this.headSeq - this.firstSeq + 1 > this.retention.maxEvents) {
      await this.dropBelow(this.headSeq - this.retention.maxEvents + 1, `more than ${this.retention.maxEvents} events`).catch(
        skipped('dropping events over the count limit (dropped at the next append or retention pass)'),
      );
    }
  }

  /** Starts a sync of everything written so far, unless one is running (it starts another when done). */
  private startSync(): void {
    if (this.syncing || this.unsynced.length === 0) return;
    const covered = this.unsynced;
    this.unsynced = [];
    // Everything unsynced is in the current segment: a new segment starts only once the
    // old one is synced (segmentHandle).
    const handle = this.handle as FileHandle;
    this.syncing = handle.datasync().then(
      () => {
        for (const p of covered) p.resolve(p.seq);
      },
      (error: unknown) => {
        // Readable already, maybe sent: these seqs stay taken (a failed sync cuts nothing back).
        for (const p of covered) p.reject(error as Error);
      },
    ).finally(() => {
      this.syncing = undefined;
      this.startSync();
      this.parkWhenIdle();
    });
  }

  /** Waits until everything written so far is synced (or its sync failed). */
  private async syncedAll(): Promise<void> {
    while (this.syncing || this.unsynced.length > 0) {
      this.startSync();
      await this.syncing;
    }
  }

  private get idle(): boolean {
    return !this.writeScheduled && !this.writing && !this.syncing && this.pending.length === 0 && this.unsynced.length === 0;
  }

  /** Idle again: the file slot is parked (kept open until the budget needs it) or given back. */
  private parkWhenIdle(): void {
    if (!this.idle) return;
    if (this.holdsSlot) {
      this.holdsSlot = false;
      if (this.handle) this.openFiles.park(this);
      else this.openFiles.release();
    }
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private readonly idleWaiters: Array<() => void> = [];

  private whenIdle(): Promise<void> {
    return this.idle ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** After a failed write: drop whatever part of the batch reached the file. */
  private async cutBack(size: number): Promise<void> {
    // What was written before this batch is synced on the same file first.
    await this.syncedAll();
    const handle = this.handle;
    this.handle = undefined;
    if (!handle) return;
    await handle.truncate(size).catch(skipped('truncating a torn segment'));
    await handle.close().catch(skipped('closing a torn segment'));
    this.segmentBytes = size;
  }

  /** The budget needs this log's slot: the next append reopens the segment (appends go to its end). */
  async closeParkedFile(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async segmentHandle(): Promise<FileHandle> {
    const full = this.segmentEvents >= this.segmentMaxEvents || this.segmentBytes >= SEGMENT_MAX_BYTES;
    if (this.handle && !full) return this.handle;
    if (full || this.segments.length === 0) {
      // What went into the old segment is made durable before its file is closed.
      await this.syncedAll();
      await this.handle?.close();
      this.handle = undefined;
      const segment = { first: this.headSeq + 1, file: path.join(this.dir, segmentName(this.headSeq + 1)) };
      const handle = await open(segment.file, 'a', 0o600);
      // The new file's name must survive a crash as well as its contents.
      await fsyncPath(this.dir).catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
      this.segments.push(segment);
      this.segmentEvents = 0;
      this.segmentBytes = 0;
      this.handle = handle;
      return handle;
    }
    const current = this.segments.at(-1) as Segment;
    this.handle = await open(current.file, 'a', 0o600);
    return this.handle;
  }

  private remember(stored: StoredEvent): void {
    this.recent.push(stored);
    this.recentBytes += stored.body.length;
    while (this.recent.length > RECENT_MAX_EVENTS || (this.recentBytes > RECENT_MAX_BYTES && this.recent.length > 1)) {
      this.recentBytes -= (this.recent.shift() as StoredEvent).body.length;
    }
  }

  async *read(after: number): AsyncGenerator<StoredEvent> {
    this.lastUsedMs = Date.now();
    let next = Math.max(after + 1, this.firstSeq);
    while (next <= this.headSeq) {
      const oldestRecent = this.recent[0]?.seq ?? Number.POSITIVE_INFINITY;
      if (next >= oldestRecent) {
        const event = this.recent[next - oldestRecent];
        if (!event) return;
        yield event;
        next++;
        continue;
      }
      let progressed = false;
      for await (const event of this.readDisk(next)) {
        if (event.seq < this.firstSeq) continue;
        yield event;
        next = event.seq + 1;
        progressed = true;
        if (next >= (this.recent[0]?.seq ?? Number.POSITIVE_INFINITY)) break;
      }
      if (!progressed) next = Math.max(next + 1, this.firstSeq);
    }
  }

  /** Streams stored events from `from` on, across segments, up to the current head. */
  private async *readDisk(from: number): AsyncGenerator<StoredEvent> {
    const start = Math.max(0, this.segments.findLastIndex((s) => s.first <= from));
    for (const segment of this.segments.slice(start)) {
      try {
        for await (const line of readCompleteLines(segment.file)) {
          const seq = lineSeq(line.text);
          if (!(seq >= from)) continue;
          if (seq > this.headSeq) return;
          const event = decodeLine(line.text);
          if (event) yield event;
        }
      } catch (error) {
        // Retention may delete a segment while it is being read: those events are gone.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }

  async ack(seq: number): Promise<void> {
    if (seq <= this.ackedSeq) return;
    this.ackedSeq = Math.min(seq, this.headSeq);
    this.scheduleState();
  }

  pushed(): number {
    return this.pushedSeq;
  }

  /**
   * Saved with the cursor (at most STATE_FLUSH_MS late): an event pushed just before a
   * relay crash may go out again unmarked. Everything acknowledged was pushed.
   */
  notePushed(seq: number): void {
    if (seq <= this.pushedSeq) return;
    this.pushedSeq = Math.min(seq, this.headSeq);
    this.scheduleState();
  }

  unpush(seq: number): void {
    if (seq >= this.pushedSeq) return;
    this.pushedSeq = Math.max(seq, this.ackedSeq);
    this.scheduleState();
  }

  async applyRetention(now: Date): Promise<DroppedRange | undefined> {
    // An idle channel costs its record and counters, not up to RECENT_MAX_BYTES of old bodies.
    if (now.getTime() - this.lastUsedMs >= RECENT_IDLE_MS && this.idle) {
      this.recent = [];
      this.recentBytes = 0;
    }
    if (this.headSeq - this.firstSeq + 1 > this.retention.maxEvents) {
      return this.dropBelow(this.headSeq - this.retention.maxEvents + 1, `more than ${this.retention.maxEvents} events`);
    }
    // Age at segment granularity: a segment's mtime is the time of its newest event.
    let first = this.firstSeq;
    for (let i = 0; i < this.segments.length; i++) {
      const segment = this.segments[i] as Segment;
      const end = (this.segments[i + 1]?.first ?? this.headSeq + 1) - 1;
      if (end < first) continue;
      const mtime = await stat(segment.file).then((s) => s.mtimeMs, () => 0);
      if (now.getTime() - mtime <= this.retention.maxAgeMs) break;
      first = end + 1;
    }
    return this.dropBelow(first, 'older than the age limit');
  }

  /** Forgets every event below `first`, oldest first, and deletes the segments that held only those. */
  private async dropBelow(first: number, reason: string): Promise<DroppedRange | undefined> {
    if (first <= this.firstSeq) return undefined;
    const dropped: DroppedRange = { channel: this.channel, from: this.firstSeq, to: first - 1, reason };
    this.firstSeq = first;
    // Never the segment being written.
    while (this.segments.length > 1 && (this.segments[1] as Segment).first <= first) {
      await rm((this.segments.shift() as Segment).file, { force: true });
    }
    this.scheduleState();
    this.onDropped?.(dropped);
    return dropped;
  }

  async outcomes(after: number): Promise<Map<number, EventOutcome>> {
    const found = new Map<number, EventOutcome>();
    for (const [seq, outcome] of this.outcomeMap) if (seq > after && seq >= this.firstSeq) found.set(seq, outcome);
    return found;
  }

  /** Written with the cursor, but at once and synced: the listener stops repeating what the relay confirms. */
  async noteOutcomes(outcomes: readonly EventOutcome[]): Promise<void> {
    let changed = false;
    for (const outcome of outcomes) {
      if (outcome.seq < this.firstSeq || outcome.seq > this.headSeq) continue;
      this.outcomeMap.set(outcome.seq, outcome);
      changed = true;
    }
    if (changed) await this.writeState(true);
  }

  private scheduleState(): void {
    if (this.stateTimer || this.closed) return;
    this.stateTimer = setTimeout(() => {
      this.stateTimer = undefined;
      void this.writeState().catch(skipped("writing the log's state file (written again at the next change)"));
    }, STATE_FLUSH_MS);
    this.stateTimer.unref();
  }

  /**
   * Replaces the state file with what is known when its turn comes (so a write queued
   * later never carries less). `durable`: synced, with its folder, before it resolves.
   */
  private writeState(durable = false): Promise<void> {
    const write = this.stateWrites.then(() => this.openFiles.withSlot(() => this.writeStateFile(durable)));
    this.stateWrites = write.catch(() => undefined);
    return write;
  }

  private async writeStateFile(wanted: boolean): Promise<void> {
    for (const seq of this.outcomeMap.keys()) if (seq < this.firstSeq) this.outcomeMap.delete(seq);
    // A file holding outcomes is never replaced unsynced: a crash must not take them (the
    // listener stopped repeating them once confirmed). Without, a lost write is a redelivery.
    const durable = wanted || this.outcomeMap.size > 0;
    const file = path.join(this.dir, STATE_FILE);
    const temp = `${file}.tmp`;
    const state = { first: this.firstSeq, acked: this.ackedSeq, pushed: this.pushedSeq, outcomes: [...this.outcomeMap.values()] };
    if (!durable) await writeFile(temp, JSON.stringify(state), { mode: 0o600 });
    else {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(JSON.stringify(state));
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
    await rename(temp, file);
    if (durable) await fsyncPath(this.dir);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.whenIdle();
    if (this.stateTimer) clearTimeout(this.stateTimer);
    this.stateTimer = undefined;
    await this.writeState().catch(skipped("writing the log's state file on close"));
    const handle = this.handle;
    this.handle = undefined;
    if (this.openFiles.unpark(this)) {
      await handle?.close();
      this.openFiles.release();
    }
  }
}

async function readState(file: string): Promise<{ first?: number; acked?: number; pushed?: number; outcomes?: EventOutcome[] }> {
  try {
    const value = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>;
    const seq = (v: unknown): number | undefined => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : undefined);
    // Checked as the listener's message was (none kept is the same as a state file from before outcomes).
    const kept = Array.isArray(value.outcomes) && value.outcomes.length > 0 ? readNotices(value.outcomes, Infinity) : undefined;
    const outcomes = typeof kept === 'string' ? undefined : kept;
    return { first: seq(value.first), acked: seq(value.acked), pushed: seq(value.pushed), ...(outcomes ? { outcomes } : {}) };
  } catch (error) {
    debugSkipped("reading the log's state file (rebuilt from the segments)", error);
    return {};
  }
}
