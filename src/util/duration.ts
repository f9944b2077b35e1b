/**
 * The one duration formatter. Every place that shows a time to people goes through it;
 * the options only choose how precise a place needs to be, so a latency column, a
 * listen line and a retry countdown still read as the same kind of number.
 */
export interface DurationStyle {
  /** Digits after the point for seconds (default 2); minutes and hours get one. */
  decimals?: number;
  /** Keep trailing zeros (`1.50 s`) so a column or a countdown does not jitter. */
  fixed?: boolean;
  /** Always this unit instead of the largest that fits: `1234 ms`, `0.5 s`. */
  unit?: 'ms' | 's';
  /** One decimal under 10 ms (`3.2 ms`): loopback round trips are that short. */
  fineMs?: boolean;
  /**
   * `3d4h`, `12m5s`, `800ms`: the largest unit and the one below it, written as the
   * duration flags are (--max-age 5m); negative reads "in the future".
   */
  compact?: boolean;
}

const COMPACT_UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

function number(value: number, decimals: number, fixed: boolean): string {
  return fixed ? value.toFixed(decimals) : String(Number(value.toFixed(decimals)));
}

function compact(ms: number): string {
  if (ms < 0) return `${compact(-ms)} in the future`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const start = COMPACT_UNITS.findIndex(([, size]) => ms >= size);
  // The largest unit and the one below it: `3d4h`, not `3d4h12m9s`.
  let left = ms;
  let text = '';
  for (const [unit, size] of COMPACT_UNITS.slice(start, start + 2)) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0) text += `${count}${unit}`;
  }
  return text;
}

/** A human duration: `60 ms`, `1.5 s`, `5 min`, `2 h` (see DurationStyle for the variants). */
export function formatDuration(ms: number, style: DurationStyle = {}): string {
  if (style.compact) return compact(ms);
  const fixed = style.fixed ?? false;
  const unit = style.unit ?? (ms < 1000 ? 'ms' : ms < 60_000 ? 's' : undefined);
  if (unit === 'ms') return style.fineMs && ms < 10 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`;
  if (unit === 's') return `${number(ms / 1000, style.decimals ?? 2, fixed)} s`;
  if (ms < 3_600_000) return `${number(ms / 60_000, 1, fixed)} min`;
  return `${number(ms / 3_600_000, 1, fixed)} h`;
}
