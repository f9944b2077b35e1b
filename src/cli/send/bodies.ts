import { composeBody } from '../../events/compose.js';
import { colors } from '../colors.js';
import { logLine, type CliIO } from '../io.js';
import type { SendPlan } from './plan.js';

/** One body to send, with what to call it in the output. */
export interface PlannedBody {
  label: string;
  bytes: Buffer | string;
}

/**
 * The bodies of a plan: the --body bytes as they are, or one fresh sample per event
 * (compact, as webhook senders send JSON), with a warning when --set/--data broke the schema.
 */
export function plannedBodies(plan: SendPlan, io: CliIO): PlannedBody[] {
  if (plan.body) return [{ label: plan.body.label, bytes: plan.body.bytes }];
  return plan.events.map((event) => {
    const composed = composeBody(event, { partial: plan.partial, overrides: plan.overrides, compact: true });
    for (const violation of composed.violations) {
      logLine(io, colors(io, 'stderr').yellow(`warning: ${event} schema: ${violation.path} ${violation.message}`));
    }
    return { label: event, bytes: composed.body };
  });
}
