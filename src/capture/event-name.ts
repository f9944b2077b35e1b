/** Bodies this big are not parsed just to read their event name. */
const EVENT_SNIFF_MAX_BYTES = 1024 * 1024;

/** The body's `event` when it is a JSON object naming one; read only, never re-serialised. */
export function eventOf(body: Buffer): string | undefined {
  if (body.length === 0 || body.length > EVENT_SNIFF_MAX_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const event = (value as Record<string, unknown>).event;
      if (typeof event === 'string' && event.length <= 200) return event;
    }
  } catch {
    // Not JSON: recorded as is, with no event.
  }
  return undefined;
}
