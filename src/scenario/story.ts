import type { FieldOverride } from '../events/overrides.js';
import type { EventName } from '../events/types.js';

/** One step of a story: an event, the fields it sets, how often, and how long to wait first. */
export interface StoryStep {
  /** How later steps refer to it (`${sent.payload.message.id}`); optional. */
  name?: string;
  event: EventName;
  /** Fields set on the sample, in order; string values may hold `${step.path}` references. */
  set: FieldOverride[];
  /** A partial document deep-merged over the sample before `set` (as `--data`). */
  data?: Record<string, unknown>;
  /** The step happens this many times (each a new event about the same message). */
  repeat: number;
  /** Wait this long before sending the step's first event. */
  afterMs: number;
}

export interface Story {
  /** A built-in story's name, or the file it came from. */
  name: string;
  description?: string;
  steps: StoryStep[];
}

/** How a step is named in messages: `step 2 "bounced"`, `step 2 (MessageBounced)` or `step 2`. */
export function stepLabel(index: number, name: string | undefined, event: string | undefined): string {
  if (name !== undefined) return `step ${index + 1} ${JSON.stringify(name)}`;
  return event !== undefined ? `step ${index + 1} (${event})` : `step ${index + 1}`;
}
