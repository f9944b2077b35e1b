import { performance } from 'node:perf_hooks';
import { FRONTENGINE_RETRY_DELAYS_MS } from '../../config/defaults.js';
import { deliver, type DeliveryOutcome } from '../../delivery/deliver.js';
import { createAgent } from '../../delivery/dispatcher.js';
import { signedHeaders } from '../../delivery/request.js';
import { deliverWithRetry } from '../../delivery/retry.js';
import { formatDuration } from '../../util/duration.js';
import { colors } from '../colors.js';
import { logLine, printLine, type CliIO } from '../io.js';
import { assertAllDelivered, printDelivery } from '../print-delivery.js';
import type { PlannedBody } from './bodies.js';
import type { SendPlan } from './plan.js';
import { RetrySchedules } from './retry-schedules.js';
import { assertReachable } from './unreachable.js';
import { printableSnippet } from '../../util/printable.js';

/** Counts of one run, for the closing summary. */
interface Tally {
  sent: number;
  ok: number;
  attempts: number;
}

/**
 * The usual mode: each body (repeated with --repeat, retried with --retry) to the URL,
 * one line per attempt. Throws CheckFailedError unless every delivery ended in a 2xx in time.
 */
export async function sendDeliveries(plan: SendPlan, bodies: PlannedBody[], io: CliIO): Promise<void> {
  const dispatcher = createAgent({ insecure: plan.insecure, connectTimeoutMs: plan.timeoutMs });
  const tally: Tally = { sent: 0, ok: 0, attempts: 0 };
  const started = performance.now();
  const schedules = new RetrySchedules();
  const named = bodies.length * plan.repeat > 1;
  try {
    for (const body of bodies) {
      // Signed once: a repeat and a retry carry the same bytes and the same signature.
      const headers = signedHeaders(body.bytes, { userAgent: plan.userAgent, secret: plan.secret, extraHeaders: plan.headers });
      for (let repeat = 1; repeat <= plan.repeat; repeat++) {
        const send = async (): Promise<DeliveryOutcome> => {
          const outcome = await deliver({ url: plan.url, body: body.bytes, headers, timeoutMs: plan.timeoutMs, dispatcher });
          tally.attempts++;
          return outcome;
        };
        const report = (attempt: number, outcome: DeliveryOutcome): void => {
          printDelivery(io, { event: body.label, attempt, outcome }, {
            json: plan.json,
            tag: lineTag(plan, repeat, attempt),
            extra: plan.repeat > 1 ? { repeat } : undefined,
          });
          assertReachable(plan, outcome);
        };
        const count = (ok: boolean): void => {
          tally.sent++;
          if (ok) tally.ok++;
        };
        if (plan.retry) {
          // Each delivery keeps its own schedule: once its first attempt is answered, the
          // next delivery starts while its retries wait on their own timers, as FrontEngine's
          // queue does (one event's retries never hold up the next event).
          await schedules.start((onAttempt, signal) =>
            withRetries(plan, send, onAttempt(report), io, signal, named ? body.label : undefined).then(count),
          );
        } else {
          count(await once(send, report));
        }
      }
    }
    await schedules.finish();
  } finally {
    schedules.abort();
    await dispatcher.destroy();
  }
  printSummary(plan, tally, performance.now() - started, io);
  assertAllDelivered(tally, plan.timeoutMs);
}

async function once(send: () => Promise<DeliveryOutcome>, report: (attempt: number, outcome: DeliveryOutcome) => void): Promise<boolean> {
  const outcome = await send();
  report(1, outcome);
  return outcome.ok;
}

async function withRetries(
  plan: SendPlan,
  send: () => Promise<DeliveryOutcome>,
  report: (attempt: number, outcome: DeliveryOutcome) => void,
  io: CliIO,
  signal: AbortSignal,
  label: string | undefined,
): Promise<boolean> {
  const dim = colors(io, 'stderr').dim;
  // With several schedules running at once, each line says whose it is (escaped: a --body's event is outside text).
  const whose = label === undefined ? '' : `${printableSnippet(label)}: `;
  const result = await deliverWithRetry(send, {
    delaysMs: FRONTENGINE_RETRY_DELAYS_MS,
    timeScale: plan.timeScale,
    signal,
    onAttempt: report,
    onWait: (next, waitMs) => {
      const nominal = (FRONTENGINE_RETRY_DELAYS_MS[next - 2] ?? 0);
      const scaled = plan.timeScale === 1 ? '' : ` (FrontEngine: ${formatDuration(nominal)})`;
      logLine(io, dim(`  ${whose}retry ${next - 1} of ${FRONTENGINE_RETRY_DELAYS_MS.length} in ${formatDuration(waitMs)}${scaled}`));
    },
  });
  if (!result.ok && !signal.aborted)
    logLine(io, colors(io, 'stderr').red(`  ${whose}failed after ${result.attempts.length} attempts, as FrontEngine would mark it`));
  return result.ok;
}

function lineTag(plan: SendPlan, repeat: number, attempt: number): string | undefined {
  if (plan.repeat > 1 && plan.retry) return `#${repeat}.${attempt}`;
  if (plan.repeat > 1) return `#${repeat}`;
  if (plan.retry) return `#${attempt}`;
  return undefined;
}

function printSummary(plan: SendPlan, tally: Tally, durationMs: number, io: CliIO): void {
  if (plan.json) {
    const summary = {
      sent: tally.sent,
      ok: tally.ok,
      failed: tally.sent - tally.ok,
      attempts: tally.attempts,
      durationMs: Math.round(durationMs),
    };
    printLine(io, JSON.stringify(summary));
    return;
  }
  if (tally.sent <= 1 && tally.attempts <= 1) return;
  const chalk = colors(io);
  const failed = tally.sent - tally.ok;
  const words = `${tally.ok} of ${tally.sent} delivered${failed > 0 ? `, ${failed} failed` : ''} (${tally.attempts} requests, ` +
    `${formatDuration(durationMs)})`;
  printLine(io, failed > 0 ? chalk.red(words) : chalk.green(words));
}
