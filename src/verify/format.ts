const UNITS_MS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

/** A duration for people: `3d4h`, `12m5s`, `800ms`; negative means in the future. */
export function formatAge(ms: number): string {
  if (ms < 0) return `${formatAge(-ms)} in the future`;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const start = UNITS_MS.findIndex(([, size]) => ms >= size);
  // The largest unit and the one below it: `3d4h`, not `3d4h12m9s`.
  let left = ms;
  let text = '';
  for (const [unit, size] of UNITS_MS.slice(start, start + 2)) {
    const count = Math.floor(left / size);
    left -= count * size;
    if (count > 0) text += `${count}${unit}`;
  }
  return text;
}
