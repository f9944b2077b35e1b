import { UserError } from '../errors.js';
import { resolveEventName } from '../events/names.js';
import type { EventName } from '../events/types.js';
import type { ExpectationResult } from './types.js';

export interface Expectation {
  event: EventName;
  min: number;
}

/** `MessageSent` (at least one) or `MessageSent:2`. */
export function parseExpectation(input: string): Expectation {
  const match = /^([^:]+)(?::(\d+))?$/.exec(input.trim());
  if (!match) throw new UserError(`Invalid --expect "${input}": expected EVENT or EVENT:N, e.g. MessageSent:2`);
  const min = match[2] === undefined ? 1 : Number(match[2]);
  if (!Number.isSafeInteger(min) || min < 1) throw new UserError(`Invalid --expect "${input}": N must be 1 or more`);
  return { event: resolveEventName(match[1] as string), min };
}

/** Counts distinct valid deliveries per event against the expectations. */
export class ExpectationTally {
  private readonly seen = new Map<string, number>();
  constructor(private readonly expectations: readonly Expectation[]) {}

  count(event: string): void {
    this.seen.set(event, (this.seen.get(event) ?? 0) + 1);
  }

  results(): ExpectationResult[] {
    return this.expectations.map(({ event, min }) => {
      const seen = this.seen.get(event) ?? 0;
      return { event, min, seen, ok: seen >= min };
    });
  }
}
