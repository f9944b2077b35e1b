import { close, constants, fchmod, fdatasync, fstat, open, read, write } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { STATE_DIR_NAME, ensurePrivateDir } from '../config/state-dir.js';
import { debugSkipped } from '../util/debug.js';

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
  /** Null once the line is durable; the error when the file refused it. */
  done: (error: Error | null) => void;
}

/**
 * Writes all of `bytes` at the end of the file, then syncs when the flag could not. On
 * an error, `done` also gets the bytes not written yet (a disk that fills up part way
 * takes the start of a batch), so they can follow later and complete the line.
 */
function writeDurably(fd: number, bytes: Buffer, done: (error: Error | null, unwritten: Buffer) => void): void {
  write(fd, bytes, 0, bytes.length, null, (error, written) => {
    if (error) return done(error, bytes);
    // A regular file takes it all at once; a short write (disk full on the way) goes on.
    if (written < bytes.length) return writeDurably(fd, bytes.subarray(written), done);
    if (DSYNC !== undefined) return done(null, bytes.subarray(bytes.length));
    fdatasync(fd, (syncError) => done(syncError, bytes.subarray(bytes.length)));
  });
}

/**
 * A line's outcome to its caller. A caller's callback that throws is a bug of its own: it
 * surfaces as an uncaught error, without leaving the rest of the batch unanswered.
 */
function tell(line: PendingLine, error: Error | null): void {
  try {
    line.done(error);
  } catch (thrown) {
    queueMicrotask(() => {
      throw thrown;
    });
  }
}

/** Waits between attempts to write lines the file refused (disk full): quick, then every few seconds. */
const STALL_RETRY_INITIAL_MS = 250;
const STALL_RETRY_MAX_MS = 4_000;

/**
 * The file refused a write (no space left, quota, permissions...). The lines are not
 * lost: the appender keeps them in memory and writes them, in order, once the file takes
 * writes again; `append()` rejects with this meanwhile so the caller can hold new work.
 */
export class AppendStalledError extends Error {
  override name = 'AppendStalledError';
  constructor(
    readonly file: string,
    readonly reason: Error,
  ) {
    super(`cannot write ${file}: ${describeFsError(reason)}`);
  }
}

/** `ENOSPC: no space left on device, write` → `no space left on device`. */
export function describeFsError(error: Error): string {
  const match = /^[A-Z0-9_]+: (.*?)(?:, [a-z]+(?: .*)?)?$/.exec(error.message);
  return match?.[1] ?? error.message;
}

export interface AppenderHooks {
  /** The file refused a write: said once per stall, with why. */
  onStall?: (error: AppendStalledError) => void;
  /** The kept lines are on disk again and appends go through. */
  onResume?: () => void;
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
  /** Set while the file refuses writes: the bytes it did not take, written first once it does. */
  private unstalling: Promise<boolean> | undefined;
  private stall: { error: AppendStalledError; unwritten: Buffer; attempt: number; timer: NodeJS.Timeout | undefined } | undefined;
  /** The file ended in a torn line when opened: the first batch starts with a newline. */
  private torn = false;

  constructor(
    readonly file: string,
    private readonly hooks: AppenderHooks = {},
  ) {}

  /** Why the file refuses writes now; undefined while it takes them. */
  get stalled(): AppendStalledError | undefined {
    return this.stall?.error;
  }

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
      const fd = await new Promise<number>((resolve, reject) =>
        open(this.file, APPEND_FLAGS, 0o600, (error, opened) => (error ? reject(error) : resolve(opened))),
      );
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
    return new Promise((resolve, reject) => this.appendLine(line, (error) => (error === null ? resolve() : reject(error))));
  }

  /**
   * append() for hot paths: `done` gets null once the line is durable, or the error (an
   * AppendStalledError while the file refuses writes: the line is kept and written later).
   * No promise per line. `done` may run before this returns (closed, stalled).
   */
  appendLine(line: string, done: (error: Error | null) => void): void {
    if (this.closed) return done(new Error(`${this.file} is closed`));
    if (this.expected > 0) this.expected--;
    if (this.stall) {
      // Kept behind the lines the file refused, written with them when it takes writes again.
      this.stall.unwritten = Buffer.concat([this.stall.unwritten, Buffer.from(`${line}\n`, 'utf8')]);
      return done(this.stall.error);
    }
    this.pending.push({ data: `${line}\n`, done });
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
        (error: Error) => {
          const batch = this.takeBatch();
          this.settle(batch, error, Buffer.from(batch.map((line) => line.data).join(''), 'utf8'));
        },
      );
      return;
    }
    const batch = this.takeBatch();
    let text = this.torn ? '\n' : '';
    for (const line of batch) text += line.data;
    // The newline that ends a torn last line goes once; if this write fails, the bytes the
    // file did not take (newline included) are kept and written first, so no line is torn.
    this.torn = false;
    writeDurably(this.fd, Buffer.from(text, 'utf8'), (error, unwritten) => this.settle(batch, error, unwritten));
  }

  private takeBatch(): PendingLine[] {
    const batch = this.pending;
    this.pending = [];
    return batch;
  }

  private settle(batch: PendingLine[], error: Error | null, unwritten: Buffer): void {
    if (error) return this.stallOn(error, batch, unwritten);
    for (const line of batch) tell(line, null);
    this.next();
  }

  /**
   * The batch after a synced write: lines announced as on their way join it first
   * (GROUP_WAIT_MS at most, less once they are all here). Under load a write would
   * otherwise take the two or three lines that came during the last one, and each synced
   * write costs the same kernel time whatever its size.
   */
  private next(): void {
    if (this.pending.length > 0 && this.expected > 0) {
      this.waitTimer = setTimeout(this.flushNow, GROUP_WAIT_MS);
      return;
    }
    this.flush();
  }

  /** The file refused a batch: keep its bytes (and everything after), say so once, try again later. */
  private stallOn(cause: Error, batch: PendingLine[], unwritten: Buffer): void {
    const error = new AppendStalledError(this.file, cause);
    const later = this.takeBatch();
    this.stall = {
      error,
      unwritten: Buffer.concat([unwritten, ...later.map((line) => Buffer.from(line.data, 'utf8'))]),
      attempt: 0,
      timer: undefined,
    };
    for (const line of [...batch, ...later]) tell(line, error);
    this.flushing = false;
    for (const resolve of this.drained.splice(0)) resolve();
    this.hooks.onStall?.(error);
    this.scheduleUnstall();
  }

  private scheduleUnstall(): void {
    const stall = this.stall;
    if (!stall || this.closed) return;
    const waitMs = Math.min(STALL_RETRY_MAX_MS, STALL_RETRY_INITIAL_MS * 2 ** Math.min(stall.attempt, 10));
    stall.attempt++;
    stall.timer = setTimeout(() => void this.unstall().then((ok) => ok || this.scheduleUnstall()), waitMs);
  }

  /** Writes the kept bytes; true once they are all on disk and appends go through again. */
  private unstall(): Promise<boolean> {
    // One attempt at a time (the timer's and close()'s): the same bytes must not go twice.
    this.unstalling ??= this.tryUnstall().finally(() => (this.unstalling = undefined));
    return this.unstalling;
  }

  private async tryUnstall(): Promise<boolean> {
    const stall = this.stall;
    if (!stall) return true;
    try {
      this.fd ??= await this.openFile();
    } catch (error) {
      debugSkipped('reopening the captures file (still stalled)', error);
      return false;
    }
    if (this.torn) {
      stall.unwritten = Buffer.concat([Buffer.from('\n'), stall.unwritten]);
      this.torn = false;
    }
    const fd = this.fd;
    const rest = await new Promise<Buffer | undefined>((resolve) =>
      writeDurably(fd, stall.unwritten, (error, unwritten) => resolve(error ? unwritten : undefined)),
    );
    if (rest !== undefined) {
      stall.unwritten = rest;
      return false;
    }
    clearTimeout(stall.timer);
    this.stall = undefined;
    this.hooks.onResume?.();
    this.flush();
    return true;
  }

  /** Waits for pending appends, then closes the file. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.flushing) await new Promise<void>((resolve) => this.drained.push(resolve));
    if (this.stall) {
      // One last try for the kept lines; if the file still refuses them, say how many are lost.
      clearTimeout(this.stall.timer);
      const lost = this.stall;
      if (!(await this.unstall())) {
        await this.closeFd();
        throw new Error(
          `${lost.error.message}; ${
            lost.unwritten
              .toString('utf8')
              .split('\n')
              .filter((line) => line !== '').length
          } capture line(s) could not be written`,
        );
      }
    }
    await this.closeFd();
  }

  private async closeFd(): Promise<void> {
    const fd = this.fd;
    this.fd = undefined;
    if (fd !== undefined) await new Promise<void>((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
  }
}
