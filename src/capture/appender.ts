import { mkdir, open, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { STATE_DIR_NAME, ensurePrivateDir } from '../config/state-dir.js';

/**
 * The tool's own folder, and any folder made here, is private (0700). A folder the user
 * already has (the project root, for `--save captures.jsonl`) keeps its mode.
 */
async function ensureCapturesDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined || path.basename(dir) === STATE_DIR_NAME) await ensurePrivateDir(dir);
}

/**
 * Appends lines to a file durably: `append()` resolves only once the line is on disk
 * (fdatasync). Appends that arrive while a sync is in flight are written and synced
 * together (group commit), so durability costs one sync per batch, not per line.
 */
export class DurableAppender {
  private handle: FileHandle | undefined;
  private opening: Promise<FileHandle> | undefined;
  private pending: Array<{ data: string; resolve: () => void; reject: (e: Error) => void }> = [];
  private flushing = false;
  private closed = false;

  constructor(readonly file: string) {}

  private async fileHandle(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    this.opening ??= (async () => {
      await ensureCapturesDir(path.dirname(this.file));
      // 0600: captures hold other people's webhook bodies and headers.
      const handle = await open(this.file, 'a', 0o600);
      await handle.chmod(0o600);
      this.handle = handle;
      return handle;
    })();
    try {
      return await this.opening;
    } catch (error) {
      this.opening = undefined;
      throw error;
    }
  }

  /** Appends one line (a newline is added) and resolves when it is durable. */
  append(line: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error(`${this.file} is closed`));
    return new Promise((resolve, reject) => {
      this.pending.push({ data: `${line}\n`, resolve, reject });
      if (!this.flushing) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        const handle = await this.fileHandle();
        await handle.write(batch.map((p) => p.data).join(''));
        await handle.datasync();
        for (const p of batch) p.resolve();
      } catch (error) {
        for (const p of batch) p.reject(error as Error);
      }
    }
    this.flushing = false;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing || this.pending.length > 0) await new Promise((r) => setImmediate(r));
    await this.handle?.close();
    this.handle = undefined;
  }
}
