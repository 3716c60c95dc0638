// Fills a hub store with a fleet's history, as the hub would have written it: every report through the
// store's own ingest, maintenance every 5 simulated minutes (rollups, pruning).
import { openSqliteStore } from '../hub/store/sqlite.js';
import type { IncomingReport } from '../hub/store/types.js';
import type { Hello } from '../protocol/messages.js';
import { simulatedReport } from './simulated-report.js';

export interface FillResult {
  reports: number;
  elapsedMs: number;
}

export function hostHello(index: number): Hello {
  const report = simulatedReport(index, `host-${index}`, 0);
  return {
    type: 'hello',
    v: 1,
    agentId: `agent-${index}`,
    hostId: report.host.id,
    hostKind: report.host.kind,
    labels: report.host.labels,
    agentVersion: 'bench',
    streamId: `stream-${index}`,
    variants: report.variants.map((v) => ({ name: v.name, configHash: v.configHash })),
  };
}

/** `hosts` agents reporting every `intervalMs` for `durationMs` up to `now`. */
export function fillStore(file: string, hosts: number, durationMs: number, intervalMs = 15_000, now = Date.now(), progress?: (done: number) => void): FillResult {
  const started = performance.now();
  const store = openSqliteStore({ file });
  try {
    const start = now - durationMs;
    for (let i = 0; i < hosts; i++) store.upsertAgent(hostHello(i), start);
    let reports = 0;
    let seq = 0;
    let nextMaintenance = start;
    for (let at = start; at < now; at += intervalMs) {
      seq += 1;
      const batch: IncomingReport[] = [];
      for (let i = 0; i < hosts; i++) {
        const iso = new Date(at).toISOString();
        batch.push({
          agentId: `agent-${i}`,
          message: { type: 'report', v: 1, seq, window: { openedAt: iso, from: new Date(at - intervalMs).toISOString(), to: iso }, report: simulatedReport(i, `host-${i}`, seq) },
          receivedAt: at,
        });
      }
      store.storeReports(batch);
      reports += batch.length;
      if (at >= nextMaintenance) {
        store.maintain(at);
        nextMaintenance = at + 5 * 60_000;
        progress?.((at - start) / durationMs);
      }
    }
    store.maintain(now);
    return { reports, elapsedMs: performance.now() - started };
  } finally {
    store.close();
  }
}
