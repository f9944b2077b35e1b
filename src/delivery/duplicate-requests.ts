import { Random } from '../events/random.js';

/**
 * Load mode's at-least-once drill (`send --count N --duplicates P`): each of the N
 * unique requests is, with probability P, sent a second time right after it, with the
 * same bytes and headers (signature included), as FrontEngine's redelivery would. The
 * choices are drawn up front, so the run knows its total request count.
 */
export interface DuplicatePlan {
  /** Unique requests plus their copies: the count to run. */
  total: number;
  duplicates: number;
  /**
   * The run's `index`th request from the `serial`th unique one: a copy is the very
   * object its original was (whichever of the two is asked for first makes it; a paced
   * run's timers may ask a little out of order).
   */
  wrap<R>(makeUnique: (serial: number) => R): (index: number) => R;
}

export function planDuplicates(count: number, probability: number, seed?: number): DuplicatePlan {
  if (probability <= 0) return { total: count, duplicates: 0, wrap: (makeUnique) => makeUnique };
  const rng = new Random(seed);
  const doubled = new Uint8Array(count);
  let duplicates = 0;
  for (let serial = 0; serial < count; serial++) {
    if (rng.next() < probability) {
      doubled[serial] = 1;
      duplicates++;
    }
  }
  // Run index → unique serial (both copies of a doubled request map to its serial).
  const serialOf = new Uint32Array(count + duplicates);
  for (let serial = 0, index = 0; serial < count; serial++) {
    serialOf[index++] = serial;
    if (doubled[serial] === 1) serialOf[index++] = serial;
  }
  return {
    total: count + duplicates,
    duplicates,
    wrap<R>(makeUnique: (serial: number) => R) {
      // A doubled request waits here for its copy: only a few are pending at a time.
      const pending = new Map<number, R>();
      return (index: number): R => {
        const serial = serialOf[index] as number;
        if (doubled[serial] !== 1) return makeUnique(serial);
        const made = pending.get(serial);
        if (made !== undefined) {
          pending.delete(serial);
          return made;
        }
        const fresh = makeUnique(serial);
        pending.set(serial, fresh);
        return fresh;
      };
    },
  };
}
