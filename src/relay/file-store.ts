import { open, readFile, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { ensurePrivateDir } from '../config/state-dir.js';
import { CHANNEL_ID_PATTERN } from '../protocol/index.js';
import { FileEventLog, type FileLogTuning } from './file-log.js';
import { fsyncPath } from './fsync.js';
import type { ChannelRecord, ChannelStore, DroppedRange, EventLog, RetentionPolicy } from './store.js';

const CHANNEL_FILE = 'channel.json';

export interface FileChannelStoreOptions {
  dataDir: string;
  retention: RetentionPolicy;
  onDropped?: (dropped: DroppedRange) => void;
  tuning?: FileLogTuning;
}


function parseRecord(text: string): ChannelRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<ChannelRecord>;
    if (typeof value.id !== 'string' || typeof value.tokenHash !== 'string' || typeof value.createdAt !== 'string') return undefined;
    return { id: value.id, tokenHash: value.tokenHash, createdAt: value.createdAt };
  } catch {
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
  private readonly logs = new Map<string, Promise<FileEventLog>>();
  private readonly opened: FileEventLog[] = [];
  /** Creations under way: they count against the cap before they are on disk. */
  private creating = 0;

  private constructor(private readonly options: FileChannelStoreOptions) {}

  private get channelsDir(): string {
    return path.join(this.options.dataDir, 'channels');
  }

  static async open(options: FileChannelStoreOptions): Promise<FileChannelStore> {
    const store = new FileChannelStore(options);
    await ensurePrivateDir(options.dataDir);
    await ensurePrivateDir(store.channelsDir);
    for (const entry of await readdir(store.channelsDir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !CHANNEL_ID_PATTERN.test(entry.name)) continue;
      const text = await readFile(path.join(store.channelsDir, entry.name, CHANNEL_FILE), 'utf8').catch(() => '');
      const record = parseRecord(text);
      // A folder without a complete record was never acknowledged with a 201: ignore it.
      if (record && record.id === entry.name) store.records.set(record.id, record);
    }
    return store;
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

  private async writeRecord(record: ChannelRecord): Promise<void> {
    const dir = path.join(this.channelsDir, record.id);
    await ensurePrivateDir(dir);
    const file = path.join(dir, CHANNEL_FILE);
    const handle = await open(`${file}.tmp`, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
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
      log = FileEventLog.open(id, path.join(this.channelsDir, id), this.options.retention, this.options.onDropped, this.options.tuning);
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
  }
}
