// Ground truth and report arithmetic: process identity, critical matching, telemetry, cost, comparison.
import t from 'tap';
import { Agent as HttpAgent, createServer } from 'node:http';
import { scrape } from '../../../agent/measure/scrape.js';
import { autoPort } from '../../../agent/supervisor/ports.js';
import { CriticalMatcher } from '../../../agent/measure/critical.js';
import { readIdentitySync } from '../../../agent/measure/process-identity.js';
import { HostProcessTable, listWithSysteminformation, PAGE_SIZE, readHostProcesses } from '../../../agent/measure/host-processes.js';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { summarizeTelemetry } from '../../../agent/measure/self-telemetry.js';
import { ResourceSampler } from '../../../agent/measure/resource-usage.js';
import { scanExposition } from '../../../agent/measure/exposition.js';
import { monthlyCost, pricingModel } from '../../../agent/report/cost.js';
import { compareVariants } from '../../../agent/report/compare.js';
import { summarizeReport } from '../../../agent/report/summary.js';
import { silentLogger } from '../../../common/logger.js';
import { startSimulator } from '../../../tools/simulator/simulator.js';
import { sampleReport } from '../../fixtures/report.js';

t.test('process identity matches what the collector reports, past the 15-character comm limit', async (t) => {
  const simulator = await startSimulator({ count: 3, criticalNames: ['kube-controller-manager', 'sshd'], namePrefix: 'phx-id', logger: silentLogger() });
  t.teardown(() => simulator.close());
  const long = simulator.processes().find((p) => p.name === 'kube-controller-manager')!;
  const identity = readIdentitySync(long.pid);
  t.same(identity, { pid: long.pid, name: 'kube-controller-manager', exeBase: 'kube-controller-manager' });
  t.equal(readIdentitySync(2 ** 22 + 7), null, 'a pid that does not exist');

  const host = await readHostProcesses();
  t.ok(host.count >= 3);
  const names = host.processes.map((p) => p.name);
  for (const p of simulator.processes()) t.ok(names.includes(p.name), `${p.name} in the host's process list`);
  const excluded = await readHostProcesses({ exclude: new Set([long.pid]) });
  t.notOk(excluded.processes.some((p) => p.pid === long.pid), 'excluded pids are left out');
  const matcher = new CriticalMatcher(['kube-controller-manager', 'sshd', 'nothing-runs-this']);
  t.same(matcher.running(host.processes), ['kube-controller-manager', 'sshd'], 'found by their full names');

  // Where there is no /proc the agent lists processes with systeminformation (ps): here both must agree.
  const portable = await listWithSysteminformation();
  for (const p of simulator.processes()) {
    const [fromProc, fromPs] = [host, portable].map((h) => h.processes.find((q) => q.pid === p.pid));
    t.ok(fromPs, `pid ${p.pid} listed by systeminformation too`);
    t.equal(fromPs?.name.slice(0, 15), p.name.slice(0, 15), `${p.name}: the same (comm) name`);
    t.ok(Math.abs((fromProc?.startedAt ?? 0) - (fromPs?.startedAt ?? Number.NaN)) <= 2000, `${p.name}: start times from /proc and ps within 2 s`);
  }
  t.ok(Math.abs(portable.count - host.count) <= 5, `process counts agree: /proc ${host.count}, ps ${portable.count}`);
});

t.test('process table: each process read in full once, then one stat a round tells reuse, exec and exit', async (t) => {
  // A /proc of our own making, so that pid reuse and exec can be staged exactly.
  const root = mkdtempSync(path.join(tmpdir(), 'phx-proc-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  writeFileSync(path.join(root, 'stat'), 'cpu  1 2 3 4\nbtime 1700000000\nprocesses 9\n');
  mkdirSync(path.join(root, 'self'));
  interface Usage {
    state?: string;
    utime?: number;
    stime?: number;
    rssPages?: number;
  }
  const statLine = (pid: number, comm: string, startTicks: number, usage: Usage = {}) => {
    // 52 fields in all; after[n - 3] is field n of proc(5): state 3, utime 14, stime 15, start time 22, rss 24.
    const after = Array.from({ length: 50 }, (_, i) => String(i));
    after[0] = usage.state ?? 'S';
    after[11] = String(usage.utime ?? 0);
    after[12] = String(usage.stime ?? 0);
    after[19] = String(startTicks);
    after[21] = String(usage.rssPages ?? 0);
    return `${pid} (${comm}) ${after.join(' ')}\n`;
  };
  const fake = (pid: number, comm: string, startTicks: number, exe: string | null, argv0 = comm, usage: Usage = {}) => {
    const dir = path.join(root, String(pid));
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'stat'), statLine(pid, comm, startTicks, usage));
    writeFileSync(path.join(dir, 'cmdline'), `${argv0}\0--flag\0`);
    if (exe !== null) symlinkSync(exe, path.join(dir, 'exe'));
  };
  fake(10, 'sshd', 500, '/usr/sbin/sshd');
  fake(11, 'kube-controller', 600, '/usr/local/bin/kube-controller-manager', '/usr/local/bin/kube-controller-manager');
  fake(12, 'my (odd) name)', 700, '/opt/app/odd (deleted)');
  fake(2, 'kthreadd', 0, null);

  const table = new HostProcessTable(root);
  const first = table.read();
  const byPid = (h: { processes: { pid: number }[] }, pid: number) => h.processes.find((p) => p.pid === pid);
  t.equal(first.count, 4, 'every numeric entry counted; self and stat are not processes');
  t.match(byPid(first, 10), { pid: 10, name: 'sshd', exeBase: 'sshd', startedAt: 1_700_000_000_000 + 5000 });
  t.match(byPid(first, 11), { pid: 11, name: 'kube-controller-manager', exeBase: 'kube-controller-manager', startedAt: 1_700_000_006_000 }, 'a cut name extended from argv[0]');
  t.match(byPid(first, 12), { name: 'my (odd) name)', exeBase: 'odd' }, 'parentheses and spaces in the name; a deleted executable');
  t.match(byPid(first, 2), { name: 'kthreadd', exeBase: null, cpuSecondsDelta: null, rssBytes: 0 }, 'a kernel thread has no executable and no memory');
  t.equal(first.intervalMs, null, 'no interval on the first read');

  // The same process (same start time, same comm): not read again, even though its exe link now says otherwise.
  rmSync(path.join(root, '10', 'exe'));
  symlinkSync('/usr/sbin/changed', path.join(root, '10', 'exe'));
  const second = table.read();
  t.equal(byPid(second, 10), byPid(first, 10), 'remembered: the same object, exe not read again');
  // The pid reused by a new process: a new start time makes it read in full.
  fake(11, 'postgres', 900, '/usr/lib/postgresql/16/bin/postgres');
  // A process that exec'd another program: same pid and start time, a new comm.
  fake(12, 'containerd', 700, '/usr/bin/containerd');
  // Its CPU and memory change in place: the delta is what it used since the previous read.
  writeFileSync(path.join(root, '10', 'stat'), statLine(10, 'sshd', 500, { utime: 150, stime: 50, rssPages: 10 }));
  const usage = table.read();
  t.match(byPid(usage, 10), { cpuSeconds: 2, cpuSecondsDelta: 2, rssBytes: 10 * PAGE_SIZE }, 'utime + stime in seconds (USER_HZ 100), rss in pages');
  t.ok(usage.intervalMs !== null && usage.intervalMs >= 0, 'an interval from the second read on');
  writeFileSync(path.join(root, '10', 'stat'), statLine(10, 'sshd', 500, { utime: 175, stime: 50, rssPages: 10, state: 'R' }));
  t.match(byPid(table.read(), 10), { cpuSeconds: 2.25, cpuSecondsDelta: 0.25 }, 'the next read: its use since the previous one');
  t.equal(PAGE_SIZE % 4096, 0, `the page size is read from /proc/self/smaps (${PAGE_SIZE})`);
  // One gone, one new.
  rmSync(path.join(root, '2'), { recursive: true });
  fake(13, 'kubelet', 950, '/usr/bin/kubelet');
  const third = table.read();
  t.match(byPid(third, 11), { name: 'postgres', exeBase: 'postgres', startedAt: 1_700_000_009_000 }, 'a reused pid is a new process');
  t.match(byPid(third, 12), { name: 'containerd', exeBase: 'containerd' }, 'an exec is noticed by its comm');
  t.match(byPid(third, 13), { name: 'kubelet' });
  t.equal(byPid(third, 2), undefined, 'an exited process is gone');
  t.equal(table.size, 4, 'and forgotten');
  const excluding = table.read(new Set([13]));
  t.same(excluding.processes.map((p) => p.pid).sort(), [10, 11, 12], 'excluded pids are left out');
  t.same(excluding.excluded.map((p) => p.pid), [13], 'and listed apart');
  t.equal(excluding.count, 3, 'the count leaves them out');

  // A stat line longer than the shared buffer (only a fake /proc has one) is read the long way, not cut.
  fake(14, 'x'.repeat(5000), 1000, '/usr/bin/long');
  t.match(byPid(table.read(), 14), { name: 'x'.repeat(5000), startedAt: 1_700_000_010_000 });
});

t.test('critical matching: anchored patterns on the name or the executable file name', async (t) => {
  const m = new CriticalMatcher(['sshd', 'postgres', 'containerd-shim(-runc-v2)?']);
  t.same(
    m.running([
      { pid: 1, name: 'sshd', exeBase: 'sshd' },
      { pid: 2, name: 'sshd-session', exeBase: 'sshd-session' },
      { pid: 3, name: 'containerd-shim', exeBase: 'containerd-shim-runc-v2' },
      { pid: 4, name: 'kworker/0:1', exeBase: null },
      { pid: 5, name: 'postgres', exeBase: 'postgres' },
      { pid: 6, name: 'postgres', exeBase: 'postgres' },
    ]),
    ['containerd-shim', 'postgres', 'sshd'],
    'anchored: sshd-session is not sshd; duplicates counted once',
  );
  const retention = m.retention(['postgres', 'sshd'], { process_executable_name: ['sshd', '_other'] });
  t.same(retention, { ratio: 0.5, visible: ['sshd'], missing: ['postgres'] });
  t.same(m.retention(['postgres'], { process_executable_path: ['/usr/lib/postgresql/16/bin/postgres'] }).ratio, 1, 'visible by path');
  t.same(m.retention([], {}), { ratio: null, visible: [], missing: [] }, 'null when none runs');
});

t.test('collector self-telemetry: accepted, sent, and each processor stage', async (t) => {
  const text = [
    'otelcol_receiver_accepted_metric_points{receiver="host_metrics",transport=""} 930',
    'otelcol_receiver_accepted_metric_points_total{receiver="otlp",transport="grpc"} 70',
    'otelcol_exporter_sent_metric_points{exporter="prometheus"} 44',
    'otelcol_processor_incoming_items{otel_signal="metrics",processor="groupbyattrs"} 114',
    'otelcol_processor_outgoing_items{otel_signal="metrics",processor="groupbyattrs"} 114',
    'otelcol_processor_incoming_items{otel_signal="metrics",processor="transform/merge"} 114',
    'otelcol_processor_outgoing_items{otel_signal="metrics",processor="transform/merge"} 44',
    'otelcol_processor_incoming_items{otel_signal="logs",processor="transform/merge"} 5',
    'otelcol_process_cpu_seconds 0.19',
  ].join('\n');
  const stats = scanExposition(text, { capture: (name) => name.startsWith('otelcol_') });
  const summary = summarizeTelemetry(stats.captured);
  t.same(summary, {
    acceptedPoints: 1000,
    sentPoints: 44,
    processors: [
      { processor: 'groupbyattrs', incoming: 114, outgoing: 114 },
      { processor: 'transform/merge', incoming: 114, outgoing: 44 },
    ],
  });
  t.same(summarizeTelemetry([]), { acceptedPoints: null, sentPoints: null, processors: [] });
});

t.test('cost model and comparison', async (t) => {
  const model = pricingModel(6.5, 0.09, 10_000);
  // 1000 series: $6.50 for series + 1000 x 259,200 samples/month = 259.2M samples x $0.09/M = $23.328
  t.equal(monthlyCost(1000, model), 29.828);
  t.equal(monthlyCost(0, model), 0);
  t.match(model.note, /Estimates/);
  const report = sampleReport();
  const c = compareVariants(report.variants[0], report.variants[1]);
  t.equal(c.cardinalityReduction, 0.9833);
  t.equal(c.cpuPercentDelta, -2);
  t.equal(c.rssBytesDelta, -10 * 2 ** 20);
  t.equal(c.monthlyCostSavingsUsd, 20.65);
  const missing = compareVariants({ ...report.variants[0], series: null, cpuPercent: null }, report.variants[1]);
  t.equal(missing.cardinalityReduction, null);
  t.equal(missing.cpuPercentDelta, null);
  t.equal(compareVariants({ ...report.variants[0], series: 0 }, report.variants[1]).cardinalityReduction, null, 'no division by zero');
});

t.test('the human summary names variants, reduction and what is missing', async (t) => {
  const text = summarizeReport(sampleReport('web-1'));
  t.match(text, /optimized-a vs baseline on web-1: series 2100 -> 35 \(reduction 98\.3%\)/);
  t.match(text, /optimized-a .* missing=postgres/);
  t.match(text, /estimated savings: \$20\.65\/month/);
});

t.test('resource sampler: CPU since the previous sample, null for a gone pid', async (t) => {
  const sampler = new ResourceSampler();
  t.teardown(() => sampler.close());
  const first = await sampler.sample(process.pid);
  t.ok(first && first.rssBytes > 0);
  const end = Date.now() + 300;
  while (Date.now() < end) Math.sqrt(Math.random()); // burn a little CPU between samples
  const second = await sampler.sample(process.pid);
  t.ok(second!.cpuPercent > 0, `cpu ${second!.cpuPercent}% of one core`);
  t.equal(await sampler.sample(2 ** 22 + 7), null);
  sampler.close();
  t.equal(await sampler.sample(process.pid), null, 'after close');
});

t.test('scrape: failures are results, malformed lines are counted, size and time are bounded', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/500') return void res.writeHead(500).end('no');
    if (req.url === '/slow') return; // never answers
    if (req.url === '/big') {
      res.writeHead(200);
      for (let i = 0; i < 2000; i++) res.write(`m{i="${i}"} 1\n`);
      return void res.end();
    }
    res.writeHead(200).end('ok_metric{a="1"} 1\nbroken{a="1" 1\nok_metric{a="2"} 2\n');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  const good = await scrape(`${base}/metrics`);
  t.ok(good.ok);
  if (good.ok) {
    t.equal(good.stats.series, 2);
    t.equal(good.stats.errors, 1, 'the malformed line is counted, not fatal');
  }
  const failed = await scrape(`${base}/500`);
  t.same([failed.ok, !failed.ok && failed.error], [false, `HTTP 500 from ${base}/500`]);
  const big = await scrape(`${base}/big`, { maxBytes: 1000 });
  t.notOk(big.ok);
  t.match(!big.ok && big.error, /larger than 1000 bytes/);
  const slow = await scrape(`${base}/slow`, { timeoutMs: 200 });
  t.match(!slow.ok && slow.error, /no answer within 200 ms/);
  const refused = await scrape(`http://127.0.0.1:${await autoPort()}/metrics`);
  t.match(!refused.ok && refused.error, /ECONNREFUSED/);
});

t.test('scrape over a kept-alive connection: one connection, a stale one retried once', async (t) => {
  // Answers every request on a connection except the third, on which it drops the connection unanswered —
  // what a server closing an idle kept-alive connection looks like to the request that reused it.
  let connections = 0;
  const server = createServer((req, res) => {
    const socket = req.socket as typeof req.socket & { served?: number };
    socket.served = (socket.served ?? 0) + 1;
    if (socket.served === 3) return void socket.destroy();
    res.writeHead(200, { 'content-type': 'text/plain' }).end('up{a="1"} 1\n');
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  }));
  const port = (server.address() as { port: number }).port;
  const agent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => agent.destroy());

  const first = await scrape(`http://127.0.0.1:${port}/metrics`, { agent });
  const second = await scrape(`http://127.0.0.1:${port}/metrics`, { agent });
  t.ok(first.ok && second.ok);
  t.equal(connections, 1, 'two scrapes, one connection');
  const third = await scrape(`http://127.0.0.1:${port}/metrics`, { agent });
  t.ok(third.ok && third.stats.series === 1, 'the dropped reuse is retried on a new connection and succeeds');
  t.equal(connections, 2);
  // Without an agent each scrape has its own connection.
  await scrape(`http://127.0.0.1:${port}/metrics`);
  t.equal(connections, 3);
});
