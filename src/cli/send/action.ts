import type { SendCliOptions } from './options.js';
import type { CliIO } from '../io.js';
import { plannedBodies } from './bodies.js';
import { printDryRun } from './dry-run.js';
import { resolveSendPlan } from './plan.js';

/**
 * `fe-webhooks send`: validate everything, then one of the modes. The modes are imported
 * when chosen: loading undici (single deliveries, drills) costs ~140 ms of CPU that load
 * mode, on its own HTTP/1.1 client, must not pay.
 */
export async function sendCommand(events: string[], options: SendCliOptions, io: CliIO): Promise<void> {
  const plan = await resolveSendPlan(events, options, io);
  if (plan.mode === 'load') return (await import('./load-mode.js')).sendLoad(plan, io);
  const bodies = plannedBodies(plan, io);
  if (plan.dryRun) return printDryRun(plan, bodies, io);
  if (plan.mode === 'forge') return (await import('./forge.js')).sendForgeries(plan, bodies, io);
  return (await import('./deliveries.js')).sendDeliveries(plan, bodies, io);
}
