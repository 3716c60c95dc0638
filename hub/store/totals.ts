// Running totals per (agent, side): every stored row carries the sums since the agent's first report,
// so the figures over any window are the difference of two rows, whatever the window's length.

/** One variant's figures from one report, as the store keeps them. */
export interface SampleValues {
  series: number | null;
  retention: number | null;
  cpu: number | null;
  rss: number | null;
  cost: number | null;
}

export interface Totals {
  /** Reports. */
  n: number;
  series: number;
  seriesN: number;
  cpu: number;
  cpuN: number;
  rss: number;
  rssN: number;
  cost: number;
  costN: number;
  /** Reports where retention was known (a critical process ran). */
  retentionN: number;
  /** Reports where a critical process was running but not visible. */
  lossy: number;
}

export const ZERO_TOTALS: Readonly<Totals> = Object.freeze({
  n: 0,
  series: 0,
  seriesN: 0,
  cpu: 0,
  cpuN: 0,
  rss: 0,
  rssN: 0,
  cost: 0,
  costN: 0,
  retentionN: 0,
  lossy: 0,
});

/** Column names, in one order, for the tables that carry totals. */
export const TOTALS_COLUMNS = ['c_n', 'c_series', 'c_series_n', 'c_cpu', 'c_cpu_n', 'c_rss', 'c_rss_n', 'c_cost', 'c_cost_n', 'c_ret_n', 'c_lossy'] as const;
const FIELDS: readonly (keyof Totals)[] = ['n', 'series', 'seriesN', 'cpu', 'cpuN', 'rss', 'rssN', 'cost', 'costN', 'retentionN', 'lossy'];

export type TotalsRow = Record<(typeof TOTALS_COLUMNS)[number], number>;

export const TOTALS_DDL = TOTALS_COLUMNS.map((c) => `${c} ${c.endsWith('_n') || c === 'c_lossy' ? 'INTEGER' : 'REAL'} NOT NULL`).join(', ');

const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);

export function addSample(t: Readonly<Totals>, s: SampleValues): Totals {
  return {
    n: t.n + 1,
    series: t.series + (finite(s.series) ? s.series : 0),
    seriesN: t.seriesN + (finite(s.series) ? 1 : 0),
    cpu: t.cpu + (finite(s.cpu) ? s.cpu : 0),
    cpuN: t.cpuN + (finite(s.cpu) ? 1 : 0),
    rss: t.rss + (finite(s.rss) ? s.rss : 0),
    rssN: t.rssN + (finite(s.rss) ? 1 : 0),
    cost: t.cost + (finite(s.cost) ? s.cost : 0),
    costN: t.costN + (finite(s.cost) ? 1 : 0),
    retentionN: t.retentionN + (finite(s.retention) ? 1 : 0),
    lossy: t.lossy + (finite(s.retention) && s.retention < 1 ? 1 : 0),
  };
}

/** The totals of the reports after `start` up to and including `end`. */
export function difference(end: Readonly<Totals>, start: Readonly<Totals>): Totals {
  const out = { ...ZERO_TOTALS };
  for (const f of FIELDS) out[f] = end[f] - start[f];
  return out;
}

export function toRow(t: Readonly<Totals>): TotalsRow {
  return Object.fromEntries(TOTALS_COLUMNS.map((c, i) => [c, t[FIELDS[i]!]])) as TotalsRow;
}

export function fromRow(row: Readonly<TotalsRow>): Totals {
  return Object.fromEntries(FIELDS.map((f, i) => [f, row[TOTALS_COLUMNS[i]!]])) as unknown as Totals;
}

/** Mean of a summed figure, or null when none was known. */
export function meanOf(sum: number, n: number): number | null {
  return n <= 0 ? null : sum / n;
}
