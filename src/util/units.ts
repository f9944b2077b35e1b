import { UserError } from '../errors.js';

const DURATION_UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * `5s`, `250ms`, `2m`, `1h`, `7d`, or a bare number of milliseconds → milliseconds.
 * `what` names the flag in the error.
 */
export function parseDurationMs(input: string | number, what = 'duration'): number {
  if (typeof input === 'number') {
    if (Number.isFinite(input) && input >= 0) return input;
    throw new UserError(`Invalid ${what} ${input}: expected a non-negative number of milliseconds`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|min|h|d)?\s*$/i.exec(input);
  if (!match) throw new UserError(`Invalid ${what} "${input}": expected e.g. 500ms, 5s, 2m, 1h or 7d`);
  const unit = (match[2] ?? 'ms').toLowerCase();
  return Math.round(Number(match[1]) * (DURATION_UNITS_MS[unit] as number));
}

const SIZE_UNITS: Record<string, number> = {
  b: 1,
  kb: 1000,
  kib: 1024,
  mb: 1e6,
  mib: 1024 ** 2,
  gb: 1e9,
  gib: 1024 ** 3,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
};

/** `25MiB`, `512kb`, `1048576` → bytes. */
export function parseSizeBytes(input: string | number, what = 'size'): number {
  if (typeof input === 'number') {
    if (Number.isSafeInteger(input) && input > 0) return input;
    throw new UserError(`Invalid ${what} ${input}: expected a positive number of bytes`);
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)?\s*$/i.exec(input);
  const factor = SIZE_UNITS[(match?.[2] ?? 'b').toLowerCase()];
  if (!match || factor === undefined) throw new UserError(`Invalid ${what} "${input}": expected e.g. 25MiB, 512KiB or a number of bytes`);
  const bytes = Math.floor(Number(match[1]) * factor);
  if (bytes <= 0) throw new UserError(`Invalid ${what} "${input}": must be more than 0 bytes`);
  return bytes;
}

/** A positive integer flag value (`--count`, `--repeat`). */
export function parsePositiveInt(input: string, what: string): number {
  if (!/^\d+$/.test(input.trim()) || Number(input) < 1 || !Number.isSafeInteger(Number(input))) {
    throw new UserError(`Invalid ${what} "${input}": expected a whole number of 1 or more`);
  }
  return Number(input);
}

/** Bytes for people: `25 MiB`, `512 KiB`, `900 B`. */
export function formatBytes(bytes: number): string {
  const units: Array<[string, number]> = [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]];
  for (const [unit, size] of units) {
    if (bytes >= size) return `${Number((bytes / size).toFixed(1))} ${unit}`;
  }
  return `${bytes} B`;
}
