// An experiment's results over its own hosts and window: the figures its tagged reports added up to, per host,
// judged against its criteria (see criteria.ts).
import type { ExperimentResults } from '../http/experiment-types.js';
import { evaluateCriteria, type HostFigures } from './criteria.js';
import type { HostFiguresRecord } from './experiment-store.js';
import type { ExperimentSpec } from './spec.js';
import { lossFigures } from '../store/loss-sums.js';
import { meanOf } from '../store/totals.js';


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
    const side = (r: HostFiguresRecord) => ({ series: meanOf(r.seriesSum, r.seriesN), cpuPercent: meanOf(r.cpuSum, r.cpuN), restarts: r.restartsMax, loss: lossFigures(r.loss) });
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
  return { ...evaluateCriteria(spec.criteria, hosts), hosts: hosts.length };
}

/**
 * Running experiments' results for the list, computed at most once per `ttlMs` each (the list is polled by every
 * open page; one experiment's detail computes its own, always fresh). Calling rule: `forget` an experiment when it ends.
 */
export class ResultsMemo {
  readonly #ttlMs: number;
  readonly #kept = new Map<string, { at: number; results: ExperimentResults }>();

  constructor(ttlMs: number) {
    this.#ttlMs = ttlMs;
  }

  async get(experimentId: string, now: number, compute: () => Promise<ExperimentResults>): Promise<ExperimentResults> {
    const kept = this.#kept.get(experimentId);
    if (kept && now - kept.at < this.#ttlMs) return kept.results;
    const results = await compute();
    this.#kept.set(experimentId, { at: now, results });
    return results;
  }

  forget(experimentId: string): void {
    this.#kept.delete(experimentId);
  }
}
