import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import path from 'node:path';
import { ensurePrivateDir } from '../config/state-dir.js';
import { LOG_ID_PATTERN } from '../protocol/index.js';
import { debugSkipped } from '../util/debug.js';

/**
 * The last seq this listener forwarded to its app: what makes a restarted listener skip
 * repeats. A seq counts in one channel log, so the cursor keeps that log's identity
 * (`log`, from the relay); undefined for a cursor saved before identities existed.
 */
export interface DeliveryCursor {
  readonly lastForwarded: number | undefined;
  /** When the relay received event #lastForwarded (its ISO time), if known: a fingerprint of that event. */
  readonly lastForwardedAt: string | undefined;
  readonly log: string | undefined;
  /**
   * The highest seq this listener ever handed to its app (begun, answered or not): an
   * event above it never reached the app through this cursor's listener, whatever the
   * relay remembers sending. Undefined when not known (a new or an older cursor).
   */
  readonly begun: number | undefined;
  save(seq: number, at?: string): void;
  /** Saved before the event goes to the app, so a killed listener still knows. */
  begin(seq: number): void;
  /** Starts over in `log` at `seq` (begun: unknown): the relay's log is not the one the old seq counted in. */
  reset(seq: number, log: string | undefined, at: string | undefined): void;
  close(): void;
}

/** Fixed widths, so every save overwrites the same bytes in place. */
const CURSOR_WIDTH = 20;
const AT_WIDTH = 32;
/** Where the begun line starts: after the seq and time lines. */
const BEGUN_OFFSET = CURSOR_WIDTH + 1 + AT_WIDTH + 1;
/** An ISO time as the relay writes it, and never longer than its line. */
const AT_PATTERN = /^\d{4}-\d\d-\d\dT[\d:.]{1,20}Z$/;

interface CursorState {
  seq: number | undefined;
  at: string | undefined;
  begun: number | undefined;
  log: string | undefined;
}

/**
 * `<seq, 20 wide>\n<its receivedAt, 32 wide>\n<begun, 20 wide>\n<log id>\n`; a file from
 * before log identities holds the first line only, and is read as a cursor of no known
 * log, time or begun.
 */
function parseCursor(text: string): CursorState {
  const [first = '', second = '', third = '', fourth = ''] = text.split('\n');
  const number = (line: string): number | undefined => {
    const value = line.trim() === '' ? Number.NaN : Number(line.trim());
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  };
  const seq = number(first);
  if (seq === undefined) return { seq, at: undefined, begun: undefined, log: undefined };
  const at = second.trim();
  return {
    seq,
    at: AT_PATTERN.test(at) ? at : undefined,
    begun: number(third),
    log: LOG_ID_PATTERN.test(fourth.trim()) ? fourth.trim() : undefined,
  };
}

const seqLine = (seq: number | undefined): string => `${(seq === undefined ? '' : String(seq)).padStart(CURSOR_WIDTH, ' ')}\n`;
const atLine = (at: string | undefined): string => `${(at ?? '').padEnd(AT_WIDTH, ' ')}\n`;

/** The cursor's values and the rules for moving them; each change says whether it changed anything. */
class CursorValues implements DeliveryCursor {
  lastForwarded: number | undefined;
  lastForwardedAt: string | undefined;
  log: string | undefined;
  begun: number | undefined;

  constructor(state: CursorState) {
    this.lastForwarded = state.seq;
    this.lastForwardedAt = state.at;
    this.log = state.log;
    this.begun = state.begun;
  }

  save(seq: number, at?: string): boolean {
    if (this.lastForwarded !== undefined && seq <= this.lastForwarded) return false;
    this.lastForwarded = seq;
    this.lastForwardedAt = at !== undefined && AT_PATTERN.test(at) ? at : undefined;
    return true;
  }

  begin(seq: number): boolean {
    if (this.begun !== undefined && seq <= this.begun) return false;
    this.begun = seq;
    return true;
  }

  reset(seq: number, log: string | undefined, at: string | undefined): void {
    this.lastForwarded = seq;
    this.lastForwardedAt = at !== undefined && AT_PATTERN.test(at) ? at : undefined;
    // Which of the seqs now named were handed to the app before is not known any more.
    this.begun = undefined;
    this.log = log;
  }

  close(): void {}
}

/**
 * A cursor in a small file. Each save is one in-place write of a few bytes; it reaches
 * the page cache before the ack is sent, so a killed listener (SIGKILL included) never
 * forwards an acknowledged event again. (A power cut may cost the last few: delivery is
 * at least once.)
 */
class FileCursor extends CursorValues {
  private closed = false;
  /** An older file has one line: the in-place writes need every line laid out. */
  private laidOut: boolean;

  constructor(
    private readonly fd: number,
    state: CursorState,
  ) {
    super(state);
    // The first line stays as it was, so a crash meanwhile loses nothing.
    this.laidOut = state.seq !== undefined;
    if (this.laidOut) this.writeAll();
  }

  override save(seq: number, at?: string): boolean {
    if (this.closed || !super.save(seq, at)) return false;
    if (this.laidOut) writeSync(this.fd, `${seqLine(this.lastForwarded)}${atLine(this.lastForwardedAt)}`, 0);
    else this.writeAll();
    return true;
  }

  override begin(seq: number): boolean {
    if (this.closed || !super.begin(seq)) return false;
    // Before the first save there is no cursor on disk to go with it (and none is made up).
    if (this.laidOut) writeSync(this.fd, seqLine(seq), BEGUN_OFFSET);
    return true;
  }

  override reset(seq: number, log: string | undefined, at: string | undefined): void {
    if (this.closed) return;
    super.reset(seq, log, at);
    this.writeAll();
  }

  override close(): void {
    if (this.closed) return;
    this.closed = true;
    closeSync(this.fd);
  }

  /** Every line at once (the first save, a new log: rare). */
  private writeAll(): void {
    const text = `${seqLine(this.lastForwarded ?? 0)}${atLine(this.lastForwardedAt)}${seqLine(this.begun)}${this.log ?? ''}\n`;
    writeSync(this.fd, text, 0);
    ftruncateSync(this.fd, Buffer.byteLength(text));
    this.laidOut = true;
  }
}

export async function openCursorFile(file: string): Promise<DeliveryCursor> {
  await ensurePrivateDir(path.dirname(file));
  let state: CursorState;
  try {
    state = parseCursor(readFileSync(file, 'utf8'));
  } catch (error) {
    debugSkipped("reading the cursor file (starting from the relay's oldest event)", error);
    state = { seq: undefined, at: undefined, begun: undefined, log: undefined };
  }
  // r+ keeps the old value until the first save overwrites it: never a moment without one.
  return new FileCursor(state.seq === undefined ? openSync(file, 'w', 0o600) : openSync(file, 'r+'), state);
}

/** An in-memory cursor, for library users who keep their own. */
export function memoryCursor(start?: number, startLog?: string): DeliveryCursor {
  return new CursorValues({ seq: start, at: undefined, begun: undefined, log: startLog });
}
