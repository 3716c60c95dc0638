// Small statistics and formatting shared by the benchmarks (percentile lives in hub-process.ts).
import { percentile } from './hub-process.js';

export { percentile };

export function mean(values: readonly number[]): number | null {
  return values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Median of the values that are numbers (the upper middle one for an even count, as bench/run.ts does). */
export function median(values: readonly (number | null)[]): number | null {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor(v.length / 2)]!;
}

/** CPU (% of one core) and RSS over a series of samples. */
export interface UsageSummary {
  samples: number;
  cpuPercentMean: number | null;
  cpuPercentP95: number | null;
  rssBytesMean: number | null;
  rssBytesPeak: number | null;
}

export function summarizeUsage(cpu: readonly number[], rss: readonly number[]): UsageSummary {
  return {
    samples: cpu.length,
    cpuPercentMean: mean(cpu),
    cpuPercentP95: percentile(cpu, 95),
    rssBytesMean: mean(rss),
    rssBytesPeak: rss.length === 0 ? null : Math.max(...rss),
  };
}

export const fmt = {
  pct: (x: number | null, digits = 2) => (x === null ? 'n/a' : `${x.toFixed(digits)}%`),
  ratio: (x: number | null, digits = 1) => (x === null ? 'n/a' : `${(x * 100).toFixed(digits)}%`),
  mib: (x: number | null) => (x === null ? 'n/a' : `${(x / 2 ** 20).toFixed(1)} MiB`),
  int: (x: number | null) => (x === null ? 'n/a' : Math.round(x).toLocaleString('en')),
};

/** One Markdown table row: a label, the median over runs, then every run's value. */
export function medianRow<R>(label: string, runs: readonly R[], pick: (r: R) => number | null, show: (x: number | null) => string): string {
  const values = runs.map(pick);
  return `| ${label} | ${show(median(values))} | ${values.map((v) => show(v)).join(', ')} |`;
}

export const ms = (x: number | null): string => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
/** Whole MiB, as the hub tables show memory. */
export const mib = (x: number | null): string => (x === null ? 'n/a' : `${(x / 2 ** 20).toFixed(0)} MiB`);
export const percent = (x: number | null, digits = 0): string => (x === null ? 'n/a' : `${x.toFixed(digits)}%`);
/** "met" or "not met", for a goal line. */
export const verdict = (met: boolean): string => (met ? 'met' : 'not met');
