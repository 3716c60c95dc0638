// OTLP export of the agent's results, end to end through a real collector's OTLP receiver, plaintext and TLS.
import t, { type Test } from 'tap';
import { OtlpResultsExporter, OTLP_METRIC_NAMES } from '../../../agent/export/otlp.js';
import { silentLogger } from '../../../common/logger.js';
import { scrape } from '../../../agent/measure/scrape.js';
import { autoPort } from '../../../agent/supervisor/ports.js';
import { captureLogs } from '../../helpers/logs.js';
import { startOtlpSink } from '../../helpers/otlp-sink.js';
import { waitFor } from '../../helpers/process.js';
import { sampleReport } from '../../fixtures/report.js';
import { makeTestCertificate } from '../../helpers/tls.js';

/** Exports the sample report to `endpoint` and reads back, from the sink's Prometheus endpoint, what arrived. */
async function exportThrough(t: Test, endpoint: string, metricsUrl: string) {
  const exporter = new OtlpResultsExporter({ endpoint, intervalMs: 300, logger: silentLogger(), version: '0.1.0' });
  t.teardown(() => exporter.close());
  exporter.record(sampleReport('host-a'));
  const stats = await waitFor('phoenix metrics at the collector', async () => {
    const result = await scrape(metricsUrl, { capture: (name) => name.startsWith('phoenix_') });
    return result.ok && new Set(result.stats.captured.map((s) => s.name)).size >= OTLP_METRIC_NAMES.length ? result.stats : null;
  }, 30_000, 300);
  return (prefix: string, variant?: string) =>
    stats.captured.find((s) => s.name.startsWith(prefix) && s.labels.host === 'host-a' && (variant === undefined || s.labels.variant === variant))?.value;
}

t.test('phoenix_* metrics arrive at a real collector over OTLP/gRPC', { timeout: 120_000 }, async (t) => {
  const sink = await startOtlpSink(t);
  const value = await exportThrough(t, `http://127.0.0.1:${sink.grpc}`, sink.metricsUrl);
  t.equal(value('phoenix_pipeline_output_series', 'baseline'), 2100);
  t.equal(value('phoenix_pipeline_output_series', 'optimized-a'), 35);
  t.equal(value('phoenix_pipeline_cardinality_reduction_ratio'), 0.9833);
  t.equal(value('phoenix_pipeline_critical_processes_retained', 'optimized-a'), 0.5);
  t.equal(value('phoenix_collector_cpu_usage_cores', 'baseline'), 0.045);
  t.equal(value('phoenix_collector_memory_usage_bytes', 'optimized-a'), 50 * 2 ** 20);
  t.ok(Math.abs(value('phoenix_estimated_hourly_cost_usd', 'baseline')! - 21 / 720) < 1e-9, 'monthly estimate / 720 h');
});

t.test('over https: a collector with a certificate made here, trusted through OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE', { timeout: 120_000 }, async (t) => {
  const { cert, key } = await makeTestCertificate(t);
  const sink = await startOtlpSink(t, { cert, key });
  // The agent's config has no CA setting for the export; the OpenTelemetry exporter reads this standard variable.
  const saved = process.env.OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE;
  process.env.OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE = cert;
  t.teardown(() => {
    if (saved === undefined) delete process.env.OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE;
    else process.env.OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE = saved;
  });
  const value = await exportThrough(t, `https://127.0.0.1:${sink.grpc}`, sink.metricsUrl);
  t.equal(value('phoenix_pipeline_output_series', 'baseline'), 2100, 'the figures arrive over TLS');
  t.equal(value('phoenix_pipeline_cardinality_reduction_ratio'), 0.9833);

  // Without the certificate trusted, nothing gets through: the receiver really is TLS-only and verified.
  delete process.env.OTEL_EXPORTER_OTLP_METRICS_CERTIFICATE;
  const { logger, lines } = captureLogs('warn');
  const untrusting = new OtlpResultsExporter({ endpoint: `https://127.0.0.1:${sink.grpc}`, intervalMs: 200, logger, version: '0.1.0' });
  untrusting.record(sampleReport('host-b'));
  await waitFor('a failed export logged', () => lines.find((l) => /OTLP export/.test(String(l.msg))), 30_000);
  await untrusting.close();
  const result = await scrape(sink.metricsUrl, { capture: (name) => name.startsWith('phoenix_') });
  t.notOk(result.ok && result.stats.captured.some((s) => s.labels.host === 'host-b'), 'an exporter that does not trust the certificate delivers nothing');
});

t.test('an unreachable endpoint is logged and retried, never fatal', { timeout: 60_000 }, async (t) => {
  const { logger, lines } = captureLogs('warn');
  const closedPort = await autoPort();
  const exporter = new OtlpResultsExporter({ endpoint: `http://127.0.0.1:${closedPort}`, intervalMs: 200, logger, version: '0.1.0' });
  exporter.record(sampleReport());
  await waitFor('two failed export attempts logged', () => lines.filter((l) => /OTLP export/.test(String(l.msg))).length >= 2, 30_000);
  await exporter.close();
  t.pass('close() resolved after failed exports');
});
