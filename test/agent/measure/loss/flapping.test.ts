import t from 'tap';
import { FlapTracker } from '../../../../agent/measure/loss/flapping.js';
import { VariantLossMeter } from '../../../../agent/measure/loss/variant-loss.js';
import { truthRound } from '../../../../agent/measure/loss/truth.js';
import { scanExposition } from '../../../../agent/measure/exposition.js';
import { variantView } from '../../../../agent/measure/variant-view.js';
import type { HostProcess } from '../../../../agent/measure/host-processes.js';

const proc = (pid: number, name: string, cpu: number | null = null, rss = 1000): HostProcess => ({
  pid,
  name,
  exeBase: name,
  startedAt: 0,
  cpuSeconds: 0,
  cpuSecondsDelta: cpu,
  rssBytes: rss,
});

const exposition = (names: string[], extra = '') =>
  names.map((n) => `process_memory_usage_bytes{process_executable_name="${n}"} 1000\n`).join('') + extra;

t.test('flapping: series that came and went, and names that switched to or from a roll-up', async (t) => {
  const flaps = new FlapTracker();
  t.teardown(() => flaps.close());
  const population = [proc(1, 'burner'), proc(2, 'sshd'), proc(3, 'quiet')];
  const scan = (names: string[]) => scanExposition(exposition(names), { keepSeries: true, collectLabels: ['process_executable_name'], ...(flaps.previousSeries ? { previousSeries: flaps.previousSeries } : {}) });
  const round = (names: string[], who = population) => {
    const stats = scan(names);
    return flaps.update(stats, who, variantView(stats.labelValues));
  };
  t.equal(round(['burner', 'sshd', '_other']), null, 'nothing to compare on the first round');
  t.same(round(['sshd', '_other']), { appeared: 0, vanished: 1, switched: 1, switchedNames: ['burner'] }, 'burner rolled up');
  t.same(round(['burner', 'sshd', '_other']), { appeared: 1, vanished: 0, switched: 1, switchedNames: ['burner'] }, 'and back');
  t.same(round(['burner', 'sshd', '_other', 'newcomer'], [...population, proc(4, 'newcomer')]), { appeared: 1, vanished: 0, switched: 0, switchedNames: [] }, 'a new process is no switch');
  t.same(round(['burner', 'sshd', '_other', 'newcomer'], population), { appeared: 0, vanished: 0, switched: 0, switchedNames: [] }, 'nor one that exited');
});

t.test('a variant meter: every figure from one scrape and the host round', async (t) => {
  const meter = new VariantLossMeter(10_000);
  t.teardown(() => meter.close());
  const host = (cpu: number | null) => ({
    count: 2,
    processes: [proc(1, 'burner', cpu, 4000), proc(2, 'sshd', cpu === null ? null : 0, 1000)],
    excluded: [],
    intervalMs: cpu === null ? null : 10_000,
  });
  const text = (cpuSeconds: number, at: number) =>
    `process_cpu_time_seconds_total{process_executable_name="burner",process_pid="1",state="user"} ${cpuSeconds} ${at}\n` +
    `process_memory_usage_bytes{process_executable_name="burner",process_pid="1"} 4000 ${at}\n` +
    `process_memory_usage_bytes{process_executable_name="sshd",process_pid="2"} 1000 ${at}\n`;
  const measure = (cpuSeconds: number, at: number, cpu: number | null) => {
    const stats = scanExposition(text(cpuSeconds, at), meter.scanOptions());
    return meter.measure(stats, variantView(stats.labelValues), truthRound(host(cpu), 10_000, 10), at + 500);
  };
  t.match(measure(100, 1000, null), { topCpu: null, cpuCores: null, cpuConservation: null, rssBytes: 5000, rssConservation: 1, flapping: null });
  const second = measure(105, 11_000, 5);
  t.same(second, {
    topCpu: { ranked: 1, visible: 1, missing: [] },
    topRss: { ranked: 2, visible: 2, missing: [] },
    cpuCores: 0.5,
    rssBytes: 5000,
    cpuConservation: 1,
    rssConservation: 1,
    counterResets: 0,
    flapping: { appeared: 0, vanished: 0, switched: 0, switchedNames: [] },
  });
  t.equal(meter.measure(null, null, truthRound(host(5), 10_000, 10), 30_000), undefined, 'a failed scrape has no figures');
});
