import { isSeq } from './event-meta.js';
import {
  PROTOCOL_VERSION,
  type InvalidMessage,
  type NotedOutcome,
  type OutcomeNotice,
  type OutcomesMessage,
  type OutcomesNotedMessage,
} from './messages.js';

/**
 * Outcomes: what became of the events the listener holds on FrontEngine's retry schedule.
 * The listener acknowledges such an event as soon as it is in its retry journal, so the
 * relay's cursor alone would call it delivered; these notices tell the relay it is being
 * retried, then whether a later attempt got a 2xx or the schedule gave up. The relay
 * stores them and answers `outcomes-noted`; the listener repeats what was not noted on
 * every subscription. Sent only to relays that announce `outcomes: true`: an older relay
 * would refuse the unknown message type.
 */

/** Notices in one frame: the listener sends far fewer (its retry journal's unfinished ones). */
export const OUTCOMES_PER_FRAME = 1_000;
/** A schedule has a handful of attempts; anything past this is not one. */
const MAX_ATTEMPTS = 1_000;
const STATES: ReadonlySet<string> = new Set(['retrying', 'delivered', 'failed']);

type Fields = Record<string, unknown>;

const invalid = (why: string): InvalidMessage => ({ invalid: why, code: 'bad-message' });

function noticeProblem(value: unknown, full: boolean): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'outcomes holds objects';
  const f = value as Fields;
  if (!isSeq(f.seq) || f.seq === 0) return 'an outcome needs a seq';
  if (typeof f.state !== 'string' || !STATES.has(f.state)) return 'an outcome state is retrying, delivered or failed';
  const attempts = f.attempts as number;
  if (f.attempts !== undefined && !(Number.isSafeInteger(attempts) && attempts >= 1 && attempts <= MAX_ATTEMPTS))
    return 'outcome attempts must be a count';
  if (!full) return undefined;
  if (f.status !== undefined && !(Number.isInteger(f.status) && (f.status as number) >= 100 && (f.status as number) <= 999))
    return 'outcome status must be an HTTP status';
  const at = f.nextAttemptAt;
  if (at !== undefined && (typeof at !== 'string' || at.length > 40 || Number.isNaN(Date.parse(at))))
    return 'outcome nextAttemptAt must be a time';
  return undefined;
}

/**
 * A list of notices from the network (or a file the relay wrote), each checked; only the
 * fields a notice has are kept (nothing else a peer adds). Why not, as text.
 */
export function readNotices(list: unknown, max = OUTCOMES_PER_FRAME): OutcomeNotice[] | string {
  if (!Array.isArray(list) || list.length === 0 || list.length > max) return 'needs a list of outcomes';
  const notices: OutcomeNotice[] = [];
  for (const one of list as unknown[]) {
    const problem = noticeProblem(one, true);
    if (problem) return problem;
    const { seq, state, status, attempts, nextAttemptAt } = one as OutcomeNotice;
    notices.push({
      seq,
      state,
      ...(status !== undefined ? { status } : {}),
      ...(attempts !== undefined ? { attempts } : {}),
      ...(nextAttemptAt !== undefined ? { nextAttemptAt } : {}),
    });
  }
  return notices;
}

/** Listener → relay. */
export function decodeOutcomes(f: Fields): OutcomesMessage | InvalidMessage {
  const outcomes = readNotices(f.outcomes);
  return typeof outcomes === 'string' ? invalid(`outcomes ${outcomes}`) : { v: PROTOCOL_VERSION, type: 'outcomes', outcomes };
}

/** Relay → listener. */
export function decodeOutcomesNoted(f: Fields): OutcomesNotedMessage | InvalidMessage {
  if (!Array.isArray(f.outcomes) || f.outcomes.length === 0 || f.outcomes.length > OUTCOMES_PER_FRAME)
    return invalid('outcomes-noted needs a list of outcomes');
  for (const one of f.outcomes as unknown[]) {
    const problem = noticeProblem(one, false);
    if (problem) return invalid(problem);
  }
  return { v: PROTOCOL_VERSION, type: 'outcomes-noted', outcomes: (f.outcomes as NotedOutcome[]).map(noted) };
}

/** What the relay echoes of a notice: enough for the listener to know which one it stored. */
export function noted(notice: NotedOutcome): NotedOutcome {
  return { seq: notice.seq, state: notice.state, ...(notice.attempts !== undefined ? { attempts: notice.attempts } : {}) };
}

/** The same notice (a later one for the seq replaces it only when it differs). */
export const sameNotice = (a: NotedOutcome, b: NotedOutcome): boolean =>
  a.seq === b.seq && a.state === b.state && a.attempts === b.attempts;
