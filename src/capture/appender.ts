import { close, constants, fchmod, fdatasync, fstat, open, read, write } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { STATE_DIR_NAME, ensurePrivateDir } from '../config/state-dir.js';

/**
 * Appending with O_DSYNC makes each write(2) return only once its bytes (and the file
 * size) are on disk, as write + fdatasync would, in one call and one thread-pool trip.
 * Where the flag does not exist, an fdatasync follows each write instead.
 */
const DSYNC: number | undefined = constants.O_DSYNC;
// Read-write, not write-only: the last byte is read once at open (see endsTorn).
const APPEND_FLAGS = constants.O_RDWR | constants.O_CREAT | constants.O_APPEND | (DSYNC ?? 0);

/**
 * The tool's own folder, and any folder made here, is private (0700). A folder the user
 * already has (the project root, for `--save captures.jsonl`) keeps its mode.
 */
async function ensureCapturesDir(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined || path.basename(dir) === STATE_DIR_NAME) await ensurePrivateDir(dir);
}

/**
 * How long a batch may wait for lines announced as on their way (`expectLine`) before it
 * is written anyway. Each synced write costs ~0.3 ms of kernel CPU on the machines
 * measured, whatever its size, so under load a millisecond of waiting saves more than it
 * costs; with nothing announced (one request at a time) nobody waits.
 */
const GROUP_WAIT_MS = 1;

/**
 * Does the file end in the middle of a line? A crash can leave a record half written;
 * the next one must start on a line of its own, or it is glued onto the fragment and
 * lost with it (verify then reports the fragment alone as one broken line).
 */
function endsTorn(fd: number): Promise<boolean> {
  return new Promise((resolve, reject) => {
    fstat(fd, (statError, stats) => {
      if (statError) return reject(statError);
      if (stats.size === 0) return resolve(false);
      const last = Buffer.alloc(1);
      read(fd, last, 0, 1, stats.size - 1, (readError) => (readError ? reject(readError) : resolve(last[0] !== 0x0a)));
    });
  });
}

interface PendingLine {
  data: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

/** Writes all of `bytes` at the end of the file, then syncs when the flag could not. */
function writeDurably(fd: number, bytes: Buffer, done: (error: Error | null) => void): void {
  write(fd, bytes, 0, bytes.length, null, (error, written) => {
    if (error) return done(error);
    // A regular file takes it all at once; a short write (disk full on the way) goes on.
    if (written < bytes.length) return writeDurably(fd, bytes.subarray(written), done);
    if (DSYNC !== undefined) return done(null);
    fdatasync(fd, (syncError) => done(syncError));
  });
}

/**
 * Appends lines to a file durably: `append()` resolves only once the line is on disk.
 * Appends that arrive while a write is in flight are written and synced together by the
 * next one (group commit), so durability costs one synced write per batch, not per line.
 */
export class DurableAppender {
  private fd: number | undefined;
  private opening: Promise<number> | undefined;
  private pending: PendingLine[] = [];
  private flushing = false;
  private closed = false;
  private drained: Array<() => void> = [];
  /** The batch is waiting for lines on their way (GROUP_WAIT_MS at most). */
  private waitTimer: NodeJS.Timeout | undefined;
  /** Lines announced by `expectLine()` and not appended (or withdrawn) yet. */
  private expected = 0;
  /** The file ended in a torn line when opened: the first batch starts with a newline. */
  private torn = false;

  constructor(readonly file: string) {}

  /**
   * Announces a line that will be appended soon (a request being forwarded now), so that
   * a batch about to be written waits for it; `append` or `withdrawLine` settles it.
   */
  expectLine(): void {
    this.expected++;
  }

  /** An announced line that will not come after all. */
  withdrawLine(): void {
    if (this.expected > 0) this.expected--;
    if (this.expected === 0 && this.waitTimer !== undefined) this.stopWaiting();
  }

  private async openFile(): Promise<number> {
    this.opening ??= (async () => {
      await ensureCapturesDir(path.dirname(this.file));
      // 0600: captures hold other people's webhook bodies and headers (a file that
      // already exists keeps its mode at open, hence the chmod).
      const fd = await new Promise<number>((resolve, reject) => open(this.file, APPEND_FLAGS, 0o600, (error, opened) => (error ? reject(error) : resolve(opened))));
      await new Promise<void>((resolve, reject) => fchmod(fd, 0o600, (error) => (error ? reject(error) : resolve())));
      this.torn = await endsTorn(fd);
      return fd;
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
      if (this.expected > 0) this.expected--;
      this.pending.push({ data: `${line}\n`, resolve, reject });
      if (this.waitTimer !== undefined) {
        // Everyone expected is here: no reason to wait longer.
        if (this.expected === 0) this.stopWaiting();
        return;
      }
      if (this.flushing) return;
      // Lines on their way join this batch (for GROUP_WAIT_MS at most); with none on
      // their way (one request at a time), it is written at once.
      if (this.expected > 0) {
        this.flushing = true;
        this.waitTimer = setTimeout(this.flushNow, GROUP_WAIT_MS);
      } else {
        this.flush();
      }
    });
  }

  private stopWaiting(): void {
    clearTimeout(this.waitTimer);
    this.waitTimer = undefined;
    this.flush();
  }

  private readonly flushNow = (): void => {
    this.waitTimer = undefined;
    this.flush();
  };

  /** Writes everything pending as one batch; when it is durable, the next batch goes. */
  private flush(): void {
    if (this.pending.length === 0) {
      this.flushing = false;
      for (const resolve of this.drained.splice(0)) resolve();
      return;
    }
    this.flushing = true;
    if (this.fd === undefined) {
      this.openFile().then(
        (fd) => {
          this.fd = fd;
          this.flush();
        },
        (error: Error) => this.settle(this.takeBatch(), error),
      );
      return;
    }
    const batch = this.takeBatch();
    let text = this.torn ? '\n' : '';
    for (const line of batch) text += line.data;
    writeDurably(this.fd, Buffer.from(text, 'utf8'), (error) => {
      // A failed write may itself have left part of a line (disk full): the next batch
      // starts on a fresh line then, at worst after a blank one, which readers skip.
      this.torn = error !== null;
      this.settle(batch, error);
    });
  }

  private takeBatch(): PendingLine[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  private settle(batch: PendingLine[], error: Error | null): void {
    for (const line of batch) {
      if (error) line.reject(error);
      else line.resolve();
    }
    this.flush();
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing) await new Promise<void>((resolve) => this.drained.push(resolve));
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
  }
}
