import type { DeliveryOutcome } from '../../delivery/deliver.js';
import { CheckFailedError } from '../../errors.js';
import type { SendPlan } from './plan.js';

/** Where a command delivers (send's plan, scenario's). */
type Target = Pick<SendPlan, 'url' | 'urlIsDefault'>;

/**
 * With no URL given, a refused connection almost always means `listen` is not running:
 * say so instead of reporting a bare "connection refused" (or retrying for hours).
 */
export function assertReachable(plan: Target, outcome: DeliveryOutcome): void {
  if (plan.urlIsDefault && outcome.error?.kind === 'refused') throw unreachableError(plan);
}

export function unreachableError(plan: Target): CheckFailedError {
  return new CheckFailedError(
    `Nothing is listening at ${plan.url.href} (the default target). Start \`fe-webhooks listen\` in another terminal, or pass --url`,
  );
}
