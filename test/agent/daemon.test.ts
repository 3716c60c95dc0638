// The long-running agent with the real collector: restarts after kill -9, and leaves no collector behind.
import t from 'tap';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../agent/config/load.js';
import { AgentDaemon } from '../../agent/daemon.js';
import { silentLogger } from '../../common/logger.js';
import type { AgentReport } from '../../protocol/report.js';
import { readPidFile } from '../../agent/supervisor/pidfile.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { isAlive, waitFor } from '../helpers/process.js';
import { spawnTs } from '../helpers/spawn-ts.js';
import { nextReport } from '../helpers/daemon.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import type { AgentStatus } from '../../agent/health-server.js';

const binary = realCollector();
const BIN = fileURLToPath(new URL('../../agent/bin.ts', import.meta.url));

t.test('kill -9 of a collector during run: restarted, restart count rises, measuring continues', { timeout: 180_000 }, async (t) => {
  const { file } = await writeTestConfig(t);
  const daemon = new AgentDaemon(loadConfig(file), { logger: silentLogger(), collectorBinary: binary });
  t.teardown(() => daemon.close());
  await daemon.start();
  const first = await nextReport(daemon, (r) => r.variants.every((v) => v.state === 'running' && (v.series ?? 0) > 0));
  const victim = first.variants[1];
  process.kill(victim.pid!, 'SIGKILL');
  const after = await nextReport(daemon, (r) => r.variants[1].restarts >= 1 && r.variants[1].state === 'running' && (r.variants[1].series ?? 0) > 0);
  t.equal(after.variants[1].restarts, 1, 'restart counted');
  t.not(after.variants[1].pid, victim.pid, 'a new collector');
  t.equal(after.variants[1].lastExit?.signal, 'SIGKILL');
  t.notOk(isAlive(victim.pid!), 'the killed collector is gone');
  t.equal(after.variants[0].restarts, 0, 'the other variant is unaffected');
  t.equal(after.variants[0].pid, first.variants[0].pid);
  const pids = after.variants.map((v) => v.pid!);
  await daemon.close();
  for (const pid of pids) t.notOk(isAlive(pid), `collector ${pid} stopped with the daemon`);
});

async function firstReportLine(child: ReturnType<typeof spawnTs>): Promise<AgentReport> {
  let buffered = '';
  child.stdout!.setEncoding('utf8');
  for await (const chunk of child.stdout!) {
    buffered += chunk as string;
    const newline = buffered.indexOf('\n');
    if (newline >= 0) {
      const report = JSON.parse(buffered.slice(0, newline)) as AgentReport;
      if (report.variants.every((v) => v.state === 'running')) return report;
      buffered = buffered.slice(newline + 1);
    }
  }
  throw new Error('agent exited before its first report');
}

t.test('the agent process: SIGTERM stops both collectors; after kill -9 the next agent stops the leftovers', { timeout: 240_000 }, async (t) => {
  const healthPort = await autoPort();
  const { file, stateDir } = await writeTestConfig(t, { health: { port: healthPort } });
  const children: ReturnType<typeof spawnTs>[] = [];
  t.teardown(() => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const start = () => {
    const child = spawnTs(BIN, ['run', '--json', '--config', file, '--otelcol', binary]);
    child.stderr!.resume();
    children.push(child);
    return child;
  };

  // 1. SIGTERM: the agent stops its collectors and exits 0.
  const agent = start();
  const report = await firstReportLine(agent);
  const pids = report.variants.map((v) => v.pid!);
  t.ok(pids.every(isAlive), `collectors ${pids} run`);
  // The health endpoint, as systemd checks and Kubernetes probes see it.
  const health = `http://127.0.0.1:${healthPort}`;
  t.equal((await fetch(`${health}/healthz`)).status, 200, '/healthz');
  const ready = await fetch(`${health}/readyz`);
  t.same([ready.status, await ready.json()], [200, { status: 'ready', reason: 'both collectors running' }], '/readyz');
  const status = (await (await fetch(`${health}/status`)).json()) as AgentStatus;
  t.same(status.collectors.map((c) => c.pid).sort(), [...pids].sort(), '/status names the collectors');
  t.ok(status.lastReportAt !== null && status.state === 'running');
  agent.kill('SIGTERM');
  const [code] = await once(agent, 'exit');
  t.equal(code, 0, 'agent exits 0 on SIGTERM');
  for (const pid of pids) t.notOk(isAlive(pid), `collector ${pid} is gone after the agent exited`);

  // 2. kill -9: the collectors outlive the agent (nothing could stop them) ...
  const killed = start();
  const orphans = (await firstReportLine(killed)).variants.map((v) => v.pid!);
  t.same(readPidFile(path.join(stateDir, 'collectors.json')).map((e) => e.pid).sort(), [...orphans].sort(), 'pid file lists them');
  killed.kill('SIGKILL');
  await once(killed, 'exit');
  t.ok(orphans.every(isAlive), 'orphaned collectors still run after kill -9 of the agent');
  // ... and the next agent stops them before starting its own.
  const next = start();
  const fresh = (await firstReportLine(next)).variants.map((v) => v.pid!);
  await waitFor('leftovers stopped', () => orphans.every((pid) => !isAlive(pid)), 10_000);
  t.pass('leftover collectors were stopped by the next agent');
  t.ok(fresh.every((pid) => !orphans.includes(pid)));
  next.kill('SIGTERM');
  await once(next, 'exit');
  for (const pid of fresh) t.notOk(isAlive(pid), `collector ${pid} gone`);
});
