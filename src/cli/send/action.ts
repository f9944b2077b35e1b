import type { SendCliOptions } from '../commands/send.js';
import type { CliIO } from '../io.js';
import { plannedBodies } from './bodies.js';
import { sendDeliveries } from './deliveries.js';
import { printDryRun } from './dry-run.js';
import { sendForgeries } from './forge.js';
import { sendLoad } from './load-mode.js';
import { resolveSendPlan } from './plan.js';

/** `fe-webhooks send`: validate everything, then one of the modes. */
export async function sendCommand(events: string[], options: SendCliOptions, io: CliIO): Promise<void> {
  const plan = await resolveSendPlan(events, options, io);
  if (plan.mode === 'load') return sendLoad(plan, io);
  const bodies = plannedBodies(plan, io);
  if (plan.dryRun) return printDryRun(plan, bodies, io);
  if (plan.mode === 'forge') return sendForgeries(plan, bodies, io);
  return sendDeliveries(plan, bodies, io);
}
