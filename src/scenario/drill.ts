import { Random } from '../events/random.js';

/** One delivery of a drill: a story event, sent for the first time or again. */
export interface DrillDelivery<T> {
  item: T;
  /** The same bytes and signature sent once more, as FrontEngine's at-least-once redelivery does. */
  duplicate: boolean;
}

export interface DrillOptions {
  /** The chance that each delivery is sent a second time (0 to 1). */
  duplicates: number;
  /** Deliver in a random order (duplicates included). */
  shuffle: boolean;
  /** Repeats the drill's choices; default random. */
  seed?: number;
}

/**
 * The order a story is delivered in under an at-least-once drill: each event once, plus
 * with probability `duplicates` a second copy right after it; with `shuffle`, all of
 * them in a random order (Fisher-Yates), so a duplicate may even come first.
 */
export function drillOrder<T>(items: readonly T[], options: DrillOptions): DrillDelivery<T>[] {
  // Its own stream: the drill's choices do not change the story's bodies.
  const rng = new Random(options.seed === undefined ? undefined : options.seed ^ 0x5eed);
  const order: DrillDelivery<T>[] = [];
  for (const item of items) {
    order.push({ item, duplicate: false });
    if (options.duplicates > 0 && rng.next() < options.duplicates) order.push({ item, duplicate: true });
  }
  if (options.shuffle) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [order[i], order[j]] = [order[j] as DrillDelivery<T>, order[i] as DrillDelivery<T>];
    }
  }
  // What the receiver sees: the first delivery of an item is the original, any later one the duplicate.
  const seen = new Set<T>();
  return order.map(({ item }) => {
    const duplicate = seen.has(item);
    seen.add(item);
    return { item, duplicate };
  });
}
