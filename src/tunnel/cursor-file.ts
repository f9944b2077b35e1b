import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../config/state-dir.js';

/**
 * The last seq this listener forwarded to its app: what makes a restarted listener skip
 * repeats. A seq counts in one channel log, so the cursor keeps that log's identity
 * (`log`, from the relay); undefined for a cursor saved before identities existed.
 */
export interface DeliveryCursor {
  readonly lastForwarded: number | undefined;
  readonly log: string | undefined;
  save(seq: number): void;
  /** Starts over in `log` at `seq`: the relay's log is not the one the old seq counted in. */
  reset(seq: number, log: string | undefined): void;
  close(): void;
}

/** Fixed width, so every save overwrites the same bytes in place. */
const CURSOR_WIDTH = 20;
const LOG_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * `<seq, 20 wide>\n<log id>\n`; a file from before log identities holds the first line
 * only and is read as a cursor of no known log.
 */
function parseCursor(text: string): { seq: number | undefined; log: string | undefined } {
  const [first = '', second = ''] = text.split('\n');
  const value = first.trim() === '' ? Number.NaN : Number(first.trim());
  const seq = Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  return { seq, log: seq !== undefined && LOG_ID_PATTERN.test(second.trim()) ? second.trim() : undefined };
}

/**
 * A cursor in a small file. Each save is one in-place write of a few bytes; it reaches
 * the page cache before the ack is sent, so a killed listener (SIGKILL included) never
 * forwards an acknowledged event again. (A power cut may cost the last few: delivery is
 * at least once.)
 */
export async function openCursorFile(file: string): Promise<DeliveryCursor> {
  await ensurePrivateDir(path.dirname(file));
  let { seq: lastForwarded, log } = (() => {
    try {
      return parseCursor(readFileSync(file, 'utf8'));
    } catch {
      return { seq: undefined, log: undefined };
    }
  })();
  // r+ keeps the old value until the first save overwrites it: never a moment without one.
  const fd = lastForwarded === undefined ? openSync(file, 'w', 0o600) : openSync(file, 'r+');
  const write = (seq: number): void => {
    writeSync(fd, `${String(seq).padStart(CURSOR_WIDTH, ' ')}\n`, 0);
  };
  /** Both lines at once (a new log is rare: once per relay log the listener meets). */
  const writeAll = (): void => {
    const text = `${String(lastForwarded ?? 0).padStart(CURSOR_WIDTH, ' ')}\n${log ?? ''}\n`;
    writeSync(fd, text, 0);
    ftruncateSync(fd, Buffer.byteLength(text));
  };
  let closed = false;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    get log() {
      return log;
    },
    save(seq) {
      if (closed || (lastForwarded !== undefined && seq <= lastForwarded)) return;
      const first = lastForwarded === undefined;
      lastForwarded = seq;
      if (first && log !== undefined) writeAll();
      else write(seq);
    },
    reset(seq, newLog) {
      if (closed) return;
      lastForwarded = seq;
      log = newLog;
      writeAll();
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** An in-memory cursor, for library users who keep their own. */
export function memoryCursor(start?: number, startLog?: string): DeliveryCursor {
  let lastForwarded = start;
  let log = startLog;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    get log() {
      return log;
    },
    save(seq) {
      if (lastForwarded === undefined || seq > lastForwarded) lastForwarded = seq;
    },
    reset(seq, newLog) {
      lastForwarded = seq;
      log = newLog;
    },
    close() {},
  };
}
