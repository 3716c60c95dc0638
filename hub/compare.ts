// Compares the variants across the fleet (or a group of it): series, reduction, retention, CPU, memory, cost, what
// else each variant loses (compare-loss.ts), verdict.
import { lossClause, summarizeBlindSpots, summarizeLoss, type BlindSpotSummary, type LossSummary } from './compare-loss.js';
import { percentile } from './percentile.js';
import type { VariantPoint } from './store/types.js';

export type GroupBy = { kind: 'none' } | { kind: 'kind' } | { kind: 'label'; name: string };

export interface VariantSummary {
  variant: string;
  hosts: number;
  totalSeries: number;
  medianSeries: number | null;
  p95Series: number | null;
  cpuPercentMean: number | null;
  cpuPercentP95: number | null;
  rssBytesMean: number | null;
  rssBytesP95: number | null;
  monthlyCostUsd: number;
  /** Hosts where every running critical process was visible (of those where any ran). */
  fullRetentionHosts: number;
  retentionKnownHosts: number;
  /** What the variant loses beyond the critical processes (issue 15); all null when no host reported it. */
  loss: LossSummary;
}

export interface HostLoss {
  hostId: string;
  missing: string[];
}

export interface PairComparison {
  baseline: string;
  candidate: string;
  hosts: number;
  a: VariantSummary;
  b: VariantSummary;
  /**
   * 1 − ΣB/ΣA and the per-host distribution of 1 − B/A, over the `hosts` where both variants' series are
   * known and A's is above 0 (a host whose scrapes of one side all failed would otherwise skew the total).
   */
  reduction: { hosts: number; total: number | null; p5: number | null; median: number | null; p95: number | null };
  /** Hosts where the candidate lost critical processes, and which. */
  candidateLosses: HostLoss[];
  /** Σ cost(A) − Σ cost(B) over the hosts where both estimates are known. */
  monthlySavingsUsd: number;
  /** Processes on the pair's hosts that not even the fullest variant shows (issue 15); null when no host reported it. */
  blindSpots: BlindSpotSummary | null;
  verdict: string;
}

export interface ComparisonGroup {
  /** "all", a host kind, or "label=value" ("label=(none)" for hosts without it). */
  key: string;
  pairs: PairComparison[];
}

export { percentile };

/** The known values, ascending (a typed array sorts numbers natively: a few times faster over 10,000 hosts). */
const ascending = (values: (number | null)[]) => Float64Array.from(values.filter((v): v is number => v !== null && Number.isFinite(v))).sort();
const mean = (values: Float64Array) => (values.length === 0 ? null : values.reduce((a, b) => a + b, 0) / values.length);
const round = (x: number | null, digits = 4) => (x === null ? null : Math.round(x * 10 ** digits) / 10 ** digits);

function groupKey(point: VariantPoint, groupBy: GroupBy): string {
  if (groupBy.kind === 'none') return 'all';
  if (groupBy.kind === 'kind') return point.hostKind;
  // hasOwn: a label named like an Object.prototype member (constructor, __proto__) is only there when the agent sent it.
  return `${groupBy.name}=${Object.hasOwn(point.labels, groupBy.name) ? point.labels[groupBy.name] : '(none)'}`;
}

function summarize(variant: string, points: VariantPoint[]): VariantSummary {
  const series = ascending(points.map((p) => p.series));
  const cpu = ascending(points.map((p) => p.cpuPercent));
  const rss = ascending(points.map((p) => p.rssBytes));
  const known = points.filter((p) => p.retentionMin !== null);
  return {
    variant,
    hosts: points.length,
    totalSeries: Math.round(series.reduce((a, b) => a + b, 0)),
    medianSeries: round(percentile(series, 50), 1),
    p95Series: round(percentile(series, 95), 1),
    cpuPercentMean: round(mean(cpu), 2),
    cpuPercentP95: round(percentile(cpu, 95), 2),
    rssBytesMean: rss.length ? Math.round(mean(rss)!) : null,
    rssBytesP95: percentile(rss, 95),
    monthlyCostUsd: round(points.reduce((a, p) => a + (p.monthlyCostUsd ?? 0), 0), 2)!,
    fullRetentionHosts: known.filter((p) => p.retentionMin === 1 && p.missing.length === 0).length,
    retentionKnownHosts: known.length,
    loss: summarizeLoss(points),
  };
}

const pct = (x: number | null) => (x === null ? 'n/a' : `${Math.round(x * 100)}%`);

/**
 * E.g. "optimized-a cuts series 93% (p5–p95 over 120 hosts: 90%–96%) with full critical retention on 118 of 120 hosts;
 * 2 hosts lost postgres", then, where the hosts report them, the candidate's other losses (see lossClause).
 */
export function verdict(pair: Omit<PairComparison, 'verdict'>): string {
  const { candidate, reduction, b } = pair;
  const hosts = reduction.hosts;
  const cut = reduction.total === null ? `changes series by an unknown amount` : reduction.total >= 0 ? `cuts series ${pct(reduction.total)}` : `adds ${pct(-reduction.total)} more series`;
  const spread = reduction.p5 === null ? '' : ` (p5–p95 over ${hosts} host${hosts === 1 ? '' : 's'}: ${pct(reduction.p5)}–${pct(reduction.p95)})`;
  const retention =
    b.retentionKnownHosts === 0
      ? '; no critical process ran on any host, so retention is unknown'
      : ` with full critical retention on ${b.fullRetentionHosts} of ${b.retentionKnownHosts} host${b.retentionKnownHosts === 1 ? '' : 's'}`;
  const lostBy = new Map<string, number>();
  for (const loss of pair.candidateLosses) for (const name of loss.missing) lostBy.set(name, (lostBy.get(name) ?? 0) + 1);
  const losses = [...lostBy]
    .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]))
    .slice(0, 3)
    .map(([name, n]) => `${n} host${n === 1 ? '' : 's'} lost ${name}`);
  const more = lostBy.size > 3 ? ` and ${lostBy.size - 3} more processes` : '';
  const other = lossClause(b.loss);
  return `${candidate} ${cut}${spread}${retention}${losses.length ? `; ${losses.join(', ')}${more}` : ''}${other ? `; ${other}` : ''}`;
}

export function compareFleet(points: readonly VariantPoint[], groupBy: GroupBy): ComparisonGroup[] {
  // host (agent) -> its A and B points
  const byAgent = new Map<string, { a?: VariantPoint; b?: VariantPoint }>();
  for (const p of points) {
    const entry = byAgent.get(p.agentId) ?? {};
    if (p.side === 0) entry.a = p;
    else entry.b = p;
    byAgent.set(p.agentId, entry);
  }
  const groups = new Map<string, Map<string, { a: VariantPoint; b: VariantPoint }[]>>();
  for (const { a, b } of byAgent.values()) {
    if (!a || !b) continue;
    const key = groupKey(a, groupBy);
    const pairs = groups.get(key) ?? new Map();
    const pairKey = `${a.variant}\u0000${b.variant}`;
    const list = pairs.get(pairKey) ?? [];
    list.push({ a, b });
    pairs.set(pairKey, list);
    groups.set(key, pairs);
  }
  return [...groups]
    .sort(([x], [y]) => x.localeCompare(y))
    .map(([key, pairs]) => ({
      key,
      pairs: [...pairs.values()].map((hosts) => {
        const a = summarize(hosts[0]!.a.variant, hosts.map((h) => h.a));
        const b = summarize(hosts[0]!.b.variant, hosts.map((h) => h.b));
        // A host whose baseline exports nothing has no reduction to speak of: it is left out with the unknowns.
        const comparable = hosts.filter(({ a: x, b: y }) => x.series !== null && x.series > 0 && y.series !== null);
        const sumA = comparable.reduce((sum, h) => sum + h.a.series!, 0);
        const sumB = comparable.reduce((sum, h) => sum + h.b.series!, 0);
        const perHost = ascending(comparable.map(({ a: x, b: y }) => 1 - y.series! / x.series!));
        const costed = hosts.filter(({ a: x, b: y }) => x.monthlyCostUsd !== null && y.monthlyCostUsd !== null);
        const base: Omit<PairComparison, 'verdict'> = {
          baseline: a.variant,
          candidate: b.variant,
          hosts: hosts.length,
          a,
          b,
          reduction: {
            hosts: comparable.length,
            total: sumA > 0 ? round(1 - sumB / sumA) : null,
            p5: round(percentile(perHost, 5)),
            median: round(percentile(perHost, 50)),
            p95: round(percentile(perHost, 95)),
          },
          candidateLosses: hosts
            .filter(({ b: y }) => y.missing.length > 0)
            .map(({ b: y }) => ({ hostId: y.hostId, missing: y.missing }))
            .sort((x, y) => x.hostId.localeCompare(y.hostId)),
          monthlySavingsUsd: round(costed.reduce((sum, h) => sum + h.a.monthlyCostUsd! - h.b.monthlyCostUsd!, 0), 2)!,
          blindSpots: summarizeBlindSpots(hosts.map((h) => h.a)),
        };
        return { ...base, verdict: verdict(base) };
      }),
    }));
}
