// `phoenix-agent run --once --json` against the real collector and 300 simulated processes.
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { pipelinesDir } from '../../common/paths.js';
import { startSimulator } from '../../tools/simulator/simulator.js';
import { silentLogger } from '../../common/logger.js';
import type { AgentReport } from '../../protocol/report.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { runCli } from '../helpers/cli-run.js';
import { isAlive } from '../helpers/process.js';

const binary = realCollector();
const CRITICAL = ['sshd', 'postgres', 'kubelet', 'containerd', 'kube-controller-manager'];

t.test('300 processes, 5 critical: baseline vs optimized-a', { timeout: 180_000 }, async (t) => {
  const simulator = await startSimulator({ count: 300, criticalNames: CRITICAL, namePrefix: 'phx-once', logger: silentLogger() });
  t.teardown(() => simulator.close());
  // Real hosts run several processes under one name (sshd per session, postgres workers): three more sshd.
  const sshd = simulator.processes().find((p) => p.name === 'sshd')!;
  const extra = [1, 2, 3].map(() => spawn(sshd.path, ['infinity'], { stdio: 'ignore' }));
  t.teardown(async () => {
    for (const child of extra) child.kill('SIGKILL');
    await Promise.all(extra.map((child) => (child.exitCode === null && child.signalCode === null ? once(child, 'exit') : null)));
  });
  const { file } = await writeTestConfig(t, { experiment: { variants: ['baseline', 'optimized-a'] } });

  const result = await runCli(['run', '--once', '--json', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 0, `exit 0 (stderr: ${result.stderr})`);
  const report = JSON.parse(result.stdout) as AgentReport;
  const [baseline, optimized] = report.variants;

  t.equal(report.schemaVersion, 1);
  t.equal(report.host.id, 'test-host');
  t.equal(report.host.kind, 'vm');
  t.ok(report.host.processCount >= 300, `host process count ${report.host.processCount} includes the simulator's 300`);
  for (const name of CRITICAL) t.ok(report.critical.running.includes(name), `${name} is running (ground truth)`);

  t.equal(baseline.name, 'baseline');
  t.ok(baseline.series! >= 6 * report.host.processCount, `baseline: ${baseline.series} series >= 6 x ${report.host.processCount} processes`);
  t.ok(baseline.seriesByMetric.process_cpu_time_seconds_total! >= 3 * 300, 'per-process cpu series for every process');
  t.ok(report.comparison.cardinalityReduction! >= 0.9, `optimized-a cuts series by ${report.comparison.cardinalityReduction}`);
  t.equal(optimized.series, Object.values(optimized.seriesByMetric).reduce((a, b) => a + b, 0), 'series = sum of per-metric series');

  for (const v of report.variants) {
    t.equal(v.criticalRetention, 1, `${v.name} keeps every critical process (missing: ${v.criticalMissing.join(',')})`);
    t.same(v.criticalMissing, []);
    t.equal(v.state, 'running');
    t.equal(v.restarts, 0);
    t.ok(v.scrape.ok);
    t.equal(v.scrape.malformedLines, 0);
    t.ok(typeof v.cpuPercent === 'number' && v.cpuPercent >= 0, `${v.name} cpu ${v.cpuPercent}%`);
    t.ok(v.rssBytes! > 10 * 2 ** 20, `${v.name} rss ${v.rssBytes}`);
    t.ok(v.estimatedMonthlyCostUsd! > 0);
    t.ok(v.telemetry!.acceptedPoints! > 0, 'collector telemetry: points accepted');
    t.ok(v.telemetry!.sentPoints! > 0, 'collector telemetry: points sent');
    t.notOk(isAlive(v.pid!), `${v.name} collector (pid ${v.pid}) is gone after --once`);
  }
  const merge = optimized.telemetry!.processors.find((p) => p.processor === 'transform/merge');
  t.ok(merge && merge.outgoing < merge.incoming, `the merge stage sums the four sshd processes (${merge?.incoming} -> ${merge?.outgoing} points)`);
  t.equal(optimized.seriesByMetric.process_memory_usage_bytes, report.critical.running.length, 'one memory series per critical name');
  t.ok(report.comparison.monthlyCostSavingsUsd! > 0);
  t.equal(report.comparison.rssBytesDelta, optimized.rssBytes! - baseline.rssBytes!);
  // The loss measurements are on by default: the host's truth and each variant's losses against it.
  t.ok(report.truth, 'the report carries the host truth');
  t.equal(report.truth?.k, 10);
  t.ok(report.truth!.processes >= 300, `truth counts ${report.truth?.processes} processes`);
  for (const v of report.variants) t.ok(v.loss, `${v.name} reports its losses`);
});

t.test('loss.enabled: false: critical retention only, no truth and no losses in the report', { timeout: 180_000 }, async (t) => {
  const simulator = await startSimulator({ count: 40, criticalNames: ['sshd', 'postgres'], namePrefix: 'phx-noloss', logger: silentLogger() });
  t.teardown(() => simulator.close());
  const { file } = await writeTestConfig(t, { experiment: { variants: ['baseline', 'optimized-a'] }, loss: { enabled: false } });
  const result = await runCli(['run', '--once', '--json', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 0, `exit 0 (stderr: ${result.stderr})`);
  const report = JSON.parse(result.stdout) as AgentReport;
  t.notOk('truth' in report, 'no truth in the report');
  for (const v of report.variants) {
    t.notOk('loss' in v, `${v.name}: no loss figures`);
    t.equal(v.criticalRetention, 1, `${v.name} still measures critical retention (missing: ${v.criticalMissing.join(',')})`);
    t.ok(v.series! > 0, `${v.name} still counts its series`);
  }
  for (const name of ['sshd', 'postgres']) t.ok(report.critical.running.includes(name), `${name} is running (ground truth)`);
});

t.test('optimized-b rolls the long tail into _other and keeps critical and busy processes', { timeout: 180_000 }, async (t) => {
  const simulator = await startSimulator({
    count: 60,
    criticalNames: ['sshd', 'postgres'],
    cpuBurners: 1,
    namePrefix: 'phx-b',
    logger: silentLogger(),
  });
  t.teardown(() => simulator.close());
  const burner = simulator.processes().find((p) => p.burner)!;
  const { file } = await writeTestConfig(t, { experiment: { variants: ['baseline', 'optimized-b'] } });
  const result = await runCli(['run', '--once', '--json', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 0, result.stderr);
  const report = JSON.parse(result.stdout) as AgentReport;
  const b = report.variants[1];
  t.equal(b.name, 'optimized-b');
  t.equal(b.criticalRetention, 1, `missing: ${b.criticalMissing}`);
  t.ok(report.comparison.cardinalityReduction! > 0.5, `reduction ${report.comparison.cardinalityReduction}`);
  t.ok(b.seriesByMetric.process_memory_usage_bytes! < 30, 'far fewer per-name series than processes');
  const flows = b.telemetry!.processors.map((p) => p.processor);
  t.same(flows.sort(), ['filter/classifier', 'groupbyattrs', 'transform/classify', 'transform/merge'].sort());
  t.ok(burner.name.length > 0);
});

t.test('a variant that cannot start ends --once with a clear error and exit 1, nothing left running', { timeout: 120_000 }, async (t) => {
  const broken = await writeBrokenVariant(t);
  const { file } = await writeTestConfig(t, { experiment: { variants: ['baseline', { name: 'broken', pipeline: broken }] } });
  const started = Date.now();
  const result = await runCli(['run', '--once', '--json', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 1);
  t.match(result.stderr, /variant 'broken': collector exited before it was ready/);
  t.equal(result.stdout, '', 'no report on stdout');
  t.ok(Date.now() - started < 60_000, 'fails fast rather than waiting out the start timeout');
});

/** The baseline template with a root_path that does not exist: valid placeholders, but the collector exits at start. */
async function writeBrokenVariant(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-broken-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const template = await readFile(path.join(pipelinesDir(), 'baseline.yaml'), 'utf8');
  const file = path.join(dir, 'broken.yaml');
  await writeFile(file, template.replace('root_path: {{root_path}}', 'root_path: /nonexistent-root'));
  return file;
}
