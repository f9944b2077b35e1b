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
  /**
   * The highest seq this listener ever handed to its app (begun, answered or not): an
   * event above it never reached the app through this cursor's listener, whatever the
   * relay remembers sending. Undefined when not known (a new or an older cursor).
   */
  readonly begun: number | undefined;
  save(seq: number): void;
  /** Saved before the event goes to the app, so a killed listener still knows. */
  begin(seq: number): void;
  /** Starts over in `log` at `seq`: the relay's log is not the one the old seq counted in. */
  reset(seq: number, log: string | undefined): void;
  close(): void;
}

/** Fixed width, so every save overwrites the same bytes in place. */
const CURSOR_WIDTH = 20;
const LOG_ID_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;

/**
 * `<seq, 20 wide>\n<begun, 20 wide>\n<log id>\n`; a file from before log identities holds
 * the first line only and is read as a cursor of no known log and no known begun.
 */
function parseCursor(text: string): { seq: number | undefined; begun: number | undefined; log: string | undefined } {
  const [first = '', second = '', third = ''] = text.split('\n');
  const number = (line: string): number | undefined => {
    const value = line.trim() === '' ? Number.NaN : Number(line.trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const seq = number(first);
  if (seq === undefined) return { seq, begun: undefined, log: undefined };
  return { seq, begun: number(second), log: LOG_ID_PATTERN.test(third.trim()) ? third.trim() : undefined };
}

/**
 * A cursor in a small file. Each save is one in-place write of a few bytes; it reaches
 * the page cache before the ack is sent, so a killed listener (SIGKILL included) never
 * forwards an acknowledged event again. (A power cut may cost the last few: delivery is
 * at least once.)
 */
export async function openCursorFile(file: string): Promise<DeliveryCursor> {
  await ensurePrivateDir(path.dirname(file));
  let { seq: lastForwarded, begun, log } = (() => {
    try {
      return parseCursor(readFileSync(file, 'utf8'));
    } catch {
      return { seq: undefined, begun: undefined, log: undefined };
    }
  })();
  // r+ keeps the old value until the first save overwrites it: never a moment without one.
  const fd = lastForwarded === undefined ? openSync(file, 'w', 0o600) : openSync(file, 'r+');
  const write = (seq: number): void => {
    writeSync(fd, `${String(seq).padStart(CURSOR_WIDTH, ' ')}\n`, 0);
  };
  /** Every line at once (the first save, a new log: rare). */
  const writeAll = (): void => {
    const pad = (value: number | undefined): string => (value === undefined ? '' : String(value)).padStart(CURSOR_WIDTH, ' ');
    const text = `${pad(lastForwarded ?? 0)}\n${pad(begun)}\n${log ?? ''}\n`;
    writeSync(fd, text, 0);
    ftruncateSync(fd, Buffer.byteLength(text));
  };
  // An older file has one line: the in-place writes below need all three (the first
  // line stays as it was, so a crash meanwhile loses nothing).
  let laidOut = lastForwarded !== undefined;
  if (laidOut) writeAll();
  let closed = false;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    get log() {
      return log;
    },
    get begun() {
      return begun;
    },
    save(seq) {
      if (closed || (lastForwarded !== undefined && seq <= lastForwarded)) return;
      lastForwarded = seq;
      if (laidOut) write(seq);
      else {
        writeAll();
        laidOut = true;
      }
    },
    begin(seq) {
      if (closed || (begun !== undefined && seq <= begun)) return;
      begun = seq;
      // Before the first save there is no cursor on disk to go with it (and none is made up).
      if (laidOut) writeSync(fd, `${String(seq).padStart(CURSOR_WIDTH, ' ')}\n`, CURSOR_WIDTH + 1);
    },
    reset(seq, newLog) {
      if (closed) return;
      lastForwarded = seq;
      begun = seq;
      log = newLog;
      writeAll();
      laidOut = true;
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
  let begun: number | undefined;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    get log() {
      return log;
    },
    get begun() {
      return begun;
    },
    save(seq) {
      if (lastForwarded === undefined || seq > lastForwarded) lastForwarded = seq;
    },
    begin(seq) {
      if (begun === undefined || seq > begun) begun = seq;
    },
    reset(seq, newLog) {
      lastForwarded = seq;
      begun = seq;
      log = newLog;
    },
    close() {},
  };
}
