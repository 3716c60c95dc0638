// Figures as BENCHMARKS.md shows them, and the median the tables are made of.

/** The median of the known values (null when none is known); the upper middle of an even count. */
export function median(values: readonly (number | null)[]): number | null {
  const known = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return known.length === 0 ? null : known[Math.floor(known.length / 2)]!;
}

export const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
export const mib = (x: number | null): string => (x === null ? 'n/a' : `${(x / 2 ** 20).toFixed(0)} MiB`);
export const percent = (x: number | null, digits = 0): string => (x === null ? 'n/a' : `${x.toFixed(digits)}%`);
/** "met" or "not met", for a goal line. */
export const verdict = (met: boolean): string => (met ? 'met' : 'not met');
