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

/** How many of the host's top consumers (by the agent's own reading of /proc) a variant still shows under their own name. */
export const topCoverageSchema = z.object({
  /** The processes ranked: at most K, fewer when fewer used any of the resource. */
  ranked: z.number().int().min(0).max(100),
  visible: z.number().int().min(0).max(100),
  /** Names of the ranked processes not shown under their own name (distinct, in rank order). */
  missing: z.array(name).max(100),
});

/** Series that came and went between a variant's previous scrape and this one. */
export const flappingSchema = z.object({
  appeared: count,
  vanished: count,
  /** Processes running in both rounds whose name was shown on its own in one and not the other (rolled up or dropped). */
  switched: count,
  /** The first of them, sorted. */
  switchedNames: z.array(name).max(50),
});

/** What a variant loses beyond the named critical processes (issue 15). Absent from agents before it. */
export const variantLossSchema = z.object({
  /** Of the K processes using the most CPU over the interval; null on a pair's first round (no interval yet). */
  topCpu: topCoverageSchema.nullable(),
  topRss: topCoverageSchema,
  /** The variant's total process CPU-time rate over its own samples, in cores (every series, roll-ups included); null without two scrapes. */
  cpuCores: nonNegative.nullable(),
  /** The variant's total process RSS across all its series. */
  rssBytes: nonNegative.nullable(),
  /** cpuCores ÷ the host's (truth.cpuCores); null when either is unknown or the host used none. */
  cpuConservation: z.number().min(0).max(1e9).nullable(),
  rssConservation: z.number().min(0).max(1e9).nullable(),
  /** CPU-time series whose value fell since the previous scrape (a roll-up lost a member): read as resets, as rate() does. */
  counterResets: count,
  /** Null on a pair's first round. */
  flapping: flappingSchema.nullable(),
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
  loss: variantLossSchema.optional(),
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

const consumerSchema = z.object({ name, pid: z.number().int().positive(), value: nonNegative });

/** The agent's own reading of the host's processes (kernel threads included: the collector reports them too), which the variants' losses are measured against. */
export const hostTruthSchema = z.object({
  /** K of the top-consumer rankings. */
  k: z.number().int().min(1).max(100),
  /** The interval the CPU figures cover, in ms; null on a pair's first round. */
  intervalMs: nonNegative.nullable(),
  /** Processes old enough for the collectors to have scraped them (the ones measured against). */
  processes: count,
  /** Their total CPU-time rate over the interval, in cores; null on the first round. */
  cpuCores: nonNegative.nullable(),
  rssBytes: nonNegative,
  /** The K using the most CPU over the interval (value: cores), most first; null on the first round. */
  topCpu: z.array(consumerSchema).max(100).nullable(),
  /** The K largest by RSS (value: bytes), largest first. */
  topRss: z.array(consumerSchema).max(100),
  /** Processes that not even the fullest variant shows (unreadable to the collector, or too short-lived). */
  blindSpots: z.object({ count, names: z.array(name).max(20) }),
});

export const agentReportSchema = z.object({
  schemaVersion: z.literal(REPORT_SCHEMA_VERSION),
  generatedAt: isoTime,
  agent: z.object({ version: z.string().min(1).max(64), pid: z.number().int().positive() }),
  host: z.object({ id: z.string().min(1).max(253), kind: hostKindSchema, labels: labelsSchema, processCount: count }),
  critical: z.object({ patterns: z.array(z.string().min(1).max(256)).max(500), running: z.array(name).max(1000) }),
  variants: z.tuple([variantReportSchema, variantReportSchema]),
  comparison: comparisonSchema,
  pricing: pricingModelSchema,
  /** Absent from agents before issue 15. */
  truth: hostTruthSchema.optional(),
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
export type TopCoverage = z.infer<typeof topCoverageSchema>;
export type Flapping = z.infer<typeof flappingSchema>;
export type VariantLoss = z.infer<typeof variantLossSchema>;
export type HostTruth = z.infer<typeof hostTruthSchema>;
