// A variant's loss figures (issue 15) as the store keeps them: sums per report that add up over any range (running
// totals, rollups, an experiment's figures), and the range's figures read back from them; engine-neutral.
import type { HostTruth, TopCoverage, VariantReport } from '../../protocol/report.js';

/**
 * Sums over reports. Each figure has the count of reports that knew it (an agent before issue 15 knows none): a
 * count of 0 reads as "unknown", never as 0.
 */
export interface LossSums {
  topCpuVisible: number;
  topCpuRanked: number;
  topCpuN: number;
  topRssVisible: number;
  topRssRanked: number;
  topRssN: number;
  cpuConservation: number;
  cpuConservationN: number;
  rssConservation: number;
  rssConservationN: number;
  /** Reports that carried loss figures, and the counter resets they saw. */
  lossN: number;
  counterResets: number;
  /** Over the rounds that measured flapping over a known interval: series that appeared and vanished, names switched, and the ms those rounds cover. */
  appeared: number;
  vanished: number;
  switched: number;
  flappingMs: number;
  flappingN: number;
  /** The host's blind spots (from its truth, the same on both sides) summed over the reports that carried it. */
  blindSpots: number;
  blindSpotsN: number;
}

/** Each sum's column (the running totals prefix it with c_) and whether it holds fractions. */
export const LOSS_COLUMNS = [
  ['topCpuVisible', 'top_cpu_visible', 'INTEGER'],
  ['topCpuRanked', 'top_cpu_ranked', 'INTEGER'],
  ['topCpuN', 'top_cpu_n', 'INTEGER'],
  ['topRssVisible', 'top_rss_visible', 'INTEGER'],
  ['topRssRanked', 'top_rss_ranked', 'INTEGER'],
  ['topRssN', 'top_rss_n', 'INTEGER'],
  ['cpuConservation', 'cpu_cons', 'REAL'],
  ['cpuConservationN', 'cpu_cons_n', 'INTEGER'],
  ['rssConservation', 'rss_cons', 'REAL'],
  ['rssConservationN', 'rss_cons_n', 'INTEGER'],
  ['lossN', 'loss_n', 'INTEGER'],
  ['counterResets', 'counter_resets', 'INTEGER'],
  ['appeared', 'flap_appeared', 'INTEGER'],
  ['vanished', 'flap_vanished', 'INTEGER'],
  ['switched', 'flap_switched', 'INTEGER'],
  ['flappingMs', 'flap_ms', 'REAL'],
  ['flappingN', 'flap_n', 'INTEGER'],
  ['blindSpots', 'blind_spots', 'INTEGER'],
  ['blindSpotsN', 'blind_spots_n', 'INTEGER'],
] as const satisfies readonly (readonly [keyof LossSums, string, 'INTEGER' | 'REAL'])[];

export type LossColumn = (typeof LOSS_COLUMNS)[number][1];

/** A sum column's declaration: NOT NULL DEFAULT 0, so the columns can be added to a table that holds rows already. */
export const lossColumnType = (type: 'INTEGER' | 'REAL'): string => `${type} NOT NULL DEFAULT 0`;

// A literal (not built from LOSS_COLUMNS): copies of it are the fast objects every sum starts from.
export const ZERO_LOSS: Readonly<LossSums> = Object.freeze({
  topCpuVisible: 0, topCpuRanked: 0, topCpuN: 0, topRssVisible: 0, topRssRanked: 0, topRssN: 0,
  cpuConservation: 0, cpuConservationN: 0, rssConservation: 0, rssConservationN: 0, lossN: 0, counterResets: 0,
  appeared: 0, vanished: 0, switched: 0, flappingMs: 0, flappingN: 0, blindSpots: 0, blindSpotsN: 0,
});

const finite = (x: number | null | undefined): x is number => typeof x === 'number' && Number.isFinite(x);

/** One report's sums for one variant; `truth` is the report's (absent from agents before issue 15). */
export function lossOf(variant: VariantReport, truth: HostTruth | undefined): LossSums {
  const out: LossSums = { ...ZERO_LOSS };
  if (truth) {
    out.blindSpots = truth.blindSpots.count;
    out.blindSpotsN = 1;
  }
  const loss = variant.loss;
  if (!loss) return out;
  out.lossN = 1;
  out.counterResets = loss.counterResets;
  const cover = (c: TopCoverage | null): [number, number, number] => (c ? [c.visible, c.ranked, 1] : [0, 0, 0]);
  [out.topCpuVisible, out.topCpuRanked, out.topCpuN] = cover(loss.topCpu);
  [out.topRssVisible, out.topRssRanked, out.topRssN] = cover(loss.topRss);
  if (finite(loss.cpuConservation)) [out.cpuConservation, out.cpuConservationN] = [loss.cpuConservation, 1];
  if (finite(loss.rssConservation)) [out.rssConservation, out.rssConservationN] = [loss.rssConservation, 1];
  // A rate needs the time the round covers: a round without a known interval is left out of the counts too.
  const interval = truth?.intervalMs;
  if (loss.flapping && finite(interval) && interval > 0) {
    out.appeared = loss.flapping.appeared;
    out.vanished = loss.flapping.vanished;
    out.switched = loss.flapping.switched;
    out.flappingMs = interval;
    out.flappingN = 1;
  }
  return out;
}

/**
 * `a` + `sign` × `b`, sum by sum (either may carry other fields): `sign` 1 adds a report, -1 takes a window's start off
 * its end. Written field by field, into a literal: it runs per report and per host and side of a window, and a loop of
 * keyed accesses, or a spread, is several times slower.
 */
export function combineLoss(a: Readonly<LossSums>, b: Readonly<LossSums>, sign: 1 | -1): LossSums {
  return {
    topCpuVisible: a.topCpuVisible + sign * b.topCpuVisible,
    topCpuRanked: a.topCpuRanked + sign * b.topCpuRanked,
    topCpuN: a.topCpuN + sign * b.topCpuN,
    topRssVisible: a.topRssVisible + sign * b.topRssVisible,
    topRssRanked: a.topRssRanked + sign * b.topRssRanked,
    topRssN: a.topRssN + sign * b.topRssN,
    cpuConservation: a.cpuConservation + sign * b.cpuConservation,
    cpuConservationN: a.cpuConservationN + sign * b.cpuConservationN,
    rssConservation: a.rssConservation + sign * b.rssConservation,
    rssConservationN: a.rssConservationN + sign * b.rssConservationN,
    lossN: a.lossN + sign * b.lossN,
    counterResets: a.counterResets + sign * b.counterResets,
    appeared: a.appeared + sign * b.appeared,
    vanished: a.vanished + sign * b.vanished,
    switched: a.switched + sign * b.switched,
    flappingMs: a.flappingMs + sign * b.flappingMs,
    flappingN: a.flappingN + sign * b.flappingN,
    blindSpots: a.blindSpots + sign * b.blindSpots,
    blindSpotsN: a.blindSpotsN + sign * b.blindSpotsN,
  };
}

/** Mean processes visible under their own name among the top K, and mean K ranked, over the reports that ranked them. */
export interface Coverage {
  visible: number;
  ranked: number;
}

/** One variant's loss figures over a range (one host). Every figure is null when no report in the range knew it. */
export interface LossFigures {
  /** Reports in the range that carried loss figures (0: an agent before issue 15, or none reported). */
  reports: number;
  topCpu: Coverage | null;
  topRss: Coverage | null;
  /** Mean of the variant's total ÷ the host's total, per report (1.0: everything the host used is accounted for). */
  cpuConservation: number | null;
  rssConservation: number | null;
  /** Counter resets over the range. */
  counterResets: number | null;
  /** Sums over the rounds that measured flapping, and the hours they cover (> 0): a rate per hour is a sum ÷ hours. */
  flapping: { appeared: number; vanished: number; switched: number; hours: number } | null;
  /** The host's blind spots, mean per report (the same for both variants of a pair). */
  blindSpots: number | null;
}

const meanOrNull = (sum: number, n: number) => (n > 0 ? sum / n : null);
const HOUR_MS = 3_600_000;

/** The figures over the reports `sums` adds up. */
export function lossFigures(sums: Readonly<LossSums>): LossFigures {
  const cover = (visible: number, ranked: number, n: number): Coverage | null => (n > 0 ? { visible: visible / n, ranked: ranked / n } : null);
  return {
    reports: sums.lossN,
    topCpu: cover(sums.topCpuVisible, sums.topCpuRanked, sums.topCpuN),
    topRss: cover(sums.topRssVisible, sums.topRssRanked, sums.topRssN),
    cpuConservation: meanOrNull(sums.cpuConservation, sums.cpuConservationN),
    rssConservation: meanOrNull(sums.rssConservation, sums.rssConservationN),
    counterResets: sums.lossN > 0 ? sums.counterResets : null,
    flapping:
      sums.flappingN > 0 && sums.flappingMs > 0
        ? { appeared: sums.appeared, vanished: sums.vanished, switched: sums.switched, hours: sums.flappingMs / HOUR_MS }
        : null,
    blindSpots: meanOrNull(sums.blindSpots, sums.blindSpotsN),
  };
}

/** Flapping as rates per hour: series that appeared or vanished, and names that switched; null when not measured. */
export function flappingPerHour(figures: Pick<LossFigures, 'flapping'>): { series: number; switches: number } | null {
  const f = figures.flapping;
  return f ? { series: (f.appeared + f.vanished) / f.hours, switches: f.switched / f.hours } : null;
}

/** The figures of a range without loss figures (what an agent before issue 15 adds up to). */
export const NO_LOSS: Readonly<LossFigures> = Object.freeze(lossFigures(ZERO_LOSS));
