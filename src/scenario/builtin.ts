import type { EventName } from '../events/types.js';
import type { Story, StoryStep } from './story.js';

interface BuiltinStory {
  name: string;
  summary: string;
  steps: StoryStep[];
}

/**
 * A step of a built-in story. Coherence comes from the story's thread (one message, one
 * server), so a built-in story is only its events: the same shape a story file has.
 */
function step(name: string, event: EventName, repeat = 1): StoryStep {
  return { name, event, set: [], repeat, afterMs: 0 };
}

/** The built-in stories, in `--list` order. */
export const BUILTIN_STORIES: readonly BuiltinStory[] = [
  { name: 'delivered', summary: 'MessageSent: a message reaches the recipient', steps: [step('sent', 'MessageSent')] },
  {
    name: 'clicked',
    summary: 'MessageSent, then MessageLinkClicked on that message',
    steps: [step('sent', 'MessageSent'), step('clicked', 'MessageLinkClicked')],
  },
  {
    name: 'bounced',
    summary: 'MessageSent, then MessageBounced from the recipient\'s domain back to the sender',
    steps: [step('sent', 'MessageSent'), step('bounced', 'MessageBounced')],
  },
  {
    name: 'delayed-then-sent',
    summary: 'MessageDelayed (4xx), then MessageSent on the retry',
    steps: [step('delayed', 'MessageDelayed'), step('sent', 'MessageSent')],
  },
  {
    name: 'delayed-then-failed',
    summary: 'MessageDelayed twice (4xx), then MessageDeliveryFailed (5xx)',
    steps: [step('delayed', 'MessageDelayed', 2), step('failed', 'MessageDeliveryFailed')],
  },
  { name: 'held', summary: 'MessageHeld: the message is held for review', steps: [step('held', 'MessageHeld')] },
  {
    name: 'send-limit',
    summary: 'SendLimitApproaching, then SendLimitExceeded: one server, volume rising past its limit',
    steps: [step('approaching', 'SendLimitApproaching'), step('exceeded', 'SendLimitExceeded')],
  },
  { name: 'dns-error', summary: 'DomainDNSError for the sending domain', steps: [step('dns', 'DomainDNSError')] },
];

export const BUILTIN_STORY_NAMES: readonly string[] = BUILTIN_STORIES.map((s) => s.name);

/** The built-in story of that name, or undefined. */
export function builtinStory(name: string): Story | undefined {
  const found = BUILTIN_STORIES.find((s) => s.name === name.toLowerCase());
  return found && { name: found.name, description: found.summary, steps: found.steps };
}
