// Figures RELIABILITY.md states for a real collector under a live agent, measured: how soon a SIGKILLed collector
// is started again (the first backoff), and how soon a frozen one is killed with the default 15 s health interval.
// Its own file: the frozen case takes up to 32 s on top of the start-up.
import t, { type Test } from 'tap';
import { loadConfig } from '../../../agent/config/load.js';
import { AgentDaemon } from '../../../agent/daemon.js';
import { silentLogger } from '../../../common/logger.js';
import { realCollector } from '../../helpers/collector.js';
import { writeTestConfig } from '../../helpers/agent-config.js';
import { freezeCollector, nextReport } from '../../helpers/daemon.js';
import { isAlive } from '../../helpers/process.js';

async function runningDaemon(t: Test) {
  const { file } = await writeTestConfig(t);
  const config = loadConfig(file);
  const daemon = new AgentDaemon(config, { logger: silentLogger(), collectorBinary: realCollector() });
  t.teardown(() => daemon.close());
  await daemon.start();
  await nextReport(daemon, (r) => r.variants.every((v) => v.state === 'running' && (v.series ?? 0) > 0));
  return { daemon, config, victim: daemon.experiment!.variants[1].collector };
}

t.test('a SIGKILLed collector is started again after the first backoff: 1 s ± 20% jitter', { timeout: 120_000 }, async (t) => {
  const { victim } = await runningDaemon(t);
  const killed = victim.pid!;
  const respawned = victim.next('spawned');
  const killedAt = Date.now();
  process.kill(killed, 'SIGKILL');
  const [pid] = await respawned;
  const delayMs = Date.now() - killedAt;
  t.not(pid, killed, 'a new collector');
  // The backoff's first delay is 800-1200 ms; on top of it, noticing the exit (pipes drained: up to 500 ms) and
  // spawning, and timer slack on a loaded 2-core machine.
  t.ok(delayMs >= 800 && delayMs <= 2500, `started again ${delayMs} ms after the kill (first backoff 800-1200 ms)`);
  await victim.waitReady(45_000);
  t.pass(`ready ${Date.now() - killedAt} ms after the kill`);
});

t.test('with the default 15 s health interval a frozen collector is killed within 2 x (15 s + 1 s probe)', { timeout: 150_000 }, async (t) => {
  const { config, victim } = await runningDaemon(t);
  t.equal(config.collector.healthInterval, 15_000, 'the default interval');
  const { frozen, exit, detectedMs } = await freezeCollector(victim);
  t.equal(exit.reason, 'unhealthy');
  // Two failed checks in a row, the first due one interval after the last sign of life (at most 32 s), plus 4 s of
  // timer and kill slack on a loaded 2-core machine.
  t.ok(detectedMs <= 36_000, `detected and killed ${detectedMs} ms after SIGSTOP (two default health intervals: 32 s)`);
  t.notOk(isAlive(frozen), 'the frozen collector is gone');
});
