// The collector pid file (agent/supervisor/pidfile.ts): the leftover reaper stops only pids that still run the
// recorded binary, the next agent stops a killed agent's collectors before it starts its own, and two pairs share
// the file without writing over each other.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../../agent/config/load.js';
import { AgentDaemon } from '../../../agent/daemon.js';
import { pidFilePath } from '../../../agent/paths.js';
import { PidFile, readPidFile, reapLeftovers, type PidEntry } from '../../../agent/supervisor/pidfile.js';
import { silentLogger } from '../../../common/logger.js';
import { realCollector } from '../../helpers/collector.js';
import { writeTestConfig } from '../../helpers/agent-config.js';
import { nextReport } from '../../helpers/daemon.js';
import { writeOtlpSinkConfig } from '../../helpers/otlp-sink.js';
import { isAlive, waitFor } from '../../helpers/process.js';

/** A child of the test's own, killed in teardown if still there. */
function own(t: Test, child: ChildProcess): ChildProcess {
  const exited = once(child, 'exit');
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  return child;
}

/** A real collector started by the test and not supervised by anyone: what a SIGKILLed agent leaves behind. */
async function leftoverCollector(t: Test): Promise<ChildProcess> {
  const sink = await writeOtlpSinkConfig(t);
  const child = own(t, spawn(realCollector(), ['--config', sink.file], { stdio: 'ignore' }));
  await waitFor('the leftover collector answers its health check', async () => (await fetch(`http://127.0.0.1:${sink.ports.health}/`).catch(() => null))?.ok, 30_000, 100);
  return child;
}

const entry = (variant: string, pid: number, binary: string): PidEntry => ({ variant, pid, binary, agentPid: 999_999, startedAt: new Date().toISOString() });

t.test('a recorded pid that now runs another program is left alone; one still running the recorded binary is stopped', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-pidfile-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  // The pid was reused: the file says "collector", the process is a sleep someone else runs.
  const reused = own(t, spawn('sleep', ['300'], { stdio: 'ignore' }));
  const collector = await leftoverCollector(t);
  const file = path.join(dir, 'collectors.json');
  await writeFile(file, JSON.stringify([entry('baseline', reused.pid!, realCollector()), entry('optimized-a', collector.pid!, realCollector())]));
  t.equal(realpathSync(`/proc/${reused.pid}/exe`), realpathSync('/usr/bin/sleep'), 'the reused pid runs sleep, not the recorded collector');

  const stopped = await reapLeftovers(file, silentLogger(), 2000);
  t.same(stopped, [collector.pid], 'only the pid still running the recorded binary is stopped');
  t.notOk(isAlive(collector.pid!), 'the leftover collector is gone');
  t.ok(isAlive(reused.pid!), 'the process that reused a recorded pid still runs');
  t.equal(reused.signalCode, null, 'and was sent no signal');
});

t.test('the next agent stops the leftovers before it starts its own collectors', { timeout: 120_000 }, async (t) => {
  const { file } = await writeTestConfig(t);
  const config = loadConfig(file);
  const leftover = await leftoverCollector(t);
  await mkdir(path.dirname(pidFilePath(config)), { recursive: true });
  await writeFile(pidFilePath(config), JSON.stringify([entry('baseline', leftover.pid!, realCollector())]));
  // Each spawn the daemon makes notes whether the leftover was still there at that moment.
  const leftoverAliveAtSpawn: boolean[] = [];
  const daemon = new AgentDaemon(config, {
    logger: silentLogger(),
    collectorBinary: realCollector(),
    spawn: ((...args: Parameters<typeof spawn>) => {
      leftoverAliveAtSpawn.push(isAlive(leftover.pid!));
      return spawn(...args);
    }) as typeof spawn,
  });
  t.teardown(() => daemon.close());
  await daemon.start();
  const report = await nextReport(daemon, (r) => r.variants.every((v) => v.state === 'running'));
  t.same(leftoverAliveAtSpawn, [false, false], 'at each of its two collector spawns, the leftover was already gone');
  t.notOk(isAlive(leftover.pid!), 'the leftover is gone');
  t.ok(report.variants.every((v) => v.pid !== leftover.pid), 'and both variants run collectors of their own');
});

// During a switch the old pair and the new one run side by side, each with its own PidFile on the same file, with the
// same variant names: retiring the old pair must leave the new pair's pids recorded, or a kill -9 after the switch
// leaves collectors nobody stops.
const shared = (variant: string, pid: number): PidEntry => ({ variant, pid, binary: '/bin/otelcol', agentPid: 999_999, startedAt: new Date().toISOString() });

t.test('two PidFiles on one file: each adds and removes its own pids, none writes over the other', async (t) => {
  const file = path.join(t.testdir(), 'collectors.json');
  const pids = () => readPidFile(file).map((e) => e.pid).sort();
  const old = new PidFile(file, silentLogger());
  old.add(shared('baseline', 101));
  old.add(shared('optimized-a', 102));
  const next = new PidFile(file, silentLogger());
  next.add(shared('baseline', 201));
  next.add(shared('optimized-b', 202));
  t.same(pids(), [101, 102, 201, 202], 'all four while both pairs run (a same variant name replaces nothing)');
  old.remove(101);
  old.remove(102);
  t.same(pids(), [201, 202], 'the old pair retired: the new pair is still recorded');
  next.remove(201);
  next.remove(202);
  t.same(readPidFile(file), [], 'none left: the file is gone');
});
