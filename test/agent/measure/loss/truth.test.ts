import t from 'tap';
import { blindSpots, hostTruth, truthRound } from '../../../../agent/measure/loss/truth.js';
import { topCoverage } from '../../../../agent/measure/loss/coverage.js';
import { variantView } from '../../../../agent/measure/variant-view.js';
import type { HostProcess, HostProcesses } from '../../../../agent/measure/host-processes.js';

const NOW = 1_800_000_000_000;
const proc = (pid: number, name: string, cpu: number | null, rssMiB: number, extra: Partial<HostProcess> = {}): HostProcess => ({
  pid,
  name,
  exeBase: name,
  startedAt: NOW - 3_600_000,
  cpuSeconds: 100,
  cpuSecondsDelta: cpu,
  rssBytes: rssMiB * 2 ** 20,
  ...extra,
});
const host = (processes: HostProcess[], excluded: HostProcess[] = [], intervalMs: number | null = 10_000): HostProcesses => ({
  count: processes.length,
  processes,
  excluded,
  intervalMs,
});

t.test('a round: the population, the top consumers, totals with the collectors, young processes left out', async (t) => {
  const processes = [
    proc(10, 'burner-a', 5, 10),
    proc(11, 'burner-b', 8, 20),
    proc(12, 'hog', 0.1, 900),
    proc(13, 'idle', 0, 5),
    proc(14, 'young', 3, 50, { startedAt: NOW - 1000 }),
    proc(15, 'kworker/0:1', 2, 0, { exeBase: null }),
    proc(16, 'new-since-last-read', null, 30),
  ];
  const collector = proc(99, 'otelcol-phoenix', 1, 60);
  const round = truthRound(host(processes, [collector]), NOW - 12_000, 2);
  t.same(round.population.map((p) => p.pid), [10, 11, 12, 13, 15, 16], 'old enough (a kernel thread too: the collector reports them), not the collectors');
  t.same(round.topCpu?.map((p) => p.name), ['burner-b', 'burner-a'], 'K by CPU over the interval, most first');
  t.same(round.topRss.map((p) => p.name), ['hog', 'new-since-last-read'], 'K by RSS, largest first');
  t.equal(round.intervalSeconds, 10);
  // (5 + 8 + 0.1 + 0 + kworker 2 + collector 1) CPU seconds over 10 s; the process first seen this read has no delta.
  t.equal(round.cpuCores!.toFixed(4), '1.6100', 'CPU cores of the population and the collectors');
  t.equal(round.rssBytes, (10 + 20 + 900 + 5 + 30 + 60) * 2 ** 20, 'RSS of the population and the collectors');

  const truth = hostTruth(round, 2, []);
  t.match(truth, { k: 2, intervalMs: 10_000, processes: 6, cpuCores: 1.61 });
  t.same(truth.topCpu, [
    { name: 'burner-b', pid: 11, value: 0.8 },
    { name: 'burner-a', pid: 10, value: 0.5 },
  ]);
});

t.test('the first read: no interval, no CPU figures', async (t) => {
  const round = truthRound(host([proc(10, 'a', null, 10)], [], null), NOW, 10);
  t.equal(round.topCpu, null);
  t.equal(round.cpuCores, null);
  t.equal(hostTruth(round, 10, []).topCpu, null);
  t.equal(round.topRss.length, 1, 'RSS is known from the first read');
});

t.test('top coverage: by the name the collector reports or the executable file name', async (t) => {
  const ranked = [proc(1, 'postgres', 5, 1), proc(2, 'kube-controller-manager', 4, 1, { name: 'kube-controller', exeBase: 'kube-controller-manager' }), proc(3, 'java', 3, 1), proc(4, 'java', 2, 1)];
  const view = variantView({ process_executable_name: ['postgres', '_other'], process_executable_path: ['/usr/local/bin/kube-controller-manager'] });
  t.same(topCoverage(ranked, view), { ranked: 4, visible: 2, missing: ['java'] }, 'two java processes missing, named once');
  t.same(topCoverage([], view), { ranked: 0, visible: 0, missing: [] });
});

t.test('blind spots: by pid where a variant has pids, else by name; named largest first', async (t) => {
  const population = [proc(1, 'sshd', 0, 5), proc(2, 'secret-daemon', 0, 50), proc(3, 'secret-daemon', 0, 40), proc(4, 'cron', 0, 80)];
  const baseline = variantView({ process_executable_name: ['sshd', 'secret-daemon'], process_pid: ['1', '3'] });
  const rollup = variantView({ process_executable_name: ['sshd', 'secret-daemon', 'cron', '_other'] });
  t.same(blindSpots(population, [baseline, rollup]), { count: 2, names: ['cron', 'secret-daemon'] }, 'pid 2 and pid 4 are not in the baseline, whatever the roll-up names');
  t.same(blindSpots(population, [rollup]), { count: 0, names: [] }, 'without pids, a name shown is a process shown');
  t.same(blindSpots(population, [variantView({ process_executable_name: ['sshd'] })]), { count: 3, names: ['cron', 'secret-daemon'] });
});
