// Exports the agent's results as OTLP metrics over gRPC (phoenix_* gauges), for teams' own backends.
import { diag, DiagLogLevel, type Attributes, type DiagLogger, type ObservableResult } from '@opentelemetry/api';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import type { Logger } from '../../common/logger.js';
import { HOURS_PER_MONTH } from '../report/cost.js';
import type { AgentReport } from '../../protocol/report.js';

export interface OtlpExportOptions {
  /** http:// for plaintext gRPC, https:// for TLS. */
  endpoint: string;
  intervalMs: number;
  logger: Logger;
  version: string;
}

type Reading = [value: number, attributes: Attributes];

/** Metric name -> how to read it from the latest report. */
const GAUGES: Record<string, { description: string; unit: string; read: (r: AgentReport) => Reading[] }> = {
  phoenix_pipeline_output_series: {
    description: 'Distinct series in the variant pipeline output',
    unit: '{series}',
    read: (r) => r.variants.flatMap((v) => (v.series === null ? [] : [[v.series, { variant: v.name, host: r.host.id }] as Reading])),
  },
  phoenix_pipeline_cardinality_reduction_ratio: {
    description: '1 - series(B)/series(A)',
    unit: '1',
    read: (r) => (r.comparison.cardinalityReduction === null ? [] : [[r.comparison.cardinalityReduction, { host: r.host.id }]]),
  },
  phoenix_pipeline_critical_processes_retained: {
    description: 'Share of running critical processes visible in the variant output',
    unit: '1',
    read: (r) =>
      r.variants.flatMap((v) => (v.criticalRetention === null ? [] : [[v.criticalRetention, { variant: v.name, host: r.host.id }] as Reading])),
  },
  phoenix_collector_cpu_usage_cores: {
    description: 'CPU used by the variant collector, in cores',
    unit: '{cores}',
    read: (r) => r.variants.flatMap((v) => (v.cpuPercent === null ? [] : [[v.cpuPercent / 100, { variant: v.name, host: r.host.id }] as Reading])),
  },
  phoenix_collector_memory_usage_bytes: {
    description: 'Resident memory of the variant collector',
    unit: 'By',
    read: (r) => r.variants.flatMap((v) => (v.rssBytes === null ? [] : [[v.rssBytes, { variant: v.name, host: r.host.id }] as Reading])),
  },
  phoenix_estimated_hourly_cost_usd: {
    description: 'Estimated hourly cost of the variant output (from the configured pricing model)',
    unit: 'USD',
    read: (r) =>
      r.variants.flatMap((v) =>
        v.estimatedMonthlyCostUsd === null ? [] : [[v.estimatedMonthlyCostUsd / HOURS_PER_MONTH, { variant: v.name, host: r.host.id }] as Reading],
      ),
  },
};

export const OTLP_METRIC_NAMES = Object.keys(GAUGES);

function diagToPino(logger: Logger): DiagLogger {
  const log = logger.child({ component: 'otlp' });
  return {
    error: (message, ...args) => log.warn({ args }, `OTLP export: ${message}`),
    warn: (message, ...args) => log.warn({ args }, `OTLP export: ${message}`),
    info: (message) => log.debug(message),
    debug: (message) => log.trace(message),
    verbose: (message) => log.trace(message),
  };
}

/**
 * Calling rules: `record()` after each measurement; `close()` once — it flushes the last values.
 * An unreachable endpoint is logged (through pino) and retried on the next interval, never fatal.
 */
export class OtlpResultsExporter {
  readonly #provider: MeterProvider;
  #latest: AgentReport | null = null;

  constructor(options: OtlpExportOptions) {
    diag.setLogger(diagToPino(options.logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    const url = new URL(options.endpoint);
    const exporter = new OTLPMetricExporter({ url: url.origin });
    const reader = new PeriodicExportingMetricReader({
      exporter,
      exportIntervalMillis: options.intervalMs,
      exportTimeoutMillis: Math.min(options.intervalMs, 10_000),
    });
    this.#provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'phoenix-agent', 'service.version': options.version }),
      readers: [reader],
    });
    const meter = this.#provider.getMeter('phoenix-agent', options.version);
    for (const [name, gauge] of Object.entries(GAUGES)) {
      meter
        .createObservableGauge(name, { description: gauge.description, unit: gauge.unit })
        .addCallback((result: ObservableResult) => {
          if (this.#latest) for (const [value, attributes] of gauge.read(this.#latest)) result.observe(value, attributes);
        });
    }
  }

  record(report: AgentReport): void {
    this.#latest = report;
  }

  async close(): Promise<void> {
    await this.#provider.forceFlush().catch(() => undefined);
    await this.#provider.shutdown().catch(() => undefined);
    diag.disable();
  }
}
