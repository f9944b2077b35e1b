import type { Verdict } from './types.js';

/** How the two kinds of repeat are keyed; every report states these words. */
export const EXACT_KEY = 'the exact body bytes';
export const PAIR_KEY = 'event + payload.message.message_id';

/**
 * Finds repeats the way SPEC.md asks: the same bytes again is the same delivery
 * (FrontEngine retries repeat the exact bytes); the same event + message_id with other
 * bytes is a different event (two clicks, two delays), never called "the same delivery".
 * Server events and bounces/clicks carry no message_id and are keyed by bytes only.
 * Memory: one fingerprint and label per distinct request, never a body.
 */
export class DuplicateTracker {
  private readonly byBytes = new Map<string, string>();
  /** event → message_id → first label: nested, so no key string is built per request. */
  private readonly byPair = new Map<string, Map<string, string>>();
  exactDuplicates = 0;
  repeatedPairs = 0;

  /** Marks the verdict; true when it is an exact duplicate of an earlier request. */
  observe(verdict: Verdict, fingerprint: string | undefined): boolean {
    const label = verdict.id ?? verdict.location;
    if (fingerprint !== undefined) {
      const earlier = this.byBytes.get(fingerprint);
      if (earlier !== undefined) {
        verdict.exactDuplicateOf = earlier;
        this.exactDuplicates++;
        return true;
      }
      this.byBytes.set(fingerprint, label);
    }
    if (verdict.event !== undefined && verdict.messageId !== undefined) {
      let ids = this.byPair.get(verdict.event);
      if (ids === undefined) this.byPair.set(verdict.event, (ids = new Map()));
      const earlier = ids.get(verdict.messageId);
      if (earlier !== undefined) {
        verdict.samePairAs = earlier;
        this.repeatedPairs++;
      } else ids.set(verdict.messageId, label);
    }
    return false;
  }
}
