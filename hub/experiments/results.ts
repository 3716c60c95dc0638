// An experiment's results over its own hosts and window: the figures its tagged reports added up to, per host,
// judged against its criteria (see criteria.ts).
import type { ExperimentResults } from '../http/experiment-types.js';
import { evaluateCriteria, type HostFigures } from './criteria.js';
import type { HostFiguresRecord } from './experiment-store.js';
import type { ExperimentSpec } from './spec.js';

const meanOf = (sum: number, n: number) => (n === 0 ? null : sum / n);

/** Each host's baseline and candidate figures; a host with only one side's reports is left out (nothing to compare). */
export function hostFigures(records: readonly HostFiguresRecord[]): HostFigures[] {
  const byAgent = new Map<string, { a?: HostFiguresRecord; b?: HostFiguresRecord }>();
  for (const r of records) {
    const entry = byAgent.get(r.agentId) ?? {};
    if (r.side === 0) entry.a = r;
    else entry.b = r;
    byAgent.set(r.agentId, entry);
  }
  const hosts: HostFigures[] = [];
  for (const { a, b } of byAgent.values()) {
    if (!a || !b) continue;
    const side = (r: HostFiguresRecord) => ({ series: meanOf(r.seriesSum, r.seriesN), cpuPercent: meanOf(r.cpuSum, r.cpuN), restarts: r.restartsMax });
    hosts.push({
      hostId: b.hostId,
      baseline: side(a),
      candidate: side(b),
      criticalRan: b.criticalRanReports > 0,
      candidateFullRetention: b.lossyReports === 0,
      missing: b.missing,
    });
  }
  return hosts.sort((x, y) => x.hostId.localeCompare(y.hostId));
}

/** The results over `records` (all of the experiment's hosts, or one wave's). */
export function experimentResults(records: readonly HostFiguresRecord[], spec: ExperimentSpec): ExperimentResults {
  const hosts = hostFigures(records);
  const judged = evaluateCriteria(spec.criteria, hosts);
  const comparable = hosts.filter((h) => h.baseline.series !== null && h.baseline.series > 0 && h.candidate.series !== null);
  const baselineSeries = comparable.reduce((sum, h) => sum + h.baseline.series!, 0);
  const candidateSeries = comparable.reduce((sum, h) => sum + h.candidate.series!, 0);
  return {
    verdict: judged.verdict,
    summary: judged.summary,
    criteria: judged.criteria,
    hosts: hosts.length,
    reduction: baselineSeries > 0 ? Math.round((1 - candidateSeries / baselineSeries) * 10_000) / 10_000 : null,
    baselineSeries: Math.round(baselineSeries),
    candidateSeries: Math.round(candidateSeries),
  };
}
