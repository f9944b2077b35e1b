import { eventDefinition } from './catalog.js';
import { validateAgainst, type SchemaViolation } from './schema.js';

export interface EventValidation {
  /** The body's `event` when it names a known event. */
  event?: string;
  violations: SchemaViolation[];
}

/**
 * Checks a parsed body against its event's schema: a known `event` and a matching payload.
 * Every result has both keys (`event` undefined when unknown): one hidden class for
 * verify's hot loop.
 */
export function validateEvent(body: unknown): EventValidation {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return { event: undefined, violations: [{ path: '$', message: 'expected a JSON object' }] };
  }
  const name = (body as Record<string, unknown>).event;
  if (typeof name !== 'string') return { event: undefined, violations: [{ path: 'event', message: 'is required and must be a string' }] };
  const definition = eventDefinition(name);
  if (!definition) return { event: undefined, violations: [{ path: 'event', message: `unknown event "${name}"` }] };
  return { event: name, violations: validateAgainst(definition.schema, body) };
}
