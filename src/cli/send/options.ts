// The flags' shape lives beside the action, not in commands/send.ts: the action imports it,
// and commands/send.ts imports the action lazily, so neither side imports the other back.
import type { FieldOverride } from '../../events/overrides.js';

/** The flags as commander hands them over; src/cli/send/plan.ts turns them into a SendPlan. */
export interface SendCliOptions {
  all?: boolean;
  url?: string;
  secret?: string;
  set?: FieldOverride[];
  data?: string;
  seed?: number;
  body?: string;
  header?: string[];
  timeout?: number;
  repeat?: number;
  retry?: boolean;
  timeScale?: number;
  badSignature?: boolean;
  count?: number;
  concurrency?: number;
  rate?: number;
  duplicates?: number;
  insecure?: boolean;
  dryRun?: boolean;
  json?: boolean;
}
