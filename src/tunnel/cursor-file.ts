import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../config/state-dir.js';

/** The last seq this listener forwarded to its app: what makes a restarted listener skip repeats. */
export interface DeliveryCursor {
  readonly lastForwarded: number | undefined;
  save(seq: number): void;
  close(): void;
}

/** Fixed width, so every save overwrites the same bytes in place. */
const CURSOR_WIDTH = 20;

/**
 * A cursor in a small file. Each save is one in-place write of a few bytes; it reaches
 * the page cache before the ack is sent, so a killed listener (SIGKILL included) never
 * forwards an acknowledged event again. (A power cut may cost the last few: delivery is
 * at least once.)
 */
export async function openCursorFile(file: string): Promise<DeliveryCursor> {
  await ensurePrivateDir(path.dirname(file));
  let lastForwarded: number | undefined;
  try {
    const value = Number(readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(value) && value >= 0) lastForwarded = value;
  } catch {
    lastForwarded = undefined;
  }
  // r+ keeps the old value until the first save overwrites it: never a moment without one.
  const fd = lastForwarded === undefined ? openSync(file, 'w', 0o600) : openSync(file, 'r+');
  const write = (seq: number): void => {
    writeSync(fd, `${String(seq).padStart(CURSOR_WIDTH, ' ')}\n`, 0);
  };
  let closed = false;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    save(seq) {
      if (closed || (lastForwarded !== undefined && seq <= lastForwarded)) return;
      lastForwarded = seq;
      write(seq);
    },
    close() {
      if (closed) return;
      closed = true;
      closeSync(fd);
    },
  };
}

/** An in-memory cursor, for library users who keep their own. */
export function memoryCursor(start?: number): DeliveryCursor {
  let lastForwarded = start;
  return {
    get lastForwarded() {
      return lastForwarded;
    },
    save(seq) {
      if (lastForwarded === undefined || seq > lastForwarded) lastForwarded = seq;
    },
    close() {},
  };
}
