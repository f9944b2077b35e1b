import { open, readFile, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../config/state-dir.js';
import { CHANNEL_ID_PATTERN } from '../protocol/index.js';
import { lockDataDir, type DataDirLock, type LockHolder } from './data-dir-lock.js';
import { FileEventLog, type FileLogTuning } from './file-log.js';
import { fsyncPath } from './fsync.js';
import { DEFAULT_MAX_OPEN_LOG_FILES, OpenFileBudget } from './open-file-budget.js';
import { forEachLimited } from '../util/for-each-limited.js';
import { parseCustomAnswer, type CustomAnswer } from './custom-answer.js';
import type { ChannelRecord, ChannelStore, DroppedRange, EventLog, RetentionPolicy, TokenReplacement } from './store.js';
import { debugSkipped, skipped } from '../util/debug.js';

const CHANNEL_FILE = 'channel.json';
/** The channel's custom answer (custom-answer.ts), when one is set. */
const ANSWER_FILE = 'answer.json';
/** A deleted channel's folder is renamed to this prefix first (one atomic step), then removed. */
const DELETED_PREFIX = '.deleted-';

export interface FileChannelStoreOptions {
  dataDir: string;
  retention: RetentionPolicy;
  onDropped?: (dropped: DroppedRange) => void;
  tuning?: FileLogTuning;
  /** The folder's lock was left by a relay that is gone (kill -9): this one took it over. */
  onLockTakenOver?: (holder: LockHolder) => void;
  /** Channel log files open at once, all channels together; default DEFAULT_MAX_OPEN_LOG_FILES. */
  maxOpenLogFiles?: number;
}

/** Channel records read at once at start-up: quick with 10,000 channels, few descriptors. */
const LOAD_CONCURRENCY = 32;


function parseRecord(text: string): ChannelRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ChannelRecord>;
    if (typeof value.id !== 'string' || typeof value.tokenHash !== 'string' || typeof value.createdAt !== 'string') return undefined;
    return { id: value.id, tokenHash: value.tokenHash, createdAt: value.createdAt };
  } catch (error) {
    debugSkipped('a channel record that does not parse (the channel is not loaded)', error);
    return undefined;
  }
}

/**
 * The embedded store: `<dataDir>/channels/<id>/` holds channel.json, state.json (cursor)
 * and the segment files. Folders 0700, files 0600: they hold other people's webhooks.
 * Channel records are few and small, so all are loaded at start; logs open on first use.
 */
export class FileChannelStore implements ChannelStore {
  private readonly records = new Map<string, ChannelRecord>();
  private readonly answers = new Map<string, CustomAnswer>();
  private readonly logs = new Map<string, Promise<FileEventLog>>();
  private readonly opened: FileEventLog[] = [];
  /** Creations under way: they count against the cap before they are on disk. */
  private creating = 0;
  /** Per channel: the rotation or deletion under way. */
  private readonly changing = new Map<string, Promise<unknown>>();
  /** Every log's open files together stay under this bound, whatever the channel count. */
  readonly openFiles: OpenFileBudget;

  private constructor(
    private readonly options: FileChannelStoreOptions,
    private readonly lock: DataDirLock,
  ) {
    this.openFiles = new OpenFileBudget(options.maxOpenLogFiles ?? DEFAULT_MAX_OPEN_LOG_FILES);
  }

  private get channelsDir(): string {
    return path.join(this.options.dataDir, 'channels');
  }

  static async open(options: FileChannelStoreOptions): Promise<FileChannelStore> {
    await ensurePrivateDir(options.dataDir);
    const lock = await lockDataDir(options.dataDir);
    try {
      const store = new FileChannelStore(options, lock);
      await store.load();
      if (lock.takenOverFrom) options.onLockTakenOver?.(lock.takenOverFrom);
      return store;
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private async load(): Promise<void> {
    await ensurePrivateDir(this.channelsDir);
    await forEachLimited(await readdir(this.channelsDir, { withFileTypes: true }), LOAD_CONCURRENCY, async (entry) => {
      // A deletion a crash interrupted: the channel was already gone from the relay's view.
      if (entry.name.startsWith(DELETED_PREFIX)) {
        await rm(path.join(this.channelsDir, entry.name), { recursive: true, force: true });
        return;
      }
      if (!entry.isDirectory() || !CHANNEL_ID_PATTERN.test(entry.name)) return;
      const text = await readFile(path.join(this.channelsDir, entry.name, CHANNEL_FILE), 'utf8').catch(
        skipped('a channel record (unreadable: the channel is not loaded)', ''),
      );
      const record = parseRecord(text);
      // A folder without a complete record was never acknowledged with a 201: ignore it.
      if (record && record.id === entry.name) this.records.set(record.id, record);
      const answer = record
        ? await readFile(path.join(this.channelsDir, entry.name, ANSWER_FILE), 'utf8').then(parseCustomAnswer, () => undefined)
        : undefined;
      if (record && answer !== undefined && typeof answer !== 'string') this.answers.set(record.id, answer);
    });
  }

  async createChannel(record: ChannelRecord, maxChannels = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (!CHANNEL_ID_PATTERN.test(record.id)) throw new Error(`invalid channel id ${record.id}`);
    if (this.records.size + this.creating >= maxChannels) return false;
    this.creating += 1;
    try {
      await this.writeRecord(record);
    } finally {
      this.creating -= 1;
    }
    this.records.set(record.id, record);
    return true;
  }

  replaceToken(id: string, change: TokenReplacement): Promise<'replaced' | 'unknown' | 'changed'> {
    return this.oneAtATime(id, async () => {
      const record = this.records.get(id);
      if (!record) return 'unknown';
      if (record.tokenHash !== change.from) return 'changed';
      const next = { ...record, tokenHash: change.to };
      await this.writeRecord(next);
      this.records.set(id, next);
      return 'replaced';
    });
  }

  deleteChannel(id: string): Promise<boolean> {
    return this.oneAtATime(id, async () => {
      const record = this.records.get(id);
      if (!record) return false;
      // Gone from the relay's view at once: posts get 404 while the files are removed.
      this.records.delete(id);
      this.answers.delete(id);
      const log = this.logs.get(id);
      this.logs.delete(id);
      const opened = await log?.catch(skipped("closing a deleted channel's log (it never opened)"));
      if (opened) {
        this.opened.splice(this.opened.indexOf(opened), 1);
        // Appends already under way finish first; later ones are refused.
        await opened.close();
      }
      const doomed = path.join(this.channelsDir, `${DELETED_PREFIX}${id}`);
      try {
        await rename(path.join(this.channelsDir, id), doomed);
        await fsyncPath(this.channelsDir);
      } catch (error) {
        this.records.set(id, record);
        throw error;
      }
      await rm(doomed, { recursive: true, force: true });
      return true;
    });
  }

  /** Rotations and deletions of one channel run one after the other (a rotation must not rewrite a folder being deleted). */
  private oneAtATime<T>(id: string, change: () => Promise<T>): Promise<T> {
    const previous = this.changing.get(id) ?? Promise.resolve();
    const next = previous.then(change, change);
    const settled = next.catch(() => undefined);
    this.changing.set(id, settled);
    void settled.then(() => this.changing.get(id) === settled && this.changing.delete(id));
    return next;
  }

  async customAnswer(id: string): Promise<CustomAnswer | undefined> {
    return this.answers.get(id);
  }

  setCustomAnswer(id: string, answer: CustomAnswer | undefined): Promise<boolean> {
    return this.oneAtATime(id, async () => {
      if (!this.records.has(id)) return false;
      const file = path.join(this.channelsDir, id, ANSWER_FILE);
      if (answer === undefined) {
        await rm(file, { force: true });
        await fsyncPath(path.dirname(file));
        this.answers.delete(id);
      } else {
        await this.writeChannelFile(id, ANSWER_FILE, answer);
        this.answers.set(id, answer);
      }
      return true;
    });
  }

  private writeRecord(record: ChannelRecord): Promise<void> {
    return this.writeChannelFile(record.id, CHANNEL_FILE, record);
  }

  /** Replaces one small JSON file in a channel's folder atomically and durably. */
  private async writeChannelFile(id: string, name: string, value: unknown): Promise<void> {
    const dir = path.join(this.channelsDir, id);
    await ensurePrivateDir(dir);
    const file = path.join(dir, name);
    const handle = await open(`${file}.tmp`, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(value));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(`${file}.tmp`, file);
    await fsyncPath(dir);
    await fsyncPath(this.channelsDir);
  }

  async channel(id: string): Promise<ChannelRecord | undefined> {
    return this.records.get(id);
  }

  async log(id: string): Promise<EventLog | undefined> {
    if (!this.records.has(id)) return undefined;
    let log = this.logs.get(id);
    if (!log) {
      const tuning = { ...this.options.tuning, openFiles: this.openFiles };
      // Scanning the last segment holds a file open: within the budget like appends.
      const dir = path.join(this.channelsDir, id);
      log = this.openFiles.withSlot(() => FileEventLog.open(id, dir, this.options.retention, this.options.onDropped, tuning));
      this.logs.set(id, log);
      log.then(
        (opened) => this.opened.push(opened),
        () => this.logs.delete(id),
      );
    }
    return log;
  }

  openLogs(): EventLog[] {
    return [...this.opened];
  }

  async close(): Promise<void> {
    const logs = await Promise.allSettled(this.logs.values());
    for (const result of logs) if (result.status === 'fulfilled') await result.value.close();
    await this.lock.release();
  }
}
