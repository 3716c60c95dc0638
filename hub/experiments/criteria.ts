// An experiment's success criteria judged over its hosts' figures: each criterion with what is asked, the value
// found and whether it is met, and the verdict (passed when every one is met, failed when any is not, pending while
// no host has measured both variants). The loss criteria (issue 15) are judged in loss-criteria.ts.
import type { CriterionResult, ExperimentResults } from '../http/experiment-types.js';
import type { LossFigures } from '../store/loss-sums.js';
import { lossCriteria } from './loss-criteria.js';
import type { ExperimentSpec } from './spec.js';

interface SideFigures {
  /** Mean series per report (null: no report). */
  series: number | null;
  cpuPercent: number | null;
  /** The most restarts the collector had reached. */
  restarts: number;
  /** What it lost beyond the critical processes (issue 15; all null from agents before it). */
  loss: LossFigures;
}

/** One host's figures over the experiment's window. */
export interface HostFigures {
  hostId: string;
  baseline: SideFigures;
  candidate: SideFigures;
  /** A critical process ran on the host in at least one report. */
  criticalRan: boolean;
  /** The candidate showed every running critical process in every report. */
  candidateFullRetention: boolean;
  /** The processes the candidate missed. */
  missing: string[];
}

const pct = (x: number) => `${Math.round(x * 1000) / 10}%`;
const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** The fleet's series over the hosts that measured both sides (a baseline of 0 series compares nothing), and the reduction. */
function fleetSeries(hosts: readonly HostFigures[]): Pick<ExperimentResults, 'reduction' | 'baselineSeries' | 'candidateSeries'> {
  const comparable = hosts.filter((h) => h.baseline.series !== null && h.baseline.series > 0 && h.candidate.series !== null);
  const base = comparable.reduce((s, h) => s + h.baseline.series!, 0);
  const cand = comparable.reduce((s, h) => s + h.candidate.series!, 0);
  return { reduction: base > 0 ? round(1 - cand / base, 4) : null, baselineSeries: Math.round(base), candidateSeries: Math.round(cand) };
}

/** Judged results over `hosts`: every figure of ExperimentResults but the host count. */
export function evaluateCriteria(criteria: ExperimentSpec['criteria'], hosts: readonly HostFigures[]): Omit<ExperimentResults, 'hosts'> {
  const results: CriterionResult[] = [];
  const measured = hosts.length > 0;
  const series = fleetSeries(hosts);

  if (criteria.reduction !== undefined) {
    const value = series.reduction;
    results.push({ name: 'reduction', wanted: `>= ${pct(criteria.reduction)}`, value, shown: value === null ? 'no data' : pct(value), met: value === null ? null : value >= criteria.reduction });
  }

  {
    const ran = hosts.filter((h) => h.criticalRan);
    const full = ran.filter((h) => h.candidateFullRetention);
    const share = ran.length > 0 ? full.length / ran.length : null;
    const value = share === null ? null : round(share, 4);
    const lost = ran.filter((h) => !h.candidateFullRetention).map((h) => `${h.hostId} (${h.missing.slice(0, 3).join(', ') || 'a critical process'})`);
    const wanted = criteria.retention >= 1 ? 'every host where a critical process runs' : `>= ${pct(criteria.retention)} of hosts where a critical process runs`;
    const shown =
      value === null
        ? measured
          ? 'no critical process ran'
          : 'no data'
        : `${full.length} of ${ran.length} host${ran.length === 1 ? '' : 's'}${lost.length > 0 ? `; lost on ${lost.slice(0, 5).join(', ')}` : ''}`;
    // Where no critical process ran there is nothing to lose: met, and said so.
    // Judged unrounded: one loss in 20,000 hosts rounds to 100% but is not every host.
    results.push({ name: 'retention', wanted, value, shown, met: !measured ? null : share === null ? true : share >= criteria.retention - 1e-9 });
  }

  if (criteria.cpuRatio !== undefined) {
    const both = hosts.filter((h) => h.baseline.cpuPercent !== null && h.candidate.cpuPercent !== null);
    const base = both.reduce((s, h) => s + h.baseline.cpuPercent!, 0);
    const cand = both.reduce((s, h) => s + h.candidate.cpuPercent!, 0);
    const value = base > 0 ? round(cand / base, 3) : null;
    results.push({ name: 'cpuRatio', wanted: `<= ${criteria.cpuRatio} x baseline`, value, shown: value === null ? 'no data' : `${value} x`, met: value === null ? null : value <= criteria.cpuRatio });
  }

  if (criteria.restarts !== undefined) {
    const value = measured ? Math.max(...hosts.map((h) => h.candidate.restarts)) : null;
    results.push({ name: 'restarts', wanted: `<= ${criteria.restarts}`, value, shown: value === null ? 'no data' : `${value} (most on one host)`, met: value === null ? null : value <= criteria.restarts });
  }

  results.push(...lossCriteria(criteria, hosts.map((h) => ({ hostId: h.hostId, loss: h.candidate.loss }))));

  const verdict = results.some((c) => c.met === false) ? 'failed' : results.some((c) => c.met === null) ? 'pending' : 'passed';
  const summary = !measured
    ? 'pending: no host has measured both variants yet'
    : `${verdict} over ${hosts.length} host${hosts.length === 1 ? '' : 's'}: ${results.map((c) => `${c.name} ${c.shown}${c.met === false ? ` (wanted ${c.wanted})` : ''}`).join('; ')}`;
  return { verdict, summary, criteria: results, ...series };
}
