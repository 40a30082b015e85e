// Order statistics for the bench: medians and ranges over rounds, percentiles over latencies.

export interface Spread {
  median: number;
  min: number;
  max: number;
}

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('Expected at least one value');
  return [...values].sort((a, b) => a - b);
}

export function median(values: readonly number[]): number {
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Nearest-rank percentile (p in 0..100): always one of the measured values. */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, Math.max(1, rank)) - 1]!;
}

export function spread(values: readonly number[]): Spread {
  const s = sorted(values);
  return { median: median(s), min: s[0]!, max: s[s.length - 1]! };
}

/** Latencies of one kind: nearest-rank p50 and p99, with the extremes and the count. */
export interface Percentiles {
  count: number;
  p50: number;
  p99: number;
  min: number;
  max: number;
  mean: number;
}

export function percentiles(values: readonly number[]): Percentiles {
  const s = sorted(values);
  return {
    count: s.length,
    p50: percentile(s, 50),
    p99: percentile(s, 99),
    min: s[0]!,
    max: s[s.length - 1]!,
    mean: s.reduce((sum, v) => sum + v, 0) / s.length,
  };
}
