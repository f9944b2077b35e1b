import type { SchemaViolation } from '../events/schema.js';
import { fieldsOutsideSchema } from '../events/schema-paths.js';
import type { FieldOverride } from '../events/overrides.js';
import type { EventName } from '../events/types.js';
import { colors } from './colors.js';
import { logLine, type CliIO } from './io.js';

/**
 * Warnings on stderr about what --set/--data did to a sample: fields the event does not
 * have (a typo, another event's field) and broken schema rules. The body is still used:
 * sending a wrong body on purpose is a fair test of a receiver.
 */
export function warnAboutChanges(
  io: CliIO,
  event: EventName,
  changes: {
    violations: readonly SchemaViolation[];
    partial?: Record<string, unknown> | undefined;
    overrides?: readonly FieldOverride[] | undefined;
  },
): void {
  const yellow = colors(io, 'stderr').yellow;
  for (const field of fieldsOutsideSchema(event, changes)) {
    const where = field.unknown === field.path ? '' : ` (no ${field.unknown})`;
    logLine(io, yellow(`warning: ${field.from} ${field.path} is not a field of ${event}${where}; it is added anyway`));
  }
  for (const violation of changes.violations) logLine(io, yellow(`warning: ${event} schema: ${violation.path} ${violation.message}`));
}
