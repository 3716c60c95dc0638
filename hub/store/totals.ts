// Running totals per (agent, side): every stored row carries the sums since the agent's first report,
// so the figures over any window are the difference of two rows, whatever the window's length.
import { combineLoss, LOSS_COLUMNS, lossColumnType, ZERO_LOSS, type LossColumn, type LossSums } from './loss-sums.js';

/** One variant's figures from one report, as the store keeps them. */
export interface SampleValues {
  series: number | null;
  retention: number | null;
  cpu: number | null;
  rss: number | null;
  cost: number | null;
}

/** The base figures' sums, and the loss figures' (issue 15; a store from before has them from its upgrade on). */
export interface Totals extends LossSums {
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
  ...ZERO_LOSS,
});

const BASE_COLUMNS = ['c_n', 'c_series', 'c_series_n', 'c_cpu', 'c_cpu_n', 'c_rss', 'c_rss_n', 'c_cost', 'c_cost_n', 'c_ret_n', 'c_lossy'] as const;
const BASE_FIELDS: readonly (keyof Totals)[] = ['n', 'series', 'seriesN', 'cpu', 'cpuN', 'rss', 'rssN', 'cost', 'costN', 'retentionN', 'lossy'];
/** The loss sums' columns in the tables that carry totals (added by schema 5). */
export const LOSS_TOTALS_COLUMNS = LOSS_COLUMNS.map(([, column, type]) => [`c_${column}` as const, lossColumnType(type)] as const);

export type TotalsColumn = (typeof BASE_COLUMNS)[number] | `c_${LossColumn}`;
/** Column names, in one order, for the tables that carry totals. */
export const TOTALS_COLUMNS: readonly TotalsColumn[] = [...BASE_COLUMNS, ...LOSS_TOTALS_COLUMNS.map(([c]) => c)];
const FIELDS: readonly (keyof Totals)[] = [...BASE_FIELDS, ...LOSS_COLUMNS.map(([field]) => field)];

export type TotalsRow = Record<TotalsColumn, number>;

/**
 * The totals that count reports (each report adds 0 or 1: c_n, the *_n counts of reports where a figure was known,
 * c_lossy). PostgreSQL keeps them in 4 bytes (postgres-layout.ts): at one report a second they last 68 years.
 */
export const REPORT_COUNT_COLUMNS: readonly TotalsColumn[] = TOTALS_COLUMNS.filter((c) => c === 'c_n' || c === 'c_lossy' || c.endsWith('_n'));

export const TOTALS_DDL = [
  ...BASE_COLUMNS.map((c) => `${c} ${c.endsWith('_n') || c === 'c_lossy' ? 'INTEGER' : 'REAL'} NOT NULL`),
  ...LOSS_TOTALS_COLUMNS.map(([c, type]) => `${c} ${type}`),
].join(', ');

const finite = (x: number | null): x is number => x !== null && Number.isFinite(x);

/** `t` with one report's figures added: its values and (from agents since issue 15) its loss sums. */
export function addSample(t: Readonly<Totals>, s: SampleValues, loss: Readonly<LossSums> = ZERO_LOSS): Totals {
  // Assigned one by one onto the loss sums' literal (see combineLoss): no spread, no keyed loop.
  const out = combineLoss(t, loss, 1) as Totals;
  out.n = t.n + 1;
  out.series = t.series + (finite(s.series) ? s.series : 0);
  out.seriesN = t.seriesN + (finite(s.series) ? 1 : 0);
  out.cpu = t.cpu + (finite(s.cpu) ? s.cpu : 0);
  out.cpuN = t.cpuN + (finite(s.cpu) ? 1 : 0);
  out.rss = t.rss + (finite(s.rss) ? s.rss : 0);
  out.rssN = t.rssN + (finite(s.rss) ? 1 : 0);
  out.cost = t.cost + (finite(s.cost) ? s.cost : 0);
  out.costN = t.costN + (finite(s.cost) ? 1 : 0);
  out.retentionN = t.retentionN + (finite(s.retention) ? 1 : 0);
  out.lossy = t.lossy + (finite(s.retention) && s.retention < 1 ? 1 : 0);
  return out;
}

/** The totals of the reports after `start` up to and including `end`. */
export function difference(end: Readonly<Totals>, start: Readonly<Totals>): Totals {
  const out = combineLoss(end, start, -1) as Totals;
  out.n = end.n - start.n;
  out.series = end.series - start.series;
  out.seriesN = end.seriesN - start.seriesN;
  out.cpu = end.cpu - start.cpu;
  out.cpuN = end.cpuN - start.cpuN;
  out.rss = end.rss - start.rss;
  out.rssN = end.rssN - start.rssN;
  out.cost = end.cost - start.cost;
  out.costN = end.costN - start.costN;
  out.retentionN = end.retentionN - start.retentionN;
  out.lossy = end.lossy - start.lossy;
  return out;
}

export function toRow(t: Readonly<Totals>): TotalsRow {
  // A loop, not Object.fromEntries over a map: it runs per row written (PostgreSQL's batches), thousands a second.
  const out = {} as TotalsRow;
  for (let i = 0; i < FIELDS.length; i++) out[TOTALS_COLUMNS[i]!] = t[FIELDS[i]!] as number;
  return out;
}

/** The totals' values in TOTALS_COLUMNS' order (a positional statement's parameters). */
export function toValues(t: Readonly<Totals>): number[] {
  const out = new Array<number>(FIELDS.length);
  for (let i = 0; i < FIELDS.length; i++) out[i] = t[FIELDS[i]!] as number;
  return out;
}

export function fromRow(row: Readonly<TotalsRow>): Totals {
  return fromValues(TOTALS_COLUMNS.map((c) => row[c]));
}

/** The totals from a raw row's values, TOTALS_COLUMNS in order from `offset` (what the window reads fetch: no objects per row). */
export function fromValues(values: readonly unknown[], offset = 0): Totals {
  const out = { ...ZERO_TOTALS };
  for (let i = 0; i < FIELDS.length; i++) out[FIELDS[i]!] = values[offset + i] as number;
  return out;
}

/** Mean of a summed figure, or null when none was known. */
export function meanOf(sum: number, n: number): number | null {
  return n <= 0 ? null : sum / n;
}
