// Realistic-looking agent reports for load tests: varied series counts, some hosts losing a critical process.
import type { AgentReport } from '../protocol/report.js';

export function simulatedReport(index: number, hostId: string, seq: number): AgentReport {
  const processes = 150 + (index % 400);
  const seriesA = processes * 7 + (seq % 5);
  const seriesB = 30 + (index % 25);
  const losesPostgres = index % 50 === 0;
  const variant = (name: string, hash: string, series: number, cpu: number, rss: number, missing: string[]) => ({
    name, configHash: hash, pid: 1000 + index, state: 'running' as const, restarts: 0, lastExit: null,
    series, samples: series, bytes: series * 220,
    seriesByMetric: { process_cpu_time_seconds_total: Math.round(series * 0.43), process_memory_usage_bytes: Math.round(series * 0.14) },
    scrape: { ok: true, error: null, durationMs: 12, malformedLines: 0 },
    criticalRetention: missing.length ? 0.75 : 1, criticalMissing: missing,
    cpuPercent: cpu, rssBytes: rss, telemetry: { acceptedPoints: series, sentPoints: series, processors: [] },
    estimatedMonthlyCostUsd: Math.round(series * 0.0298 * 100) / 100,
  });
  const a = variant('baseline', '0123456789abcdef', seriesA, 3 + (index % 10) / 4, 55e6 + (index % 20) * 1e6, []);
  const b = variant('optimized-a', 'fedcba9876543210', seriesB, 1.5 + (index % 10) / 8, 45e6 + (index % 20) * 5e5, losesPostgres ? ['postgres'] : []);
  return {
    schemaVersion: 1, generatedAt: new Date().toISOString(), agent: { version: 'bench', pid: 1000 + index },
    host: { id: hostId, kind: index % 3 === 0 ? 'k8s-node' : 'vm', labels: { env: index % 4 === 0 ? 'staging' : 'prod', team: `team-${index % 7}` }, processCount: processes },
    critical: { patterns: ['sshd', 'postgres', 'kubelet', 'containerd'], running: ['containerd', 'kubelet', 'postgres', 'sshd'] },
    variants: [a, b],
    comparison: {
      baseline: 'baseline', candidate: 'optimized-a', cardinalityReduction: Math.round((1 - seriesB / seriesA) * 1e4) / 1e4,
      cpuPercentDelta: b.cpuPercent - a.cpuPercent, rssBytesDelta: b.rssBytes - a.rssBytes,
      monthlyCostSavingsUsd: Math.round((a.estimatedMonthlyCostUsd - b.estimatedMonthlyCostUsd) * 100) / 100,
    },
    pricing: { currency: 'USD', perThousandSeriesMonth: 6.5, perMillionSamples: 0.09, collectionIntervalMs: 10000, note: 'bench' },
  };
}
