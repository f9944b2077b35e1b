import type { Dispatcher } from 'undici';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { deliver, type DeliveryErrorKind, type DeliveryOutcome } from '../delivery/deliver.js';
import { FORGERY_LABELS, forgedRequests, type ForgeryCase } from '../delivery/forgery.js';
import { UserError } from '../errors.js';
import { formatDuration } from '../util/duration.js';
import { closestMatch } from '../util/suggest.js';
import { signedHeaders } from '../delivery/request.js';
import { EVENT_NAMES } from '../events/catalog.js';
import { composeBody } from '../events/compose.js';

export interface DrillOptions {
  url: URL;
  /** The secret the endpoint verifies with. */
  secret: string;
  userAgent: string;
  dispatcher?: Dispatcher;
  /** FrontEngine's rule: a 2xx within 5 s. */
  timeoutMs?: number;
  /** Called as each case finishes, for live output. */
  onCase?: (result: CaseResult) => void;
  /** Only the cases these select (see `selectDrillCases`); default: all of them. */
  only?: readonly string[];
}

export interface DrillResult {
  results: CaseResult[];
  /**
   * Why the endpoint could not be reached at all (refused, no DNS, TLS failed), when the
   * first delivery showed it: the drill stops there, since every case would fail alike.
   */
  unreachable?: string;
}

export interface CaseResult {
  /** Short and stable, for `--only`: `accept:MessageSent`, `forgery:wrong-secret`, `redelivery`, `unknown-event`. */
  id: string;
  name: string;
  ok: boolean;
  /** What passing means, e.g. `2xx within 5 s`. */
  expected: string;
  /** The answer's status (the last one, for cases that send twice). */
  status?: number;
  latencyMs: number;
  /** Why it failed. */
  reason?: string;
}

/**
 * An event FrontEngine does not send today but may tomorrow: Postal, whose model the
 * page follows, has MessageLoaded (an open). A receiver must not crash on it.
 */
const UNKNOWN_EVENT_BODY = JSON.stringify({
  event: 'MessageLoaded',
  payload: {
    ip_address: '198.51.100.42',
    user_agent: 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15',
    message: {
      id: 12345,
      token: 'abc123def456',
      to: 'customer@example.com',
      from: 'shop@example.com',
      subject: 'Order Confirmation #12345',
    },
  },
});

function answer(outcome: DeliveryOutcome): string {
  if (outcome.error) return outcome.error.message;
  if (outcome.status === undefined) return 'no answer';
  return `answered ${outcome.status}`;
}

function isRejection(outcome: DeliveryOutcome): boolean {
  return outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500 && !outcome.error;
}

const base = (outcome: DeliveryOutcome): Pick<CaseResult, 'status' | 'latencyMs'> =>
  outcome.status !== undefined ? { status: outcome.status, latencyMs: outcome.latencyMs } : { latencyMs: outcome.latencyMs };

/** What a case needs: a signed (or forged) delivery to the endpoint. */
interface DrillContext {
  send(body: Buffer, headers: Record<string, string>): Promise<DeliveryOutcome>;
  signed(body: Buffer): Record<string, string>;
  forged(body: Buffer, forgery: ForgeryCase): { body: Buffer; headers: Record<string, string> };
  /** `2xx within N s`. */
  within: string;
}

interface DrillCase {
  id: string;
  run(context: DrillContext): Promise<Omit<CaseResult, 'id'>>;
}

/** Every event accepted in time. */
const acceptCases: DrillCase[] = EVENT_NAMES.map((event) => ({
  id: `accept:${event}`,
  async run({ send, signed, within }) {
    const body = Buffer.from(composeBody(event).body);
    const outcome = await send(body, signed(body));
    return {
      name: `accepts ${event}`,
      expected: within,
      ok: outcome.ok,
      ...base(outcome),
      ...(outcome.ok ? {} : { reason: answer(outcome) }),
    };
  },
}));

/** Three forgeries rejected with a 4xx. */
const forgeryCases: DrillCase[] = (Object.keys(FORGERY_LABELS) as ForgeryCase[]).map((forgery) => ({
  id: `forgery:${forgery}`,
  async run({ send, forged }) {
    const request = forged(Buffer.from(composeBody('MessageSent').body), forgery);
    const outcome = await send(request.body, request.headers);
    const ok = isRejection(outcome);
    const reason = ok ? undefined : outcome.ok ? `ACCEPTED a forged request (${outcome.status})` : `${answer(outcome)}, not a 4xx`;
    return { name: `rejects a forgery: ${FORGERY_LABELS[forgery]}`, expected: '4xx', ok, ...base(outcome), ...(reason ? { reason } : {}) };
  },
}));

/** At-least-once delivery: the same bytes and signature again must be accepted again. */
const redeliveryCase: DrillCase = {
  id: 'redelivery',
  async run({ send, signed, within }) {
    const again = Buffer.from(composeBody('MessageDelayed').body);
    const headers = signed(again);
    const first = await send(again, headers);
    const second = first.ok ? await send(again, headers) : undefined;
    const ok = first.ok && second?.ok === true;
    const reason = !first.ok ? `first delivery ${answer(first)}` : second && !second.ok ? `second delivery ${answer(second)}` : undefined;
    return {
      name: 'accepts the same delivery twice',
      expected: `${within}, both times`,
      ok,
      ...base(second ?? first),
      ...(reason ? { reason } : {}),
    };
  },
};

/** An event FrontEngine may add tomorrow must not crash the receiver. */
const unknownEventCase: DrillCase = {
  id: 'unknown-event',
  async run({ send, signed }) {
    const unknown = Buffer.from(UNKNOWN_EVENT_BODY);
    const outcome = await send(unknown, signed(unknown));
    const ok = outcome.status !== undefined && outcome.status < 500 && !outcome.error;
    return {
      name: 'an unknown event type gets no 5xx',
      expected: 'any answer below 500',
      ok,
      ...base(outcome),
      ...(ok ? {} : { reason: answer(outcome) }),
    };
  },
};

const DRILL_CASES: readonly DrillCase[] = [...acceptCases, ...forgeryCases, redeliveryCase, unknownEventCase];

/** Every case id, in drill order. */
export const DRILL_CASE_IDS: readonly string[] = DRILL_CASES.map((c) => c.id);

/**
 * The cases that `--only` words select, in drill order: a whole id (`forgery:wrong-secret`,
 * `redelivery`), a group (`accept`, `forgery`), or an event name (`MessageSent`, any case).
 * A word that selects nothing is a UserError with the closest id.
 */
export function selectDrillCases(words: readonly string[]): string[] {
  const selected = new Set<string>();
  for (const word of words) {
    const wanted = word.toLowerCase();
    const matches = DRILL_CASE_IDS.filter((id) => {
      const lower = id.toLowerCase();
      return lower === wanted || lower.startsWith(`${wanted}:`) || lower === `accept:${wanted}`;
    });
    if (matches.length === 0) {
      const groups = [...new Set(DRILL_CASE_IDS.map((id) => id.split(':')[0] as string))];
      const suggestion = closestMatch(word, [...DRILL_CASE_IDS, ...groups, ...EVENT_NAMES]);
      throw new UserError(
        `Unknown check case "${word}".${suggestion ? ` Did you mean ${suggestion}?` : ''} Cases: ${groups.join(', ')}, or one of ` +
          `${DRILL_CASE_IDS.join(', ')}`,
      );
    }
    for (const id of matches) selected.add(id);
  }
  return DRILL_CASE_IDS.filter((id) => selected.has(id));
}

/** Failures that say nothing about how the endpoint handles webhooks: nothing answered at all. */
const UNREACHABLE_KINDS = new Set<DeliveryErrorKind>(['refused', 'dns', 'tls']);

/**
 * The conformance drill, one case at a time: every event accepted in time, three
 * forgeries rejected with a 4xx, a redelivery accepted again, an unknown event not a 5xx.
 * When the very first delivery cannot reach the endpoint, the drill stops there.
 */
export async function runConformanceDrill(options: DrillOptions): Promise<DrillResult> {
  // How long to wait (--timeout) is the user's; a 2xx later than FrontEngine's 5 s is still too late.
  const timeoutMs = options.timeoutMs ?? FRONTENGINE_TIMEOUT_MS;
  const inTimeMs = Math.min(timeoutMs, FRONTENGINE_TIMEOUT_MS);
  const inTime = formatDuration(inTimeMs, { unit: 's', decimals: 3 });
  let unreachable: string | undefined;
  let delivered = 0;
  const context: DrillContext = {
    within: `2xx within ${inTime}`,
    async send(body, headers) {
      const outcome = await deliver({ url: options.url, body, headers, timeoutMs, dispatcher: options.dispatcher });
      if (delivered++ === 0 && outcome.error && UNREACHABLE_KINDS.has(outcome.error.kind)) unreachable = outcome.error.message;
      if (outcome.ok && outcome.latencyMs > inTimeMs) {
        const after = formatDuration(outcome.latencyMs, { unit: 's', decimals: 1, fixed: true });
        const late = `answered ${outcome.status} after ${after}, too late for FrontEngine's ${inTime}`;
        return { ...outcome, ok: false, error: { kind: 'timeout', message: late } };
      }
      return outcome;
    },
    signed: (body) => signedHeaders(body, { userAgent: options.userAgent, secret: options.secret }),
    forged: (body, forgery) =>
      forgedRequests(body, { userAgent: options.userAgent, secret: options.secret }).find((f) => f.case === forgery) as {
        body: Buffer;
        headers: Record<string, string>;
      },
  };
  const only = options.only ? new Set(selectDrillCases(options.only)) : undefined;
  const results: CaseResult[] = [];
  for (const drillCase of DRILL_CASES) {
    if (only && !only.has(drillCase.id)) continue;
    const result: CaseResult = { id: drillCase.id, ...(await drillCase.run(context)) };
    if (unreachable !== undefined) return { results, unreachable };
    results.push(result);
    options.onCase?.(result);
  }
  return { results };
}
