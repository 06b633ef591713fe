/** Order statistics of samples. */

/** The `p`-th percentile (0..100) of `values`, interpolated between closest ranks; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (rank - low);
}

/** The median of `values`. */
export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** A median with the lowest and highest value it was taken from. */
export interface Spread {
  median: number;
  low: number;
  high: number;
}

/** The median of `values` and their range (NaN for all three when empty). */
export function spread(values: readonly number[]): Spread {
  if (values.length === 0) return { median: Number.NaN, low: Number.NaN, high: Number.NaN };
  return { median: median(values), low: Math.min(...values), high: Math.max(...values) };
}
