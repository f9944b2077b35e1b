import { UserError } from '../errors.js';
import { composeBody } from '../events/compose.js';
import { newThread, SEEDED_CLOCK } from '../events/generate.js';
import type { FieldOverride } from '../events/overrides.js';
import { Random } from '../events/random.js';
import type { SchemaViolation } from '../events/schema.js';
import { absorbIntoThread } from '../events/thread.js';
import type { EventName } from '../events/types.js';
import { resolveReferences, UnresolvedReference } from './references.js';
import { stepLabel, type Story, type StoryStep } from './story.js';

/** One event of a composed story, in story order. */
export interface StoryEvent {
  /** 1-based place in the story. */
  place: number;
  /** The step's name, else its event name. */
  step: string;
  /** Which step of the story (0-based), and whether this is its first event (a step may repeat). */
  stepIndex: number;
  firstOfStep: boolean;
  event: EventName;
  /** The exact bytes to sign and send (compact JSON, as `send`). */
  body: string;
  /** Wait this long before sending it (its step's `after`, on the step's first event). */
  afterMs: number;
  /** How the step's `set`/`data` broke the event's schema, if they did. */
  violations: SchemaViolation[];
}

export interface ComposeStoryOptions {
  /** Makes the whole story repeatable byte for byte. */
  seed?: number;
  /** When the story's last event happens; default now, or SEEDED_CLOCK when seeded. */
  now?: Date;
}

/**
 * Postal retries a soft-failed message on a lengthening schedule; a story's k-th
 * MessageDelayed says "Will retry in" the k-th of these, and the next event comes then.
 */
const DELAY_SCHEDULE_MINUTES = [5, 10, 30, 60, 120, 240];
/** How long after the previous event each event typically comes, in seconds. */
const TYPICAL_GAP_S: Partial<Record<EventName, number>> = { MessageBounced: 120, MessageLinkClicked: 300 };
const DEFAULT_GAP_S = 60;

interface Occurrence {
  stepIndex: number;
  step: StoryStep;
  first: boolean;
  retryInMinutes?: number;
  /** Seconds after the story's first event. */
  offsetS: number;
}

/** Every event of the story with its time: each follows the previous by a realistic gap (plus its step's `after`). */
function timeline(steps: readonly StoryStep[]): Occurrence[] {
  const out: Occurrence[] = [];
  let delays = 0;
  let offsetS = 0;
  steps.forEach((step, stepIndex) => {
    for (let n = 0; n < step.repeat; n++) {
      const previous = out.at(-1);
      if (previous) {
        const gap = previous.retryInMinutes !== undefined ? previous.retryInMinutes * 60 : (TYPICAL_GAP_S[step.event] ?? DEFAULT_GAP_S);
        offsetS += gap + (n === 0 ? Math.ceil(step.afterMs / 1000) : 0);
      }
      const retryInMinutes =
        step.event === 'MessageDelayed'
          ? (DELAY_SCHEDULE_MINUTES[Math.min(delays++, DELAY_SCHEDULE_MINUTES.length - 1)] as number)
          : undefined;
      out.push({ stepIndex, step, first: n === 0, retryInMinutes, offsetS });
    }
  });
  return out;
}

/**
 * Composes every event of a story before anything is sent: one thread (message and
 * server) shared by all steps, timestamps increasing in story order and ending at
 * `now`, each step's `set`/`data` applied with its references resolved against the
 * earlier steps' final bodies. A bad reference is a UserError naming the step and field.
 */
export function composeStory(story: Story, options: ComposeStoryOptions = {}): StoryEvent[] {
  const rng = new Random(options.seed);
  const clock = options.now ?? (options.seed !== undefined ? SEEDED_CLOCK : new Date());
  const occurrences = timeline(story.steps);
  const endS = Math.floor(clock.getTime() / 1000);
  const startS = endS - (occurrences.at(-1)?.offsetS ?? 0);
  const thread = newThread(rng, startS);
  // A step's latest body, by name, for references.
  const bodies = new Map<string, unknown>();
  return occurrences.map((occurrence, index) => {
    const { step, stepIndex } = occurrence;
    const label = stepLabel(stepIndex, step.name, step.event);
    const bodyOf = (name: string): unknown => bodies.get(name);
    let overrides: FieldOverride[];
    let partial: Record<string, unknown> | undefined;
    try {
      overrides = step.set.map((o) => ({ path: o.path, value: resolveReferences(o.value, bodyOf) }));
      partial = step.data && (resolveReferences(step.data, bodyOf) as Record<string, unknown>);
    } catch (error) {
      if (error instanceof UnresolvedReference) throw new UserError(`Invalid story ${story.name}: ${label}: ${error.message}`);
      throw error;
    }
    const composed = composeBody(step.event, {
      seed: rng.int(0, 2 ** 32 - 1),
      now: new Date((startS + occurrence.offsetS) * 1000),
      thread,
      retryInMinutes: occurrence.retryInMinutes,
      partial,
      overrides,
      compact: true,
    });
    const document: unknown = JSON.parse(composed.body);
    absorbIntoThread(thread, document);
    if (step.name !== undefined) bodies.set(step.name, document);
    return {
      place: index + 1,
      step: step.name ?? step.event,
      stepIndex,
      firstOfStep: occurrence.first,
      event: step.event,
      body: composed.body,
      afterMs: occurrence.first ? step.afterMs : 0,
      violations: composed.violations,
    };
  });
}
