import { UserError } from '../errors.js';
import { closestMatch } from '../util/suggest.js';
import { EVENT_NAMES } from './catalog.js';
import type { EventName } from './types.js';

/** `MessageBounced`, `messagebounced`, `message.bounced`, `message_bounced` all become `messagebounced`. */
function normalize(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9]/g, '');
}

const BY_NORMALIZED = new Map<string, EventName>(EVENT_NAMES.map((name) => [normalize(name), name]));

/** The canonical event name for user input, or undefined. */
export function findEventName(input: string): EventName | undefined {
  const key = normalize(input);
  // `bounced`, `link.clicked`: the Message prefix may be left out.
  return BY_NORMALIZED.get(key) ?? BY_NORMALIZED.get(`message${key}`);
}

/** The canonical event name for user input; a UserError with a suggestion when unknown. */
export function resolveEventName(input: string): EventName {
  const found = findEventName(input);
  if (found) return found;
  const suggestion = closestMatch(input, EVENT_NAMES, normalize);
  const hint = suggestion ? ` Did you mean ${suggestion}?` : ' Run `fe-webhooks events` to list them.';
  throw new UserError(`Unknown event "${input}".${hint}`);
}
