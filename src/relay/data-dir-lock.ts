import { readFileSync } from 'node:fs';
import { link, open, readFile, realpath, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { UserError } from '../errors.js';
import { debugSkipped, skipped } from '../util/debug.js';

/**
 * One relay per data folder: two relays on one folder hand out the same seqs and lose
 * events they answered 202. The lock is a file made with an atomic create-if-absent
 * (link(2) of a finished temporary file, so it is never seen half-written) holding the
 * holder's PID, host and process start time. A lock whose holder is gone (kill -9) is
 * taken over at start.
 *
 * Liveness: kill(pid, 0) (ESRCH: gone). PID reuse: on Linux the start time from
 * /proc/<pid>/stat (field 22) is recorded too, so a new process that got the old PID is
 * not mistaken for the holder; elsewhere the PID alone decides. Another host's lock
 * (a folder on shared storage) cannot be checked from here, so it is never taken over.
 */
export const LOCK_FILE = 'relay.lock';

/** Start attempts while another starter is taking over a stale lock. */
const ACQUIRE_ATTEMPTS = 20;
const ACQUIRE_RETRY_MS = 25;

export interface LockHolder {
  pid: number;
  host: string;
  /** Clock ticks since boot (Linux); absent where /proc is not there. */
  startTime?: string;
}

export class DataDirLockedError extends UserError {
  constructor(
    readonly dataDir: string,
    readonly holder: LockHolder,
  ) {
    super(
      holder.host === hostname()
        ? `The data folder ${dataDir} is in use by another relay (PID ${holder.pid}): stop it, or give this relay another --data-dir`
        : `The data folder ${dataDir} is in use by a relay on ${holder.host} (PID ${holder.pid}): stop it, or delete ` +
          `${path.join(dataDir, LOCK_FILE)} if it is no longer running`,
    );
    this.name = 'DataDirLockedError';
  }
}

export interface DataDirLock {
  /** The dead relay whose lock this one took over, if any. */
  takenOverFrom: LockHolder | undefined;
  /** Removes the lock if it is still this process's; safe to call twice. */
  release(): Promise<void>;
}

/** Lock files this process holds: a second store on the same folder in one process is refused too. */
const heldHere = new Set<string>();

function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count from its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch (error) {
    debugSkipped('reading the process start time from /proc', error);
    return undefined;
  }
}

function me(): LockHolder {
  const startTime = processStartTime(process.pid);
  return { pid: process.pid, host: hostname(), ...(startTime !== undefined ? { startTime } : {}) };
}

function sameHolder(a: LockHolder | undefined, b: LockHolder | undefined): boolean {
  return a?.pid === b?.pid && a?.host === b?.host && a?.startTime === b?.startTime;
}

function isRunning(holder: LockHolder, file: string): boolean {
  if (holder.host !== hostname()) return true;
  // Our own PID: held by this process, or left by an earlier process that had the same PID (a restarted container).
  if (holder.pid === process.pid) return heldHere.has(file);
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    // EPERM: it runs, as another user.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
  }
  const startTime = processStartTime(holder.pid);
  return holder.startTime === undefined || startTime === undefined || startTime === holder.startTime;
}

/** The lock's holder; 'missing' when there is no lock file; undefined when it cannot be read (no live relay wrote it). */
async function readHolder(file: string): Promise<LockHolder | 'missing' | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(value.pid) || (value.pid as number) <= 0 || typeof value.host !== 'string') return undefined;
    return { pid: value.pid as number, host: value.host, ...(typeof value.startTime === 'string' ? { startTime: value.startTime } : {}) };
  } catch (error) {
    debugSkipped('a lock file that does not parse (treated as stale)', error);
    return undefined;
  }
}

/** Creates `file` holding `holder` only if it does not exist; false when it does. */
async function createExclusive(file: string, holder: LockHolder): Promise<boolean> {
  const temp = `${file}.${process.pid}.tmp`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(JSON.stringify(holder));
  } finally {
    await handle.close();
  }
  try {
    await link(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    await unlink(temp).catch(skipped("removing the lock's temporary file"));
  }
}

/**
 * Replaces a dead holder's lock. Takers of one stale lock go one at a time (a second
 * exclusive file guards the swap), and the swap itself is create-if-absent, so a relay
 * starting meanwhile on a free folder wins and the taker then sees it alive. A guard left
 * by a taker killed mid-swap is removed when its holder is gone.
 */
async function takeOver(file: string, stale: LockHolder | undefined, holder: LockHolder): Promise<boolean> {
  const guard = `${file}.takeover`;
  if (!(await createExclusive(guard, holder))) {
    const guardHolder = await readHolder(guard);
    if (guardHolder !== 'missing' && (guardHolder === undefined || !isRunning(guardHolder, guard)))
      await unlink(guard).catch(skipped('removing a stale lock guard'));
    return false;
  }
  try {
    const current = await readHolder(file);
    if (current !== 'missing' && !sameHolder(current, stale)) return false;
    await unlink(file).catch(skipped('removing a stale lock file'));
    return await createExclusive(file, holder);
  } finally {
    await unlink(guard).catch(skipped('removing the lock guard'));
  }
}

/** Locks `dataDir` (which exists) for this process; throws DataDirLockedError when a live relay holds it. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  // The real path: one folder reached through a symlink is still one folder for heldHere.
  const file = path.join(await realpath(dataDir), LOCK_FILE);
  const holder = me();
  let takenOverFrom: LockHolder | undefined;
  for (let attempt = 0; ; attempt++) {
    if (await createExclusive(file, holder)) break;
    const current = await readHolder(file);
    if (current !== 'missing') {
      if (current !== undefined && isRunning(current, file)) throw new DataDirLockedError(dataDir, current);
      if (await takeOver(file, current, holder)) {
        takenOverFrom = current;
        break;
      }
    }
    if (attempt + 1 >= ACQUIRE_ATTEMPTS) throw new Error(`cannot lock ${dataDir}: other relays keep starting on it`);
    await new Promise((resolve) => setTimeout(resolve, ACQUIRE_RETRY_MS));
  }
  heldHere.add(file);
  let released = false;
  return {
    takenOverFrom,
    async release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      // Never someone else's: a relay that took over after we were presumed dead keeps its lock.
      const current = await readHolder(file).catch(skipped('reading the lock on release'));
      if (current !== 'missing' && sameHolder(current, holder)) await unlink(file).catch(skipped('removing the lock file on release'));
    },
  };
}
