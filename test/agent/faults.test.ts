// Fault injection with the real collector: a frozen collector, a crash-looping variant, a full state disk.
// Each test prints the figure RELIABILITY.md records (detection time, restarts, CPU, reports delivered).
import t from 'tap';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../agent/config/load.js';
import { AgentDaemon } from '../../agent/daemon.js';
import { silentLogger } from '../../common/logger.js';
import type { AgentReport } from '../../protocol/report.js';
import { TokenSet } from '../../hub/auth.js';
import { startHub } from '../../hub/server.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { freezeCollector, nextReport } from '../helpers/daemon.js';
import { isAlive, waitFor } from '../helpers/process.js';
import { spawnTs, tsLoaderArgs } from '../helpers/spawn-ts.js';
import { contiguous, notOnce, rowsPerSeq } from '../helpers/stored-rows.js';
import { spawn } from 'node:child_process';

const binary = realCollector();
const BIN = fileURLToPath(new URL('../../agent/bin.ts', import.meta.url));
const BASELINE = fileURLToPath(new URL('../../pipelines/baseline.yaml', import.meta.url));

/** Report lines from an agent run with --json, as they come. */
function reportLines(child: ReturnType<typeof spawn>): AgentReport[] {
  const reports: AgentReport[] = [];
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buffered += chunk;
    for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
      reports.push(JSON.parse(buffered.slice(0, nl)) as AgentReport);
      buffered = buffered.slice(nl + 1);
    }
  });
  return reports;
}

t.test('a collector frozen with SIGSTOP: detected within two health intervals, killed, restarted; the other runs on', { timeout: 180_000 }, async (t) => {
  // 5 s health checks (default 15 s) keep the test short; the mechanism is the same.
  const { file } = await writeTestConfig(t, { collector: { healthInterval: '5s' } });
  const daemon = new AgentDaemon(loadConfig(file), { logger: silentLogger(), collectorBinary: binary });
  t.teardown(() => daemon.close());
  await daemon.start();
  const first = await nextReport(daemon, (r) => r.variants.every((v) => v.state === 'running' && (v.series ?? 0) > 0));
  const { frozen, exit, detectedMs } = await freezeCollector(daemon.experiment!.variants[1].collector);
  t.equal(exit.reason, 'unhealthy');
  // Health checks every 5 s, each allowed 1 s; two failures in a row: at most 2 × (5 + 1) s, plus 2 s of
  // timer slack on a loaded 2-core machine.
  t.ok(detectedMs <= 14_000, `detected and killed ${detectedMs} ms after SIGSTOP (two health intervals: 12 s)`);
  t.notOk(isAlive(frozen), 'the frozen collector is gone');
  const after = await nextReport(daemon, (r) => r.variants[1].restarts >= 1 && r.variants[1].state === 'running' && (r.variants[1].series ?? 0) > 0);
  t.match(after.variants[1], { restarts: 1, lastExit: { reason: 'unhealthy', signal: 'SIGKILL' } }, 'the report shows the restart and why');
  t.same([after.variants[0].pid, after.variants[0].restarts], [first.variants[0].pid, 0], 'the other variant is unaffected');
});

t.test('a variant whose collector exits at once: backoff, the agent stays up and reports it, little CPU', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-crash-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const broken = path.join(dir, 'broken.yaml');
  // A connector type this collector does not have: the collector refuses the config and exits 1.
  writeFileSync(broken, `${readFileSync(BASELINE, 'utf8')}\nconnectors:\n  no_such_connector: {}\n`);
  const { file } = await writeTestConfig(t, { experiment: { variants: ['baseline', { name: 'broken', pipeline: broken }] } });
  const agent = spawnTs(BIN, ['run', '--json', '--config', file, '--otelcol', binary]);
  const exited = once(agent, 'exit');
  t.teardown(async () => {
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await exited;
  });
  agent.stderr!.resume();
  const reports = reportLines(agent);
  await waitFor('first report', () => reports.length > 0, 60_000);
  const cpuFrom = readCpuSeconds(agent.pid!);
  const from = Date.now();
  // At least 6 s of looping measured: on a loaded machine the first report can come after the third restart,
  // and a window of 0 ms would measure nothing (CI once printed NaN here).
  await waitFor(
    'three restarts of the broken variant and 6 s of looping',
    () => (reports.at(-1)?.variants[1].restarts ?? 0) >= 3 && Date.now() - from >= 6_000,
    60_000,
    200,
  );
  const elapsedSeconds = (Date.now() - from) / 1000;
  const cpuPercent = ((readCpuSeconds(agent.pid!) - cpuFrom) / elapsedSeconds) * 100;
  const last = reports.at(-1)!;
  t.ok(agent.exitCode === null, 'the agent is still running');
  t.match(last.variants[1], { name: 'broken', lastExit: { code: 1, reason: 'exited' } });
  t.ok(['backoff', 'starting'].includes(last.variants[1].state), `reported as ${last.variants[1].state}`);
  t.ok(last.variants[1].restarts <= 5, `${last.variants[1].restarts} restarts (1 s, 2 s, 4 s… apart, not a tight loop)`);
  t.match(last.variants[0], { name: 'baseline', state: 'running', restarts: 0 }, 'the baseline runs on');
  t.ok(Number.isFinite(cpuPercent) && cpuPercent < 15, `agent CPU over ${elapsedSeconds.toFixed(1)} s of looping: ${cpuPercent.toFixed(1)}% of a core`);
});

/** utime + stime of a process, in seconds (clock ticks are 100 a second on Linux). */
function readCpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

t.test('a full state disk: a clear error, measuring and delivery go on, nothing crashes', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-full-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const hub = await startHub({ port: 0, dataDir: path.join(dir, 'hub'), tokens: TokenSet.fromTokens(['full-disk-token-0123456789']), logger: silentLogger() });
  t.teardown(() => hub.close());
  const stateDir = path.join(dir, 'state');
  const { file } = await writeTestConfig(t, { stateDir, hub: { url: hub.agentUrl, agentId: 'full-disk' } });
  // The state directory is a 64 KiB tmpfs, filled up before the agent starts (in a mount namespace of its own).
  const script = `mkdir -p '${stateDir}' && mount -t tmpfs -o size=64k tmpfs '${stateDir}' && (dd if=/dev/zero of='${stateDir}/filler' bs=4k 2>/dev/null || true) && exec "$@"`;
  const agent = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script, 'sh', process.execPath, ...tsLoaderArgs(), BIN, 'run', '--json', '--config', file, '--otelcol', binary], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1', PHOENIX_HUB_TOKEN: 'full-disk-token-0123456789', RUNTIME_DIRECTORY: path.join(dir, 'runtime') },
  });
  const exited = once(agent, 'exit');
  t.teardown(async () => {
    if (agent.exitCode === null) agent.kill('SIGTERM');
    await exited;
  });
  let stderr = '';
  agent.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const reports = reportLines(agent);
  await waitFor('four reports', () => reports.length >= 4, 90_000, 200);
  t.ok(agent.exitCode === null, 'the agent is still running');
  t.match(stderr, /cannot write the outbox; keeping reports in memory until the disk recovers/, 'a clear error');
  t.match(stderr, /ENOSPC/, 'naming the cause');
  t.equal(stderr.match(/cannot write the outbox/g)?.length, 1, 'once per episode, not once per report');
  // Counted as rows in the hub's store (its high-water mark would pass over a gap): four reports, 1..4, each once.
  const rows = await waitFor('reports delivered from memory', () => {
    const stored = rowsPerSeq(path.join(dir, 'hub'), 'full-disk');
    return stored.length >= 4 ? stored : null;
  }, 30_000, 200);
  t.ok(contiguous(rows.map((r) => r.seq)), `the hub stored ${rows.length} reports made while the disk was full, 1..${rows.length} without a gap`);
  t.same(notOnce(rows), [], 'each one row per side (counted with SQL)');
  agent.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, 'and it stops cleanly');
});
