import { InvalidArgumentError } from 'commander';
import { UserError } from '../errors.js';
import { parseFieldOverride, type FieldOverride } from '../events/overrides.js';
import { parseDurationMs, parsePositiveInt, parseSizeBytes } from '../util/units.js';

/**
 * Commander argument parsers. Each validates once, where the flag is read, and turns
 * our UserError into commander's InvalidArgumentError so the message names the flag.
 */
function asArgParser<T>(parse: (value: string) => T): (value: string) => T {
  return (value) => {
    try {
      return parse(value);
    } catch (error) {
      if (error instanceof UserError) throw new InvalidArgumentError(error.message);
      throw error;
    }
  };
}

export const durationArg = (what: string): ((v: string) => number) => asArgParser((v) => parseDurationMs(v, what));
export const sizeArg = (what: string): ((v: string) => number) => asArgParser((v) => parseSizeBytes(v, what));
export const positiveIntArg = (what: string): ((v: string) => number) => asArgParser((v) => parsePositiveInt(v, what));

export function seedArg(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError(`Invalid --seed "${value}": expected a whole number`);
  }
  return Number(value);
}

export function portArg(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError(`Invalid port "${value}": expected 0-65535`);
  return port;
}

/** Repeatable `--set path=value`. */
export function collectFieldOverride(value: string, previous: FieldOverride[] = []): FieldOverride[] {
  return [...previous, asArgParser(parseFieldOverride)(value)];
}

/** Repeatable string flags (`--header`, `--secret`, `--expect`). */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** A probability from 0 to 1 (`--duplicates 0.3`). */
export function probabilityArg(flag: string): (value: string) => number {
  return (value) => {
    const number = Number(value);
    if (value.trim() === '' || !Number.isFinite(number) || number < 0 || number > 1) {
      throw new InvalidArgumentError(`Invalid ${flag} "${value}": expected a probability from 0 to 1, e.g. 0.3`);
    }
    return number;
  };
}
