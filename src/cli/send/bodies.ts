import { composeBody } from '../../events/compose.js';
import type { CliIO } from '../io.js';
import { warnAboutChanges } from '../schema-warnings.js';
import type { SendPlan } from './plan.js';

/** One body to send, with what to call it in the output. */
export interface PlannedBody {
  label: string;
  bytes: Buffer | string;
}

/**
 * The bodies of a plan: the --body bytes as they are, or one fresh sample per event
 * (compact, as webhook senders send JSON), with a warning when --set/--data broke the schema or added a field the event lacks.
 */
export function plannedBodies(plan: SendPlan, io: CliIO): PlannedBody[] {
  if (plan.body) return [{ label: plan.body.label, bytes: plan.body.bytes }];
  return plan.events.map((event) => {
    const composed = composeBody(event, { seed: plan.seed, partial: plan.partial, overrides: plan.overrides, compact: true });
    warnAboutChanges(io, event, { violations: composed.violations, partial: plan.partial, overrides: plan.overrides });
    return { label: event, bytes: composed.body };
  });
}
