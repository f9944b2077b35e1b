import type { Dispatcher } from 'undici';
import { FRONTENGINE_TIMEOUT_MS } from '../config/defaults.js';
import { deliver, type DeliveryOutcome } from '../delivery/deliver.js';
import { FORGERY_LABELS, forgedRequests } from '../delivery/forgery.js';
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
}

export interface CaseResult {
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
    message: { id: 12345, token: 'abc123def456', to: 'customer@example.com', from: 'shop@example.com', subject: 'Order Confirmation #12345' },
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

/**
 * The conformance drill, one case at a time: every event accepted in time, three
 * forgeries rejected with a 4xx, a redelivery accepted again, an unknown event not a 5xx.
 */
export async function runConformanceDrill(options: DrillOptions): Promise<CaseResult[]> {
  const timeoutMs = options.timeoutMs ?? FRONTENGINE_TIMEOUT_MS;
  const within = `2xx within ${timeoutMs / 1000} s`;
  const results: CaseResult[] = [];
  const send = (body: Buffer, headers: Record<string, string>): Promise<DeliveryOutcome> =>
    deliver({ url: options.url, body, headers, timeoutMs, dispatcher: options.dispatcher });
  const signed = (body: Buffer): Record<string, string> => signedHeaders(body, { userAgent: options.userAgent, secret: options.secret });
  const record = (result: CaseResult): void => {
    results.push(result);
    options.onCase?.(result);
  };
  const base = (outcome: DeliveryOutcome): Pick<CaseResult, 'status' | 'latencyMs'> =>
    outcome.status !== undefined ? { status: outcome.status, latencyMs: outcome.latencyMs } : { latencyMs: outcome.latencyMs };

  for (const event of EVENT_NAMES) {
    const body = Buffer.from(composeBody(event).body);
    const outcome = await send(body, signed(body));
    record({ name: `accepts ${event}`, expected: within, ok: outcome.ok, ...base(outcome), ...(outcome.ok ? {} : { reason: answer(outcome) }) });
  }

  const genuine = Buffer.from(composeBody('MessageSent').body);
  for (const forged of forgedRequests(genuine, { userAgent: options.userAgent, secret: options.secret })) {
    const outcome = await send(forged.body, forged.headers);
    const ok = isRejection(outcome);
    const reason = ok ? undefined : outcome.ok ? `ACCEPTED a forged request (${outcome.status})` : `${answer(outcome)}, not a 4xx`;
    record({ name: `rejects a forgery: ${FORGERY_LABELS[forged.case]}`, expected: '4xx', ok, ...base(outcome), ...(reason ? { reason } : {}) });
  }

  // At-least-once delivery: the same bytes and signature again must be accepted again.
  const again = Buffer.from(composeBody('MessageDelayed').body);
  const headers = signed(again);
  const first = await send(again, headers);
  const second = first.ok ? await send(again, headers) : undefined;
  const twiceOk = first.ok && second?.ok === true;
  const twiceReason = !first.ok ? `first delivery ${answer(first)}` : second && !second.ok ? `second delivery ${answer(second)}` : undefined;
  record({
    name: 'accepts the same delivery twice',
    expected: `${within}, both times`,
    ok: twiceOk,
    ...base(second ?? first),
    ...(twiceReason ? { reason: twiceReason } : {}),
  });

  const unknown = Buffer.from(UNKNOWN_EVENT_BODY);
  const outcome = await send(unknown, signed(unknown));
  const unknownOk = outcome.status !== undefined && outcome.status < 500 && !outcome.error;
  record({
    name: 'an unknown event type gets no 5xx',
    expected: 'any answer below 500',
    ok: unknownOk,
    ...base(outcome),
    ...(unknownOk ? {} : { reason: answer(outcome) }),
  });
  return results;
}
