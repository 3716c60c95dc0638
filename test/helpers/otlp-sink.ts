// A real collector whose OTLP/gRPC receiver (plaintext, or TLS with a given certificate) re-exports what it receives
// on a Prometheus endpoint: where the agent's OTLP export lands in tests.
import type { Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../common/logger.js';
import { CollectorProcess } from '../../agent/supervisor/collector-process.js';
import { autoPort, freePorts } from '../../agent/supervisor/ports.js';
import { realCollector } from './collector.js';

export interface OtlpSinkConfig {
  file: string;
  /** The OTLP/gRPC receiver's port. */
  grpc: number;
  ports: Awaited<ReturnType<typeof freePorts>>;
}

/** Writes the sink's collector config into a temp dir the test removes. */
export async function writeOtlpSinkConfig(t: Test, tls?: { cert: string; key: string }): Promise<OtlpSinkConfig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-otlp-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const ports = await freePorts();
  const grpc = await autoPort();
  const tlsBlock = tls ? `, tls: { cert_file: "${tls.cert}", key_file: "${tls.key}" }` : '';
  const file = path.join(dir, 'receiver.yaml');
  await writeFile(
    file,
    [
      `extensions: { health_check: { endpoint: "127.0.0.1:${ports.health}" } }`,
      `receivers: { otlp: { protocols: { grpc: { endpoint: "127.0.0.1:${grpc}"${tlsBlock} } } } }`,
      `exporters: { prometheus: { endpoint: "127.0.0.1:${ports.exporter}" } }`,
      'service:',
      '  extensions: [health_check]',
      `  telemetry: { metrics: { readers: [ { pull: { exporter: { prometheus: { host: 127.0.0.1, port: ${ports.telemetry} } } } } ] } }`,
      '  pipelines: { metrics: { receivers: [otlp], exporters: [prometheus] } }',
    ].join('\n'),
  );
  return { file, grpc, ports };
}

/** Starts the sink under a CollectorProcess, ready when its health check answers; stopped in teardown. */
export async function startOtlpSink(t: Test, tls?: { cert: string; key: string }): Promise<OtlpSinkConfig & { metricsUrl: string }> {
  const config = await writeOtlpSinkConfig(t, tls);
  const collector = new CollectorProcess({ variant: 'otlp-sink', binary: realCollector(), args: ['--config', config.file], healthPort: config.ports.health, logger: silentLogger() });
  t.teardown(() => collector.stop());
  collector.start();
  await collector.waitReady(30_000);
  return { ...config, metricsUrl: `http://127.0.0.1:${config.ports.exporter}/metrics` };
}
