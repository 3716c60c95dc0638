// optimized-c against optimized-b with the real collectors, over a burner cycling across their shared CPU threshold
// (issue 15, point 7): b switches it between its own series and _other on every crossing, c once, when it is heavy.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../agent/config/load.js';
import { AgentDaemon } from '../../agent/daemon.js';
import { silentLogger } from '../../common/logger.js';
import { stickyCpuSeconds } from '../../protocol/pipeline/render.js';
import type { AgentReport, VariantLoss } from '../../protocol/report.js';
import { realCollector } from '../helpers/collector.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { nextReport } from '../helpers/daemon.js';
import { cycle, namedProcesses } from '../helpers/named-processes.js';

// Other processes on a shared test host cross the threshold too, and each one joining _other adds its whole life's
// CPU to the roll-up at once. So every name but the test's own ('@…') is critical: _other holds only the test's.
const NAME = '@sticky-flap';
const IDLE = '@sticky-idle';
const ALL_BUT_OURS = '([^@].*)?';
const PAIR = ['optimized-b', 'optimized-c'] as const;
type Variant = (typeof PAIR)[number];
/** The default: the sticky limit is threshold × 5 min = 15 CPU-seconds, reached within the burner's first busy spell. */
const CPU_THRESHOLD = 0.05;
/** Busy (a whole core, far above the threshold) then stopped: two crossings per cycle. */
const ON_MS = 30_000;
const OFF_MS = 12_000;
/** 3 s each: 60 s, the burner's first cycle (busy, stopped) and the start of its second. */
const ROUNDS = 20;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** CPU-seconds a process has used, user and system, from /proc/PID/stat (clock ticks of 1/100 s on Linux). */
async function cpuSeconds(pid: number): Promise<number> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

t.test('a burner cycling across the CPU threshold: optimized-b switches it on every crossing, optimized-c once', { timeout: 240_000 }, async (t) => {
  const start = await namedProcesses(t);
  const flapper = await start(NAME, { kind: 'burner' });
  await start(IDLE, { kind: 'idle' });
  // Young and cool to begin with: both variants roll it up.
  flapper.proc.kill('SIGSTOP');
  const { file } = await writeTestConfig(t, {
    experiment: { variants: [...PAIR] },
    interval: '3s',
    pipeline: { collectionInterval: '2s', metricExpiration: '4s', cpuThreshold: CPU_THRESHOLD },
    critical: { patterns: [ALL_BUT_OURS] },
  });
  const daemon = new AgentDaemon(loadConfig(file), { logger: silentLogger(), collectorBinary: realCollector() });
  t.teardown(() => daemon.close());
  await daemon.start();
  const ready = (r: AgentReport) => r.variants.every((v) => v.state === 'running' && v.loss?.topCpu != null && v.loss.flapping !== null);
  await nextReport(daemon, ready, 90_000);

  // Whether a variant's endpoint, read directly, has a series of the burner's own.
  const ports = new Map(daemon.experiment!.variants.map((v) => [v.name, v.ports.exporter]));
  const shows = async (name: Variant) => {
    const text = await (await fetch(`http://127.0.0.1:${ports.get(name)}/metrics`)).text();
    return text.includes(`process_executable_name="${NAME}"`);
  };
  t.same([await shows('optimized-b'), await shows('optimized-c')], [false, false], 'stopped and young, it is in _other in both');

  const stopCycling = cycle(t, flapper, ON_MS, OFF_MS);
  const reports: AgentReport[] = [];
  while (reports.length < ROUNDS) reports.push(await nextReport(daemon, ready, 30_000));
  await stopCycling();
  const used = await cpuSeconds(flapper.pid);

  const loss = (r: AgentReport, name: Variant): VariantLoss => r.variants.find((v) => v.name === name)!.loss!;
  const switchedIn = (name: Variant) => reports.flatMap((r, i) => (loss(r, name).flapping!.switchedNames.includes(NAME) ? [i] : []));
  const b = switchedIn('optimized-b');
  const c = switchedIn('optimized-c');
  const limit = stickyCpuSeconds(CPU_THRESHOLD);
  t.ok(b.length >= 3, `optimized-b switched the burner ${b.length} times in ${ROUNDS} rounds (at rounds ${b.join(', ')})`);
  t.equal(c.length, 1, `optimized-c switched it once, to its own series when hot and for good past ${limit} CPU-seconds (at rounds ${c.join(', ')}; it used ${used} s)`);

  // Once sticky, c shows it by name whenever it is a top consumer, busy or not.
  const after = reports.slice(c[0]! + 1).filter((r) => r.truth!.topCpu!.some((p) => p.name === NAME));
  t.ok(after.length >= 3, `the burner was a top-10 CPU consumer in ${after.length} rounds after c's switch`);
  t.same(after.filter((r) => loss(r, 'optimized-c').topCpu!.missing.includes(NAME)).length, 0, 'optimized-c shows it by name in each');

  // Roll-ups and all, each accounts for the host's CPU (the median round: a series merging processes of one name
  // still jumps when one starts and falls when one exits).
  for (const name of PAIR) {
    const rounds = reports.map((r) => loss(r, name).cpuConservation!);
    const cpu = median(rounds);
    t.ok(Math.abs(cpu - 1) <= 0.15, `${name}: CPU conservation ${cpu.toFixed(3)}, within 15% of 1 (rounds ${Math.min(...rounds)}–${Math.max(...rounds)})`);
  }

  // Cool again: b rolls it up as soon as its utilization falls and its own series expire; c keeps them.
  flapper.proc.kill('SIGSTOP');
  const deadline = Date.now() + 30_000;
  while ((await shows('optimized-b')) && Date.now() < deadline) await sleep(500);
  t.equal(await shows('optimized-b'), false, 'stopped, it is back in _other in optimized-b');
  t.equal(await shows('optimized-c'), true, 'and still on its own series in optimized-c');
  await daemon.close();
});
