/** Bodies this big are not parsed just to read their event name. */
const EVENT_SNIFF_MAX_BYTES = 1024 * 1024;

/**
 * The body's `event` when it is a JSON object naming one; read only, never re-serialised.
 * `text`, when the caller has it, is the body decoded as UTF-8 already (saves a decode).
 */
export function eventOf(body: Buffer, text?: string): string | undefined {
  if (body.length === 0 || body.length > EVENT_SNIFF_MAX_BYTES) return undefined;
  try {
    const value: unknown = JSON.parse(text ?? body.toString('utf8'));
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const event = (value as Record<string, unknown>).event;
      if (typeof event === 'string' && event.length <= 200) return event;
    }
  } catch {
    // Not JSON: recorded as is, with no event.
  }
  return undefined;
}
