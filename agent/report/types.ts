// The agent's JSON report: documented in README ("JSON report reference") and kept stable (schemaVersion).
import type { CollectorExit, CollectorState } from '../supervisor/collector-process.js';

export const REPORT_SCHEMA_VERSION = 1;

export interface ProcessorFlow {
  processor: string;
  incoming: number;
  outgoing: number;
}

/** From the collector's own telemetry; counters since that collector started. */
export interface PipelineTelemetry {
  acceptedPoints: number | null;
  sentPoints: number | null;
  processors: ProcessorFlow[];
}

export interface VariantReport {
  name: string;
  /** SHA-256 (first 16 hex) of the rendered collector config. */
  configHash: string;
  pid: number | null;
  state: CollectorState;
  restarts: number;
  lastExit: CollectorExit | null;
  series: number | null;
  samples: number | null;
  bytes: number | null;
  seriesByMetric: Record<string, number>;
  scrape: { ok: boolean; error: string | null; durationMs: number; malformedLines: number };
  criticalRetention: number | null;
  criticalMissing: string[];
  cpuPercent: number | null;
  rssBytes: number | null;
  telemetry: PipelineTelemetry | null;
  estimatedMonthlyCostUsd: number | null;
}

export interface Comparison {
  baseline: string;
  candidate: string;
  /** 1 - series(B)/series(A). */
  cardinalityReduction: number | null;
  /** B - A, percent of one core. */
  cpuPercentDelta: number | null;
  /** B - A. */
  rssBytesDelta: number | null;
  /** A - B: what the candidate saves a month (estimate). */
  monthlyCostSavingsUsd: number | null;
}

export interface PricingModel {
  currency: 'USD';
  perThousandSeriesMonth: number;
  perMillionSamples: number;
  /** Samples per series per month assume one sample each collection interval. */
  collectionIntervalMs: number;
  note: string;
}

export interface AgentReport {
  schemaVersion: typeof REPORT_SCHEMA_VERSION;
  generatedAt: string;
  agent: { version: string; pid: number };
  host: { id: string; kind: 'vm' | 'k8s-node'; labels: Record<string, string>; processCount: number };
  critical: { patterns: string[]; running: string[] };
  variants: [VariantReport, VariantReport];
  comparison: Comparison;
  pricing: PricingModel;
}
