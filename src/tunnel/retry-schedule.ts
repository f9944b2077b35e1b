import { closeSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { DurableAppender, type AppendStalledError } from '../capture/appender.js';
import type { CaptureRecord } from '../capture/record.js';
import { ensurePrivateDir } from '../config/state-dir.js';
import { errorMessage } from '../errors.js';
import type { OutcomeNotice, RelayedEvent } from '../protocol/index.js';
import { APP_RETRY_INITIAL_MS, APP_RETRY_MAX_MS, backoffDelayMs, type BackoffPolicy } from './backoff.js';
import type { StoredEventRetries, TunnelAnswer, TunnelHandler, TunnelRequest } from './client.js';
import { OutcomeNotices } from './outcome-notices.js';
import { debugSkipped, skipped } from '../util/debug.js';

/** Scheduled retries that may be with the app at once: each event has its own schedule, none waits for another. */
const MAX_RETRIES_IN_FLIGHT = 4;
const MAX_TIMER_MS = 3_600_000;
/**
 * Finished schedules whose outcome no relay confirmed yet (an older relay never does):
 * the journal keeps the newest this many, so it cannot grow without bound.
 */
const MAX_UNREPORTED = 1_000;

/** What one attempt of a stored event comes to. */
export type AttemptDecision =
  | { kind: 'ok' }
  /** No attempt at all: the app could not be reached, or listen could not take it (captures unwritable). */
  | { kind: 'not-counted' }
  | { kind: 'retry'; dueAt: number }
  | { kind: 'failed' };

/**
 * FrontEngine's rule for one attempt (1 = the first): a 2xx ends it; otherwise the next
 * attempt waits delaysMs[attempt - 1] (scaled), and after the last one it has failed.
 * An app that could not be reached did not answer: that attempt does not count.
 */
export function decideAttempt(
  attempt: number,
  answer: TunnelAnswer,
  delaysMs: readonly number[],
  scale: number,
  now: number,
): AttemptDecision {
  if (answer.held === true || answer.forwardFailed === true) return { kind: 'not-counted' };
  if (answer.status >= 200 && answer.status < 300) return { kind: 'ok' };
  const delay = delaysMs[attempt - 1];
  if (delay === undefined) return { kind: 'failed' };
  return { kind: 'retry', dueAt: now + Math.round(delay * scale) };
}

/** What a capture record says about the attempt: only worth saying once it is not a plain first success. */
function annotateRecord(record: CaptureRecord, attempt: number, decision: AttemptDecision): void {
  if (decision.kind === 'not-counted' || (decision.kind === 'ok' && attempt === 1)) return;
  record.attempt = attempt;
  if (decision.kind === 'retry') record.nextAttemptAt = new Date(decision.dueAt).toISOString();
  if (decision.kind === 'failed') record.failed = true;
}

/** One event waiting for its next attempt, as the journal keeps it (the body as base64). */
interface PendingRetry {
  seq: number;
  /** Attempts made so far. */
  attempts: number;
  /** When the next one is due, ms since the epoch (a wall clock: it must survive a restart). */
  dueAt: number;
  /** The app's status on the latest attempt (absent from journals written before it was kept). */
  status?: number;
  request: { method: string; path: string; rawHeaders: string[]; body: string; receivedAt: string };
}

/** A finished schedule; `attempts` and `status` say how, for the relay (older journals lack them). */
interface DoneLine {
  seq: number;
  done: 'ok' | 'failed';
  status?: number;
  attempts?: number;
}

/** The relay stored this seq's outcome: nothing more to tell it. */
interface ReportedLine {
  seq: number;
  reported: true;
}

type JournalLine = PendingRetry | DoneLine | ReportedLine;

interface Journal {
  pending: Map<number, PendingRetry>;
  /** Finished, the relay not yet told (or it did not confirm). */
  unreported: Map<number, DoneLine>;
}

export type RetryStatus =
  | { state: 'retry-failed'; seq: number; attempts: number }
  | { state: 'retry-ok'; seq: number; attempt: number }
  | { state: 'journal-stalled'; message: string };

export interface RetryScheduleOptions {
  /** The journal: one JSON line per change, in the listener's state folder. */
  file: string;
  channel: string;
  handler: TunnelHandler;
  /** FrontEngine's waits between attempts. */
  delaysMs: readonly number[];
  /** Multiplies every wait (`listen --retry-scale`): 0.001 turns 1 min into 60 ms. */
  scale: number;
  /** Waits while the app cannot be reached (or listen cannot take events): not attempts. */
  unreachableRetry?: BackoffPolicy;
  onStatus?: (status: RetryStatus) => void;
}

function isPendingRetry(value: unknown): value is PendingRetry {
  const v = value as Partial<PendingRetry> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    Number.isSafeInteger(v.seq) &&
    Number.isSafeInteger(v.attempts) &&
    typeof v.dueAt === 'number' &&
    typeof v.request === 'object' &&
    v.request !== null &&
    typeof v.request.body === 'string'
  );
}

/**
 * The pending retries a journal holds (the last line per seq wins, a `done` line ends
 * it) and the finished ones not yet reported to the relay; torn or foreign lines are skipped.
 */
function loadJournal(file: string): Journal {
  const pending = new Map<number, PendingRetry>();
  const unreported = new Map<number, DoneLine>();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    debugSkipped('reading the retry journal (starting with no stored retries)', error);
    return { pending, unreported };
  }
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let value: JournalLine;
    try {
      value = JSON.parse(line) as JournalLine;
    } catch (error) {
      debugSkipped('a torn retry journal line', error);
      continue;
    }
    // A foreign line (`null`, a number, an object without a seq) is skipped like a torn one.
    if (typeof value !== 'object' || value === null || !Number.isSafeInteger(value.seq)) continue;
    if ('reported' in value) unreported.delete(value.seq);
    else if ('done' in value) {
      pending.delete(value.seq);
      // A line from before outcomes were reported says too little to report.
      if (Number.isSafeInteger(value.attempts)) unreported.set(value.seq, value);
    } else if (isPendingRetry(value)) pending.set(value.seq, value);
  }
  for (const seq of [...unreported.keys()].slice(0, Math.max(0, unreported.size - MAX_UNREPORTED))) unreported.delete(seq);
  return { pending, unreported };
}

/** Rewrites the journal with only what is pending or unreported (a new file, synced, renamed over the old: never half of one). */
function compactJournal(file: string, pending: Iterable<JournalLine>): void {
  const temporary = `${file}.tmp`;
  const fd = openSync(temporary, 'w', 0o600);
  try {
    let text = '';
    for (const entry of pending) text += `${JSON.stringify(entry)}\n`;
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temporary, file);
}

/**
 * The listener's retries of stored events (answered 202 by the relay: no sender will
 * retry them). The schedule lives with the listener, in a journal next to its cursor:
 * an event enters it (durably) before the relay is told it was answered, each attempt
 * updates it, and success or the last failure ends it. A restarted listener reloads it,
 * runs what is due, and never repeats an attempt that finished.
 */
export class RetrySchedule implements StoredEventRetries {
  private readonly pending: Map<number, PendingRetry>;
  private readonly unreported: Map<number, DoneLine>;
  /** Each event's state on the schedule, for a relay that keeps them (its channel page shows them). */
  readonly outcomes: OutcomeNotices;
  private readonly inFlight = new Set<number>();
  private readonly journal: DurableAppender;
  private timer: NodeJS.Timeout | undefined;
  /** Consecutive attempts that found the app unreachable (or listen unable to take them): one probe at a time then. */
  private blocked = 0;
  private blockedUntil = 0;
  private closed = false;
  private readonly idle: Array<() => void> = [];

  private constructor(private readonly options: RetryScheduleOptions) {
    ({ pending: this.pending, unreported: this.unreported } = loadJournal(options.file));
    try {
      compactJournal(options.file, [...this.pending.values(), ...this.unreported.values()]);
    } catch (error) {
      debugSkipped('compacting the retry journal (new lines follow the old ones)', error);
      // No room to rewrite it (a full disk): the old journal stays as it is, still
      // correct, and new lines follow it.
      rmSync(`${options.file}.tmp`, { force: true });
    }
    this.journal = new DurableAppender(options.file, {
      onStall: (error: AppendStalledError) => options.onStatus?.({ state: 'journal-stalled', message: error.message }),
    });
    this.outcomes = new OutcomeNotices((notice) => {
      if (!this.unreported.delete(notice.seq)) return;
      void this.write({ seq: notice.seq, reported: true });
    });
    // What a previous run did not get confirmed is told to the next relay that keeps outcomes.
    for (const entry of this.pending.values()) this.outcomes.note(retryingNotice(entry));
    for (const done of this.unreported.values()) this.outcomes.note(finalNotice(done));
  }

  /** A schedule ended: journaled with how, and told to the relay. */
  private async finish(done: DoneLine): Promise<void> {
    this.unreported.delete(done.seq);
    this.unreported.set(done.seq, done);
    const oldest = this.unreported.keys().next();
    if (this.unreported.size > MAX_UNREPORTED && !oldest.done) this.unreported.delete(oldest.value);
    await this.write(done);
    this.outcomes.note(finalNotice(done));
  }

  /** Loads the journal (what a previous run left pending) and starts running what is due. */
  static async open(options: RetryScheduleOptions): Promise<RetrySchedule> {
    await ensurePrivateDir(path.dirname(options.file));
    const schedule = new RetrySchedule(options);
    schedule.pump();
    return schedule;
  }

  get size(): number {
    return this.pending.size;
  }

  has(seq: number): boolean {
    return this.pending.has(seq);
  }

  firstAttempt(event: RelayedEvent): { annotate: NonNullable<TunnelRequest['annotate']>; settle(answer: TunnelAnswer): Promise<void> } {
    let decided: { answer: TunnelAnswer; decision: AttemptDecision } | undefined;
    const decide = (answer: TunnelAnswer): AttemptDecision => {
      if (decided?.answer !== answer)
        decided = { answer, decision: decideAttempt(1, answer, this.options.delaysMs, this.options.scale, Date.now()) };
      return decided.decision;
    };
    return {
      annotate: (record, answer) => annotateRecord(record, 1, decide(answer)),
      settle: async (answer) => {
        const decision = decide(answer);
        if (decision.kind === 'failed') {
          await this.finish({ seq: event.seq, done: 'failed', status: answer.status, attempts: 1 });
          this.options.onStatus?.({ state: 'retry-failed', seq: event.seq, attempts: 1 });
          return;
        }
        if (decision.kind !== 'retry') return;
        const entry: PendingRetry = {
          seq: event.seq,
          attempts: 1,
          dueAt: decision.dueAt,
          status: answer.status,
          request: {
            method: event.method,
            path: event.path,
            rawHeaders: event.rawHeaders,
            body: event.body.toString('base64'),
            receivedAt: event.receivedAt,
          },
        };
        this.pending.set(event.seq, entry);
        await this.write(entry);
        // Before the tunnel acks it: the relay never calls this event delivered.
        this.outcomes.note(retryingNotice(entry));
        this.pump();
      },
    };
  }

  /** Stops starting attempts; waits for those with the app, so their outcome is journaled. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.inFlight.size > 0) await new Promise<void>((resolve) => this.idle.push(resolve));
    await this.journal.close().catch(skipped('closing the retry journal'));
  }

  /** Journal lines wait for the disk; one the disk refuses is kept by the appender and written later. */
  private async write(line: JournalLine): Promise<void> {
    try {
      await this.journal.append(JSON.stringify(line));
    } catch (error) {
      debugSkipped('a retry journal line (kept in memory, written when the disk takes it)', error);
      // Said once by the appender's stall hook; the state stays in memory meanwhile.
    }
  }

  /** Starts what is due (within the in-flight limit) and sets the timer for the next one. */
  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.closed) return;
    const now = Date.now();
    // While the app is unreachable, one attempt probes for it at a time.
    const limit = this.blocked > 0 ? 1 : MAX_RETRIES_IN_FLIGHT;
    let nextDue = Number.POSITIVE_INFINITY;
    const due = [...this.pending.values()]
      .filter((entry) => !this.inFlight.has(entry.seq))
      .sort((a, b) => a.dueAt - b.dueAt || a.seq - b.seq);
    for (const entry of due) {
      const startAt = Math.max(entry.dueAt, this.blockedUntil);
      if (startAt > now || this.inFlight.size >= limit) {
        nextDue = Math.min(nextDue, startAt);
        break;
      }
      void this.attempt(entry);
    }
    if (nextDue !== Number.POSITIVE_INFINITY && this.inFlight.size < limit) {
      // At most an hour at a time: Node fires a longer timer (over 24.8 days, e.g. 12 h
      // with --retry-scale 100) at once, which would make this a loop.
      this.timer = setTimeout(() => this.pump(), Math.min(MAX_TIMER_MS, Math.max(0, nextDue - Date.now())));
      this.timer.unref();
    }
  }

  private async attempt(entry: PendingRetry): Promise<void> {
    this.inFlight.add(entry.seq);
    const attempt = entry.attempts + 1;
    let decided: { answer: TunnelAnswer; decision: AttemptDecision } | undefined;
    const decide = (answer: TunnelAnswer): AttemptDecision => {
      if (decided?.answer !== answer)
        decided = { answer, decision: decideAttempt(attempt, answer, this.options.delaysMs, this.options.scale, Date.now()) };
      return decided.decision;
    };
    let answer: TunnelAnswer;
    try {
      answer = await this.options.handler({
        method: entry.request.method,
        path: entry.request.path,
        rawHeaders: entry.request.rawHeaders,
        body: Buffer.from(entry.request.body, 'base64'),
        receivedAt: new Date(entry.request.receivedAt),
        source: { kind: 'relay', channel: this.options.channel, seq: entry.seq },
        annotate: (record, given) => annotateRecord(record, attempt, decide(given)),
      });
    } catch (error) {
      answer = { status: 502, headers: [], body: Buffer.from(errorMessage(error)), forwardFailed: true };
    }
    const decision = decide(answer);
    if (decision.kind === 'not-counted') {
      this.blocked++;
      this.blockedUntil =
        Date.now() +
        backoffDelayMs(this.blocked - 1, this.options.unreachableRetry ?? { initialMs: APP_RETRY_INITIAL_MS, maxMs: APP_RETRY_MAX_MS });
    } else {
      this.blocked = 0;
      this.blockedUntil = 0;
      if (decision.kind === 'retry') {
        entry.attempts = attempt;
        entry.dueAt = decision.dueAt;
        entry.status = answer.status;
        await this.write(entry);
        this.outcomes.note(retryingNotice(entry));
      } else {
        this.pending.delete(entry.seq);
        await this.finish({ seq: entry.seq, done: decision.kind === 'ok' ? 'ok' : 'failed', status: answer.status, attempts: attempt });
        this.options.onStatus?.(
          decision.kind === 'ok'
            ? { state: 'retry-ok', seq: entry.seq, attempt }
            : { state: 'retry-failed', seq: entry.seq, attempts: attempt },
        );
      }
    }
    this.inFlight.delete(entry.seq);
    if (this.inFlight.size === 0) for (const wake of this.idle.splice(0)) wake();
    this.pump();
  }
}

function retryingNotice(entry: PendingRetry): OutcomeNotice {
  return {
    seq: entry.seq,
    state: 'retrying',
    attempts: entry.attempts,
    ...(Number.isFinite(entry.dueAt) ? { nextAttemptAt: new Date(entry.dueAt).toISOString() } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
  };
}

function finalNotice(done: DoneLine): OutcomeNotice {
  return {
    seq: done.seq,
    state: done.done === 'ok' ? 'delivered' : 'failed',
    ...(done.attempts !== undefined ? { attempts: done.attempts } : {}),
    ...(done.status !== undefined ? { status: done.status } : {}),
  };
}
