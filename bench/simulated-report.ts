// Realistic-looking agent reports for load tests: varied series counts, some hosts losing a critical process, and the
// loss figures and host truth a current agent sends (issue 15): the stores' rows carry their sums, the hub validates them.
import type { AgentReport, HostTruth, VariantLoss } from '../protocol/report.js';

const TOP_K = 10;

/** The host's own reading: its top consumers by CPU and RSS, the processes no variant shows. */
function hostTruth(index: number, seq: number, processes: number): HostTruth {
  const consumers = (unit: number) =>
    Array.from({ length: TOP_K }, (_, rank) => ({ name: `proc-${(index + rank) % 40}`, pid: 2000 + rank, value: unit / (rank + 1) }));
  const blind = (index + seq) % 4;
  return {
    k: TOP_K, intervalMs: 15_000, processes, cpuCores: 1.2 + (index % 10) / 10, rssBytes: 4e9 + (index % 20) * 1e8,
    topCpu: consumers(0.4), topRss: consumers(8e8),
    blindSpots: { count: blind, names: Array.from({ length: blind }, (_, i) => `blind-${i}`) },
  };
}

/** A variant's losses against that reading: the baseline sees everything, the candidate loses some of the top. */
function variantLoss(index: number, seq: number, candidate: boolean): VariantLoss {
  const lost = candidate ? 1 + ((index + seq) % 3) : 0;
  const missing = Array.from({ length: lost }, (_, i) => `proc-${(index + TOP_K - 1 - i) % 40}`);
  return {
    topCpu: { ranked: TOP_K, visible: TOP_K - lost, missing }, topRss: { ranked: TOP_K, visible: TOP_K - (lost > 1 ? 1 : 0), missing: missing.slice(0, lost > 1 ? 1 : 0) },
    cpuCores: candidate ? 1.1 : 1.2, rssBytes: candidate ? 3.6e9 : 4e9,
    cpuConservation: candidate ? 0.9 + (index % 10) / 100 : 1, rssConservation: candidate ? 0.93 : 1,
    counterResets: candidate ? (seq % 7 === 0 ? 2 : 0) : 0,
    flapping: { appeared: (index + seq) % 3, vanished: (index + seq + 1) % 3, switched: candidate ? seq % 2 : 0, switchedNames: candidate && seq % 2 ? [missing[0] ?? 'proc-0'] : [] },
  };
}

export function simulatedReport(index: number, hostId: string, seq: number): AgentReport {
  const processes = 150 + (index % 400);
  const seriesA = processes * 7 + (seq % 5);
  const seriesB = 30 + (index % 25);
  const losesPostgres = index % 50 === 0;
  const variant = (name: string, hash: string, series: number, cpu: number, rss: number, missing: string[], loss: VariantLoss) => ({
    name, configHash: hash, pid: 1000 + index, state: 'running' as const, restarts: 0, lastExit: null,
    series, samples: series, bytes: series * 220,
    seriesByMetric: { process_cpu_time_seconds_total: Math.round(series * 0.43), process_memory_usage_bytes: Math.round(series * 0.14) },
    scrape: { ok: true, error: null, durationMs: 12, malformedLines: 0 },
    criticalRetention: missing.length ? 0.75 : 1, criticalMissing: missing,
    cpuPercent: cpu, rssBytes: rss, telemetry: { acceptedPoints: series, sentPoints: series, processors: [] },
    estimatedMonthlyCostUsd: Math.round(series * 0.0298 * 100) / 100,
    loss,
  });
  const a = variant('baseline', '0123456789abcdef', seriesA, 3 + (index % 10) / 4, 55e6 + (index % 20) * 1e6, [], variantLoss(index, seq, false));
  const b = variant('optimized-a', 'fedcba9876543210', seriesB, 1.5 + (index % 10) / 8, 45e6 + (index % 20) * 5e5, losesPostgres ? ['postgres'] : [], variantLoss(index, seq, true));
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
    truth: hostTruth(index, seq, processes),
  };
}
