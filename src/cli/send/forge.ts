import { deliver, type DeliveryOutcome } from '../../delivery/deliver.js';
import { createAgent } from '../../delivery/dispatcher.js';
import { FORGERY_LABELS, forgedRequests, type ForgeryCase } from '../../delivery/forgery.js';
import { CheckFailedError } from '../../errors.js';
import { printableLine } from '../../util/printable.js';
import { colors } from '../colors.js';
import { printLine, type CliIO } from '../io.js';
import { deliveryRecord, failureReason, formatLatency } from '../print-delivery.js';
import type { PlannedBody } from './bodies.js';
import type { SendPlan } from './plan.js';
import { assertReachable } from './unreachable.js';

/** A forged request is rejected as it should be when the endpoint answers 4xx. */
function rejected(outcome: DeliveryOutcome): boolean {
  return outcome.status !== undefined && outcome.status >= 400 && outcome.status < 500;
}

function verdict(outcome: DeliveryOutcome): string {
  if (rejected(outcome)) return 'rejected';
  if (outcome.ok) return 'ACCEPTED a forged request';
  if (outcome.status !== undefined) return `answered ${outcome.status}, not a 4xx rejection`;
  return failureReason(outcome) ?? 'no answer';
}

/**
 * The forgery drill: for each body, a wrong secret, a tampered body and a missing
 * header. Passes only when every one is answered with a 4xx; otherwise says which.
 */
export async function sendForgeries(plan: SendPlan, bodies: PlannedBody[], io: CliIO): Promise<void> {
  const dispatcher = createAgent({ insecure: plan.insecure, connectTimeoutMs: plan.timeoutMs });
  const chalk = colors(io);
  const failures: string[] = [];
  let sent = 0;
  try {
    for (const body of bodies) {
      const bytes = Buffer.from(body.bytes);
      for (const forged of forgedRequests(bytes, { userAgent: plan.userAgent, secret: plan.secret, extraHeaders: plan.headers })) {
        const outcome = await deliver({ url: plan.url, body: forged.body, headers: forged.headers, timeoutMs: plan.timeoutMs, dispatcher });
        sent++;
        report(plan, io, body.label, forged.case, outcome);
        assertReachable(plan, outcome);
        if (!rejected(outcome)) failures.push(`${body.label} ${FORGERY_LABELS[forged.case]} (${verdict(outcome)})`);
      }
    }
  } finally {
    await dispatcher.destroy();
  }
  if (plan.json) printLine(io, JSON.stringify({ sent, rejected: sent - failures.length, failed: failures.length }));
  else
    printLine(
      io,
      failures.length === 0
        ? chalk.green(`All ${sent} forged requests were rejected with 4xx`)
        : chalk.red(`${failures.length} of ${sent} forged requests were not rejected`),
    );
  if (failures.length > 0) throw new CheckFailedError(`The endpoint did not reject every forged signature: ${failures.join('; ')}`);
}

function report(plan: SendPlan, io: CliIO, label: string, forgery: ForgeryCase, outcome: DeliveryOutcome): void {
  if (plan.json) {
    printLine(io, JSON.stringify({ ...deliveryRecord({ event: label, attempt: 1, outcome }), case: forgery, rejected: rejected(outcome) }));
    return;
  }
  const chalk = colors(io);
  const good = rejected(outcome);
  const status = outcome.status !== undefined ? String(outcome.status) : '---';
  printLine(io, [
    // The label may be the "event" of a --body: outside text, and it starts the line.
    printableLine(label).padEnd(22),
    FORGERY_LABELS[forgery].padEnd(24),
    good ? chalk.green(status) : chalk.red(status),
    formatLatency(outcome.latencyMs).padStart(8),
    good ? chalk.green(verdict(outcome)) : chalk.red(verdict(outcome)),
  ].join('  '));
}
