export interface LatencyPercentiles {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentiles of `samples` (sorted in place), rounded to 0.1 ms; zeros when empty. */
export function latencyPercentiles(samples: Float64Array): LatencyPercentiles {
  if (samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: 0 };
  samples.sort();
  const at = (p: number): number => round((samples[Math.min(samples.length - 1, Math.ceil((p / 100) * samples.length) - 1)] as number));
  return { p50: at(50), p95: at(95), p99: at(99), max: round(samples[samples.length - 1] as number) };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
