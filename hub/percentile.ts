// Nearest-rank percentiles, as the comparison reads every spread over hosts.

/** The index of the nearest-rank p-th percentile in an ascending list of `length` items (-1 when empty). */
export function nearestRank(length: number, p: number): number {
  if (length === 0) return -1;
  return Math.min(length - 1, Math.max(0, Math.ceil((p / 100) * length) - 1));
}

/** Nearest-rank percentile of an ascending array. */
export function percentile(sorted: ArrayLike<number>, p: number): number | null {
  return sorted.length === 0 ? null : sorted[nearestRank(sorted.length, p)]!;
}
