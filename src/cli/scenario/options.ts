// The flags' shape lives beside the action, not in commands/scenario.ts: the action imports it,
// and commands/scenario.ts imports the action lazily, so neither side imports the other back.
import type { FieldOverride } from '../../events/overrides.js';

/** The flags as commander hands them over; src/cli/scenario/plan.ts validates them into a ScenarioPlan. */
export interface ScenarioCliOptions {
  list?: boolean;
  set?: FieldOverride[];
  url?: string;
  secret?: string;
  timeout?: number;
  interval?: number;
  seed?: number;
  duplicates?: number;
  shuffle?: boolean;
  insecure?: boolean;
  json?: boolean;
}
