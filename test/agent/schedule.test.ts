// Experiment windows: collectors run only inside cron-scheduled windows; --once ignores the schedule.
import t from 'tap';
import { loadConfig } from '../../agent/config/load.js';
import { AgentDaemon } from '../../agent/daemon.js';
import { silentLogger } from '../../common/logger.js';
import type { AgentReport } from '../../protocol/report.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { runCli } from '../helpers/cli-run.js';
import { isAlive, waitFor } from '../helpers/process.js';

const binary = realCollector();

t.test('collectors start when a window opens and stop when it closes', { timeout: 120_000 }, async (t) => {
  // A window every 10 seconds (node-cron's seconds field), 6 seconds long.
  const { file } = await writeTestConfig(t, { interval: '2s', experiment: { schedule: '*/10 * * * * *', duration: '6s' } });
  const daemon = new AgentDaemon(loadConfig(file), { logger: silentLogger(), collectorBinary: binary });
  t.teardown(() => daemon.close());
  const events: string[] = [];
  const reports: AgentReport[] = [];
  daemon.on('window', (w: string) => events.push(w));
  daemon.on('report', (r: AgentReport) => reports.push(r));
  await daemon.start();
  t.equal(daemon.state, 'idle', 'nothing runs before the first window');
  t.equal(daemon.experiment, null);

  await waitFor('window open', () => daemon.state === 'running', 15_000);
  const pids = await waitFor('collectors started', () => {
    const list = daemon.experiment?.statuses().map((s) => s.pid) ?? [];
    return list.length === 2 && list.every((p) => p !== null) ? (list as number[]) : null;
  }, 15_000);
  await waitFor('window closed', () => events.includes('close'), 20_000);
  t.equal(daemon.state, 'idle');
  for (const pid of pids) t.notOk(isAlive(pid), `collector ${pid} stopped at the end of the window`);
  t.ok(reports.length >= 1, `measured inside the window (${reports.length} reports)`);
  t.same(events.slice(0, 2), ['open', 'close']);
});

t.test('--once ignores the schedule', { timeout: 120_000 }, async (t) => {
  const { file } = await writeTestConfig(t, { experiment: { schedule: '0 0 1 1 *', duration: '10m' } });
  const result = await runCli(['run', '--once', '--json', '--config', file, '--otelcol', binary]);
  t.equal(result.code, 0, result.stderr);
  t.equal(JSON.parse(result.stdout).variants.length, 2);
});
