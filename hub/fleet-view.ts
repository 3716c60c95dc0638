// What /api/v1/fleet shows of each agent's latest report, kept in memory: the endpoint then reads no report
// from the store (parsing every host's latest report took ~50 ms at 1,000 hosts and grows with the fleet).
import type { AgentReport } from '../protocol/report.js';
import type { Store } from './store/types.js';

export interface HostReportSummary {
  processCount: number;
  criticalRunning: string[];
  variants: {
    name: string;
    state: string;
    restarts: number;
    series: number | null;
    criticalRetention: number | null;
    criticalMissing: string[];
    cpuPercent: number | null;
    rssBytes: number | null;
    estimatedMonthlyCostUsd: number | null;
  }[];
  cardinalityReduction: number | null;
}

export function summarizeReport(report: AgentReport): HostReportSummary {
  return {
    processCount: report.host.processCount,
    criticalRunning: report.critical.running,
    variants: report.variants.map((v) => ({
      name: v.name,
      state: v.state,
      restarts: v.restarts,
      series: v.series,
      criticalRetention: v.criticalRetention,
      criticalMissing: v.criticalMissing,
      cpuPercent: v.cpuPercent,
      rssBytes: v.rssBytes,
      estimatedMonthlyCostUsd: v.estimatedMonthlyCostUsd,
    })),
    cardinalityReduction: report.comparison.cardinalityReduction,
  };
}

/**
 * Calling rules: `reportStored()` for every report the store took as new (reports are stored in sequence
 * order per agent, so the last one is the latest); `summaries()` reads. The store is read once, at the first
 * `summaries()` (again after a failed read); a report stored while that read is under way is kept over what it returns.
 */
export class FleetView {
  readonly #store: Store;
  #byAgent: Map<string, HostReportSummary> | null = null;
  #loading: Promise<Map<string, HostReportSummary>> | null = null;
  /** Reports stored while the first read is under way: newer than anything it can return. */
  readonly #meanwhile = new Map<string, HostReportSummary>();
  /** Agents another process stored a report for since it was last read. */
  readonly #elsewhere = new Set<string>();

  constructor(store: Store) {
    this.#store = store;
  }

  /** Each agent's latest report, summarized. */
  summaries(): Promise<ReadonlyMap<string, HostReportSummary>> {
    if (this.#byAgent) return this.#elsewhere.size > 0 ? this.#refresh(this.#byAgent) : Promise.resolve(this.#byAgent);
    this.#loading ??= this.#store.latestAll().then(
      (all) => {
        const byAgent = new Map(all.map((l) => [l.agentId, summarizeReport(l.report)]));
        for (const [agentId, summary] of this.#meanwhile) byAgent.set(agentId, summary);
        this.#meanwhile.clear();
        this.#byAgent = byAgent;
        this.#loading = null;
        return byAgent;
      },
      (error: unknown) => {
        this.#loading = null;
        throw error;
      },
    );
    return this.#loading;
  }

  reportStored(agentId: string, report: AgentReport): void {
    this.#elsewhere.delete(agentId);
    if (this.#byAgent) this.#byAgent.set(agentId, summarizeReport(report));
    else if (this.#loading) this.#meanwhile.set(agentId, summarizeReport(report));
  }

  /** Another hub process stored a newer report of `agentId` (replicas): it is read from the store at the next read. */
  storedElsewhere(agentId: string): void {
    this.#elsewhere.add(agentId);
  }

  /** What is kept may be behind the store (notices from other processes missed): everything is read again. */
  forget(): void {
    if (this.#loading) return;
    this.#byAgent = null;
    this.#elsewhere.clear();
  }

  /** The agents other processes stored for since the last read, read again. */
  async #refresh(byAgent: Map<string, HostReportSummary>): Promise<ReadonlyMap<string, HostReportSummary>> {
    const ids = [...this.#elsewhere];
    this.#elsewhere.clear();
    const latest = await Promise.all(ids.map((id) => this.#store.latest(id)));
    for (const l of latest) if (l && !this.#elsewhere.has(l.agentId)) byAgent.set(l.agentId, summarizeReport(l.report));
    return byAgent;
  }
}
