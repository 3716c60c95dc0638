// The guardrails that end an experiment early: the candidate lost a critical process on a host for K reports in a
// row; the candidate failed to start on F hosts. The state is small and kept with the experiment across restarts.
import type { AgentReport } from '../../protocol/report.js';
import type { ExperimentSpec } from './spec.js';

export interface GuardrailTrip {
  guardrail: 'criticalLoss' | 'failedHosts';
  hostIds: string[];
  /** The critical processes lost (criticalLoss). */
  processes: string[];
  detail: string;
}

export interface GuardrailState {
  /** Per host: consecutive reports with a loss, and what the last of them lost. */
  streaks: Record<string, { reports: number; processes: string[] }>;
  /** Per host that failed: the message. */
  failed: Record<string, string>;
}

/**
 * What the candidate lost in a tagged report, as the criticalLoss guardrail counts it: the critical processes it did
 * not show that the baseline did (one the baseline cannot see either is a limit of the measurement on that host).
 */
export function candidateLost(report: AgentReport): string[] {
  const [baseline, candidate] = report.variants;
  const seen = new Set(baseline.criticalMissing);
  return candidate.criticalMissing.filter((p) => !seen.has(p));
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
const isMapping = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

export class GuardrailWatch {
  readonly #g: ExperimentSpec['guardrails'];
  readonly #streaks = new Map<string, { reports: number; processes: string[] }>();
  readonly #failed = new Map<string, string>();

  constructor(guardrails: ExperimentSpec['guardrails']) {
    this.#g = guardrails;
  }

  /** The state kept from an earlier run; anything malformed in it is dropped (a guardrail counts again from 0). */
  static from(guardrails: ExperimentSpec['guardrails'], json: unknown): GuardrailWatch {
    const watch = new GuardrailWatch(guardrails);
    const state = (isMapping(json) ? json : {}) as Partial<GuardrailState>;
    // Only a mapping is read as one: Object.entries would turn a string or a list into hosts named '0', '1', ...
    for (const [host, s] of Object.entries(isMapping(state.streaks) ? state.streaks : {})) {
      if (Number.isInteger(s?.reports) && s.reports > 0 && Array.isArray(s.processes)) watch.#streaks.set(host, { reports: s.reports, processes: s.processes.filter((p) => typeof p === 'string') });
    }
    for (const [host, message] of Object.entries(isMapping(state.failed) ? state.failed : {})) if (typeof message === 'string') watch.#failed.set(host, message);
    return watch;
  }

  /** One of the candidate's reports on `hostId`: `lost` are the running critical processes it did not show. */
  observeReport(hostId: string, lost: readonly string[]): GuardrailTrip | null {
    if (lost.length === 0) {
      this.#streaks.delete(hostId);
      return null;
    }
    const reports = (this.#streaks.get(hostId)?.reports ?? 0) + 1;
    this.#streaks.set(hostId, { reports, processes: [...lost] });
    return this.#lossTrip(hostId, reports, lost);
  }

  /** The reports a lost streak needs to trip the criticalLoss guardrail. */
  get criticalLossReports(): number {
    return this.#g.criticalLossReports;
  }

  /**
   * `hostId`'s count as the store keeps it, over the reports every hub process stored (a host that moved between
   * replicas): taken when it is longer than the one seen here; trips the guardrail when it reaches it.
   */
  observeStored(hostId: string, reports: number, lost: readonly string[]): GuardrailTrip | null {
    if (reports <= 0 || lost.length === 0) return null;
    if (reports > (this.#streaks.get(hostId)?.reports ?? 0)) this.#streaks.set(hostId, { reports, processes: [...lost] });
    return this.#lossTrip(hostId, reports, lost);
  }

  #lossTrip(hostId: string, reports: number, lost: readonly string[]): GuardrailTrip | null {
    if (reports < this.#g.criticalLossReports) return null;
    return {
      guardrail: 'criticalLoss',
      hostIds: [hostId],
      processes: [...lost],
      detail: `the candidate lost ${lost.join(', ')} on ${hostId} for ${plural(reports, 'report')} in a row (the guardrail allows ${this.#g.criticalLossReports - 1})`,
    };
  }

  /** The pair failed to start on `hostId`. */
  observeFailure(hostId: string, message: string): GuardrailTrip | null {
    this.#failed.set(hostId, message);
    if (this.#failed.size < this.#g.failedHosts) return null;
    const hostIds = [...this.#failed.keys()].sort();
    return {
      guardrail: 'failedHosts',
      hostIds,
      processes: [],
      detail: `the candidate failed to start on ${plural(hostIds.length, 'host')} (the guardrail stops at ${this.#g.failedHosts}): ${hostIds.slice(0, 5).join(', ')}`,
    };
  }

  toJSON(): GuardrailState {
    return { streaks: Object.fromEntries(this.#streaks), failed: Object.fromEntries(this.#failed) };
  }
}
