// What each variant of a pair loses beyond the critical processes (issue 15), over the pair's hosts: top-K coverage,
// conservation, counter resets and flapping per hour (the median host and the worst), the hosts' blind spots, and the
// verdict's clause on them. Every figure is null where no host reported it (agents before issue 15).
import { nearestRank } from './percentile.js';
import { flappingPerHour, type Coverage, type LossFigures } from './store/loss-sums.js';

/** One host's figures, as a pair's hosts are summarized (a VariantPoint is one). */
export interface HostLossFigures {
  hostId: string;
  loss: LossFigures;
}

/** A figure over the hosts that reported it: the median host's value, and the worst host's and which host that is. */
export interface LossSpread {
  hosts: number;
  median: number;
  worst: number;
  worstHost: string;
}

/** Top-K coverage over the hosts that ranked their top consumers: hosts are ordered by visible ÷ ranked. */
export interface CoverageSpread {
  hosts: number;
  /** The median host's means per report: processes visible under their own name, of those ranked (K, or fewer on a quiet host). */
  median: Coverage;
  /** The host that showed the smallest share of its top consumers. */
  worst: Coverage & { hostId: string };
}

/** One variant's loss figures over a pair's hosts (a window's means per host; see LossFigures). */
export interface LossSummary {
  /** Hosts whose reports in the window carried loss figures (0: none did, and every figure below is null). */
  hosts: number;
  /** Of the K processes using the most CPU on each host, how many the variant shows by name (means per report, 1 decimal). */
  topCpu: CoverageSpread | null;
  /** Of the K largest by RSS. */
  topRss: CoverageSpread | null;
  /** The variant's total CPU ÷ the host's (1.0: all of it accounted for); worst: the farthest from 1.0. */
  cpuConservation: LossSpread | null;
  rssConservation: LossSpread | null;
  /** Counter resets over the window: in total, and the hosts that saw any. */
  counterResets: { total: number; hosts: number } | null;
  /** Series that appeared or vanished, per hour of measured rounds; worst: the most. */
  flappingPerHour: LossSpread | null;
  /** Process names that switched between their own series and a roll-up (or none), per hour; worst: the most. */
  switchesPerHour: LossSpread | null;
}

/** The processes on each host that not even the fullest variant shows (means per report). */
export interface BlindSpotSummary {
  /** Hosts that reported their truth in the window, and those with any blind spot. */
  knownHosts: number;
  hosts: number;
  /** The blind spots summed over hosts (each host's mean per report), rounded. */
  total: number;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** A figure's value on one host. */
interface Known<T> {
  hostId: string;
  value: T;
}

// Host ids in code-unit order: a stable tie-break, cheap enough for thousands of hosts (localeCompare is not).
const byId = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

/** Median and worst of a figure; `badness` orders hosts from best to worst (ties go to the first host id). */
function spread(values: readonly Known<number>[], badness: (x: number) => number, digits: number): LossSpread | null {
  if (values.length === 0) return null;
  let worst = values[0]!;
  for (const v of values) {
    const d = badness(v.value) - badness(worst.value);
    if (d > 0 || (d === 0 && byId(v.hostId, worst.hostId) < 0)) worst = v;
  }
  const sorted = Float64Array.from(values, (v) => v.value).sort();
  return { hosts: values.length, median: round(sorted[nearestRank(sorted.length, 50)]!, digits), worst: round(worst.value, digits), worstHost: worst.hostId };
}

const roundCoverage = (c: Coverage): Coverage => ({ visible: round(c.visible, 1), ranked: round(c.ranked, 1) });

function coverage(values: readonly Known<Coverage>[]): CoverageSpread | null {
  if (values.length === 0) return null;
  const ranked = values.map(({ hostId, value }) => ({ hostId, value, share: value.ranked > 0 ? value.visible / value.ranked : 1 }));
  ranked.sort((x, y) => x.share - y.share || x.value.visible - y.value.visible || byId(x.hostId, y.hostId));
  const worst = ranked[0]!;
  return { hosts: ranked.length, median: roundCoverage(ranked[nearestRank(ranked.length, 50)]!.value), worst: { ...roundCoverage(worst.value), hostId: worst.hostId } };
}

const fromOne = (x: number) => Math.abs(1 - x);
const most = (x: number) => x;

export function summarizeLoss(hosts: readonly HostLossFigures[]): LossSummary {
  // One pass over the hosts gathers every figure (a fleet has thousands).
  const topCpu: Known<Coverage>[] = [];
  const topRss: Known<Coverage>[] = [];
  const cpu: Known<number>[] = [];
  const rss: Known<number>[] = [];
  const series: Known<number>[] = [];
  const switches: Known<number>[] = [];
  let reported = 0;
  let resets: { total: number; hosts: number } | null = null;
  for (const { hostId, loss } of hosts) {
    if (loss.reports > 0) reported++;
    if (loss.topCpu) topCpu.push({ hostId, value: loss.topCpu });
    if (loss.topRss) topRss.push({ hostId, value: loss.topRss });
    if (loss.cpuConservation !== null) cpu.push({ hostId, value: loss.cpuConservation });
    if (loss.rssConservation !== null) rss.push({ hostId, value: loss.rssConservation });
    if (loss.counterResets !== null) {
      resets ??= { total: 0, hosts: 0 };
      resets.total += loss.counterResets;
      if (loss.counterResets > 0) resets.hosts++;
    }
    const rate = flappingPerHour(loss);
    if (rate) {
      series.push({ hostId, value: rate.series });
      switches.push({ hostId, value: rate.switches });
    }
  }
  return {
    hosts: reported,
    topCpu: coverage(topCpu),
    topRss: coverage(topRss),
    cpuConservation: spread(cpu, fromOne, 4),
    rssConservation: spread(rss, fromOne, 4),
    counterResets: resets,
    flappingPerHour: spread(series, most, 2),
    switchesPerHour: spread(switches, most, 2),
  };
}

/** The hosts' blind spots (read from one side of the pair: both carry the host's). */
export function summarizeBlindSpots(hosts: readonly HostLossFigures[]): BlindSpotSummary | null {
  let knownHosts = 0;
  let withAny = 0;
  let total = 0;
  for (const { loss } of hosts) {
    if (loss.blindSpots === null) continue;
    knownHosts++;
    if (loss.blindSpots > 0) withAny++;
    total += loss.blindSpots;
  }
  return knownHosts === 0 ? null : { knownHosts, hosts: withAny, total: Math.round(total) };
}

const num = (x: number) => String(round(x, 1));
const pct = (x: number) => `${Math.round(x * 100)}%`;
/** " (worst X)" unless the worst host shows what the median one does. */
const worstOf = (median: string, worst: string) => (worst === median ? '' : ` (worst ${worst})`);

/**
 * The verdict's clause on the candidate's losses, each part only when known, e.g. "top-10 CPU: 9 of 10 on the median
 * host (worst 6); CPU accounted for 71% (worst 52%); 3 switches/h"; '' when none is.
 */
export function lossClause(loss: LossSummary): string {
  const parts: string[] = [];
  if (loss.topCpu) {
    const { median, worst } = loss.topCpu;
    const worstText = worst.ranked === median.ranked ? num(worst.visible) : `${num(worst.visible)} of ${num(worst.ranked)}`;
    parts.push(`top-${num(median.ranked)} CPU: ${num(median.visible)} of ${num(median.ranked)} on the median host${worstOf(num(median.visible), worstText)}`);
  }
  if (loss.cpuConservation) parts.push(`CPU accounted for ${pct(loss.cpuConservation.median)}${worstOf(pct(loss.cpuConservation.median), pct(loss.cpuConservation.worst))}`);
  if (loss.switchesPerHour) parts.push(`${num(loss.switchesPerHour.median)} switches/h${worstOf(num(loss.switchesPerHour.median), num(loss.switchesPerHour.worst))}`);
  return parts.join('; ');
}
