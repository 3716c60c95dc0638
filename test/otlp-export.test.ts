// OTLP export of the agent's results, end to end through a real collector's OTLP receiver.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { OtlpResultsExporter, OTLP_METRIC_NAMES } from '../agent/export/otlp.js';
import { silentLogger } from '../common/logger.js';
import { scrape } from '../agent/measure/scrape.js';
import { CollectorProcess } from '../agent/supervisor/collector-process.js';
import { autoPort, freePorts } from '../agent/supervisor/ports.js';
import { realCollector } from './helpers/collector.js';
import { captureLogs } from './helpers/logs.js';
import { waitFor } from './helpers/process.js';
import { sampleReport } from './fixtures/report.js';

t.test('phoenix_* metrics arrive at a real collector over OTLP/gRPC', { timeout: 120_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-otlp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ports = await freePorts();
  const grpc = await autoPort();
  const config = path.join(dir, 'receiver.yaml');
  await writeFile(
    config,
    [
      `extensions: { health_check: { endpoint: "127.0.0.1:${ports.health}" } }`,
      `receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${grpc}" } } } }`,
      `exporters: { prometheus: { endpoint: "127.0.0.1:${ports.exporter}" } }`,
      'service:',
      '  extensions: [health_check]',
      `  telemetry: { metrics: { readers: [ { pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${ports.telemetry} } } } } ] } }`,
      '  pipelines: { metrics: { receivers: [otlp], exporters: [prometheus] } }',
    ].join('\n'),
  );
  const collector = new CollectorProcess({ variant: 'otlp-sink', binary: realCollector(), args: ['--config', config], healthPort: ports.health, logger: silentLogger() });
  t.teardown(() => collector.stop());
  collector.start();
  await collector.waitReady(30_000);

  const exporter = new OtlpResultsExporter({ endpoint: `http://127.0.0.1:${grpc}`, intervalMs: 300, logger: silentLogger(), version: '0.1.0' });
  t.teardown(() => exporter.close());
  exporter.record(sampleReport('host-a'));

  const url = `http://127.0.0.1:${ports.exporter}/metrics`;
  const stats = await waitFor('phoenix metrics at the collector', async () => {
    const result = await scrape(url, { capture: (name) => name.startsWith('phoenix_') });
    return result.ok && new Set(result.stats.captured.map((s) => s.name)).size >= OTLP_METRIC_NAMES.length ? result.stats : null;
  }, 30_000, 300);
  const value = (prefix: string, variant?: string) =>
    stats.captured.find((s) => s.name.startsWith(prefix) && s.labels.host === 'host-a' && (variant === undefined || s.labels.variant === variant))?.value;
  t.equal(value('phoenix_pipeline_output_series', 'baseline'), 2100);
  t.equal(value('phoenix_pipeline_output_series', 'optimized-a'), 35);
  t.equal(value('phoenix_pipeline_cardinality_reduction_ratio'), 0.9833);
  t.equal(value('phoenix_pipeline_critical_processes_retained', 'optimized-a'), 0.5);
  t.equal(value('phoenix_collector_cpu_usage_cores', 'baseline'), 0.045);
  t.equal(value('phoenix_collector_memory_usage_bytes', 'optimized-a'), 50 * 2 ** 20);
  t.ok(Math.abs(value('phoenix_estimated_hourly_cost_usd', 'baseline')! - 21 / 720) < 1e-9, 'monthly estimate / 720 h');
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
