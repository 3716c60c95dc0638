// The agent's report, defined once: a zod schema (the hub validates what agents send) and its types.
import { z } from 'zod';
import { ownRecord } from './own-record.js';
import { reportExperimentSchema } from './assignment.js';

export const REPORT_SCHEMA_VERSION = 1;

const name = z.string().min(1).max(256);
const count = z.number().int().min(0).max(1e12);
const nonNegative = z.number().min(0).max(1e15);
const isoTime = z.iso.datetime({ offset: true });
const nullableCount = count.nullable();

export const collectorStateSchema = z.enum(['starting', 'running', 'backoff', 'stopped']);

export const collectorExitSchema = z.object({
  code: z.number().int().nullable(),
  signal: z.string().max(32).nullable(),
  at: isoTime,
  reason: z.enum(['exited', 'spawn-error', 'unhealthy', 'stopped']),
  forced: z.boolean(),
});

export const processorFlowSchema = z.object({ processor: name, incoming: nonNegative, outgoing: nonNegative });

export const pipelineTelemetrySchema = z.object({
  acceptedPoints: nonNegative.nullable(),
  sentPoints: nonNegative.nullable(),
  processors: z.array(processorFlowSchema).max(64),
});

export const variantReportSchema = z.object({
  name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/),
  configHash: z.string().regex(/^[0-9a-f]{16}$/),
  pid: z.number().int().positive().nullable(),
  state: collectorStateSchema,
  restarts: count,
  lastExit: collectorExitSchema.nullable(),
  series: nullableCount,
  samples: nullableCount,
  bytes: nullableCount,
  seriesByMetric: ownRecord(name, count, 5000, 'metric names'),
  scrape: z.object({ ok: z.boolean(), error: z.string().max(2048).nullable(), durationMs: nonNegative, malformedLines: count }),
  criticalRetention: z.number().min(0).max(1).nullable(),
  criticalMissing: z.array(name).max(1000),
  cpuPercent: nonNegative.nullable(),
  rssBytes: nullableCount,
  telemetry: pipelineTelemetrySchema.nullable(),
  estimatedMonthlyCostUsd: nonNegative.nullable(),
});

export const comparisonSchema = z.object({
  baseline: name,
  candidate: name,
  cardinalityReduction: z.number().min(-1e9).max(1).nullable(),
  cpuPercentDelta: z.number().min(-1e6).max(1e6).nullable(),
  rssBytesDelta: z.number().int().min(-1e15).max(1e15).nullable(),
  monthlyCostSavingsUsd: z.number().min(-1e15).max(1e15).nullable(),
});

export const pricingModelSchema = z.object({
  currency: z.literal('USD'),
  perThousandSeriesMonth: nonNegative,
  perMillionSamples: nonNegative,
  collectionIntervalMs: z.number().int().positive(),
  note: z.string().max(512),
});

export const hostKindSchema = z.enum(['vm', 'k8s-node']);
export const labelsSchema = ownRecord(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/), z.string().max(256), 64, 'labels');

export const agentReportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: isoTime,
  agent: z.object({ version: z.string().min(1).max(64), pid: z.number().int().positive() }),
  host: z.object({ id: z.string().min(1).max(253), kind: hostKindSchema, labels: labelsSchema, processCount: count }),
  critical: z.object({ patterns: z.array(z.string().min(1).max(256)).max(500), running: z.array(name).max(1000) }),
  variants: z.tuple([variantReportSchema, variantReportSchema]),
  comparison: comparisonSchema,
  pricing: pricingModelSchema,
  /** The experiment whose assignment the pair ran (protocol v2); absent or null: the agent's own pair. */
  experiment: reportExperimentSchema.nullable().optional(),
});

export type CollectorStateName = z.infer<typeof collectorStateSchema>;
export type ProcessorFlow = z.infer<typeof processorFlowSchema>;
export type PipelineTelemetry = z.infer<typeof pipelineTelemetrySchema>;
export type VariantReport = z.infer<typeof variantReportSchema>;
export type Comparison = z.infer<typeof comparisonSchema>;
export type PricingModel = z.infer<typeof pricingModelSchema>;
export type AgentReport = z.infer<typeof agentReportSchema>;
