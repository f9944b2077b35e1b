/**
 * `new Date(ms).toISOString()` for time stamps taken on hot paths (every captured
 * request): within one second only the milliseconds change, so the text up to the second
 * is made once per second and reused. Same text as toISOString, always.
 */
let secondStart = Number.NaN;
let secondPrefix = '';

export function isoTime(ms: number): string {
  const into = ms - secondStart;
  if (into >= 0 && into < 1000 && Number.isInteger(into)) {
    return `${secondPrefix}${into < 10 ? '00' : into < 100 ? '0' : ''}${into}Z`;
  }
  const text = new Date(ms).toISOString();
  // `2026-12-07T01:02:03.456Z`; years past 9999 (`+010000-…`) are not cached.
  if (text.length === 24 && Number.isInteger(ms)) {
    secondStart = ms - Number(text.slice(20, 23));
    secondPrefix = text.slice(0, 20);
  }
  return text;
}
