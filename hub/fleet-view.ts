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
 * order per agent, so the last one is the latest); `get()` reads. The store is read once, at the first `get()`.
 */
export class FleetView {
  readonly #store: Store;
  #byAgent: Map<string, HostReportSummary> | null = null;

  constructor(store: Store) {
    this.#store = store;
  }

  get(agentId: string): HostReportSummary | undefined {
    this.#byAgent ??= new Map(this.#store.latestAll().map((l) => [l.agentId, summarizeReport(l.report)]));
    return this.#byAgent.get(agentId);
  }

  reportStored(agentId: string, report: AgentReport): void {
    this.#byAgent?.set(agentId, summarizeReport(report));
  }
}
