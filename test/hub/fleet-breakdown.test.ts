// The fleet breakdown (hub/fleet-breakdown.ts): series per metric and the pipeline's stages summed per group, side and
// variant over hand-built hosts whose sums are worked out below; and the latest reports it reads, kept between calls
// and read again only for agents whose sequence moved, against a real store.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { breakdownFleet, LatestVariants, type BreakdownHost, type BreakdownVariantInput } from '../../hub/fleet-breakdown.js';
import { openSqliteStore } from '../../hub/store/sqlite.js';
import type { Store } from '../../hub/store/types.js';
import { asyncStore } from '../../hub/store/async-store.js';
import { helloFor, reportFor } from '../helpers/ws-client.js';

const flow = (accepted: number | null, sent: number | null, processors: [string, number, number][]): BreakdownVariantInput['telemetry'] => ({
  acceptedPoints: accepted,
  sentPoints: sent,
  processors: processors.map(([processor, incoming, outgoing]) => ({ processor, incoming, outgoing })),
});

function host(hostId: string, kind: 'vm' | 'k8s-node', labels: Record<string, string>, a: BreakdownVariantInput, b: BreakdownVariantInput): BreakdownHost {
  return { agentId: `agent-${hostId}`, hostId, kind, labels, variants: [a, b] };
}

const baseline = (cpu: number, mem: number, accepted: number): BreakdownVariantInput => ({
  name: 'baseline',
  seriesByMetric: { process_cpu_time_seconds_total: cpu, process_memory_usage_bytes: mem },
  telemetry: flow(accepted, accepted, [['batch', accepted, accepted]]),
});

/**
 * h1 (vm, env=prod): baseline cpu 100 mem 50; optimized-b cpu 10, a roll-up `_other` metric 1, filter 100→11.
 * h2 (vm): baseline cpu 200 mem 80; optimized-b cpu 20, no telemetry read.
 * h3 (k8s-node, env=prod): baseline cpu 300 mem 90; optimized-a cpu 5, filter 300→5, transform 5→5, no sentPoints.
 */
const HOSTS: BreakdownHost[] = [
  host('h1', 'vm', { env: 'prod' }, baseline(100, 50, 150), {
    name: 'optimized-b',
    // A metric named __proto__ is a metric like any other (an own property, not a prototype).
    seriesByMetric: JSON.parse('{"process_cpu_time_seconds_total": 10, "__proto__": 1}') as Record<string, number>,
    telemetry: flow(150, 11, [['filter/top', 100, 11], ['batch', 11, 11]]),
  }),
  host('h2', 'vm', {}, baseline(200, 80, 280), { name: 'optimized-b', seriesByMetric: { process_cpu_time_seconds_total: 20 }, telemetry: null }),
  host('h3', 'k8s-node', { env: 'prod' }, baseline(300, 90, 390), {
    name: 'optimized-a',
    seriesByMetric: { process_cpu_time_seconds_total: 5 },
    telemetry: flow(390, null, [['filter/critical', 300, 5], ['transform', 5, 5]]),
  }),
];

t.test('the whole fleet: each side and variant summed, with the hosts each sum covers', async (t) => {
  const [all, ...rest] = breakdownFleet(HOSTS, { kind: 'none' });
  t.same(rest, [], 'one group');
  t.equal(all!.key, 'all');
  t.equal(all!.hosts, 3);
  t.same(all!.variants.map((v) => [v.side, v.variant, v.hosts]), [[0, 'baseline', 3], [1, 'optimized-a', 1], [1, 'optimized-b', 2]], 'side A first, then by name');
  const [base, a, b] = all!.variants;
  t.same(base, {
    side: 0, variant: 'baseline', hosts: 3,
    seriesByMetric: { process_cpu_time_seconds_total: 600, process_memory_usage_bytes: 220 },
    totalSeries: 820,
    telemetryHosts: 3,
    acceptedPoints: { points: 820, hosts: 3 },
    sentPoints: { points: 820, hosts: 3 },
    processors: [{ processor: 'batch', incoming: 820, outgoing: 820, hosts: 3 }],
  });
  t.same(a, {
    side: 1, variant: 'optimized-a', hosts: 1, seriesByMetric: { process_cpu_time_seconds_total: 5 }, totalSeries: 5, telemetryHosts: 1,
    acceptedPoints: { points: 390, hosts: 1 }, sentPoints: null,
    processors: [{ processor: 'filter/critical', incoming: 300, outgoing: 5, hosts: 1 }, { processor: 'transform', incoming: 5, outgoing: 5, hosts: 1 }],
  }, 'a sum no host knew is null');
  t.same(b!.seriesByMetric, JSON.parse('{"__proto__": 1, "process_cpu_time_seconds_total": 30}'), 'metrics by name, __proto__ among them');
  t.ok(Object.hasOwn(b!.seriesByMetric, '__proto__'), '__proto__ is an own property');
  t.equal(Object.getPrototypeOf(b!.seriesByMetric), Object.prototype, 'and not the prototype');
  t.same([b!.totalSeries, b!.telemetryHosts, b!.acceptedPoints, b!.sentPoints], [31, 1, { points: 150, hosts: 1 }, { points: 11, hosts: 1 }], "h2's telemetry unknown: h1's alone");
  t.same(b!.processors, [{ processor: 'filter/top', incoming: 100, outgoing: 11, hosts: 1 }, { processor: 'batch', incoming: 11, outgoing: 11, hosts: 1 }], 'in pipeline order');
  t.same(JSON.parse(JSON.stringify(all)), all, 'survives JSON as it is');
});

t.test('grouped by kind and by a label', async (t) => {
  const table = (groups: ReturnType<typeof breakdownFleet>) =>
    groups.map((g) => [g.key, g.hosts, g.variants.map((v) => [v.variant, v.hosts, v.seriesByMetric.process_cpu_time_seconds_total])]);
  t.same(table(breakdownFleet(HOSTS, { kind: 'kind' })), [
    ['k8s-node', 1, [['baseline', 1, 300], ['optimized-a', 1, 5]]],
    ['vm', 2, [['baseline', 2, 300], ['optimized-b', 2, 30]]],
  ]);
  t.same(table(breakdownFleet(HOSTS, { kind: 'label', name: 'env' })), [
    ['env=(none)', 1, [['baseline', 1, 200], ['optimized-b', 1, 20]]],
    ['env=prod', 2, [['baseline', 2, 400], ['optimized-a', 1, 5], ['optimized-b', 1, 10]]],
  ]);
  t.same(table(breakdownFleet(HOSTS, { kind: 'label', name: 'constructor' })).map((g) => g[0]), ['constructor=(none)'], 'a label named like a prototype member is absent unless sent');
  t.same(breakdownFleet([], { kind: 'none' }), [], 'no hosts, no groups');
});

t.test('a name on both sides is two entries, one per side', async (t) => {
  const swapped = host('h4', 'vm', {}, { name: 'optimized-b', seriesByMetric: { m: 1 }, telemetry: null }, { name: 'baseline', seriesByMetric: { m: 2 }, telemetry: null });
  const [all] = breakdownFleet([...HOSTS, swapped], { kind: 'none' });
  t.same(all!.variants.map((v) => [v.side, v.variant, v.hosts]), [[0, 'baseline', 3], [0, 'optimized-b', 1], [1, 'baseline', 1], [1, 'optimized-a', 1], [1, 'optimized-b', 2]]);
});

t.test('the latest reports: read at once the first time, then only for agents whose sequence moved', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-breakdown-'));
  const store = openSqliteStore({ file: path.join(dir, 'hub.db') });
  t.teardown(async () => {
    store.close();
    await rm(dir, { recursive: true, force: true });
  });
  const reads = { latest: 0, latestAll: 0 };
  const inner = asyncStore(store);
  const counted: Store = {
    ...inner,
    latest: (agentId: string) => (reads.latest++, inner.latest(agentId)),
    latestAll: () => (reads.latestAll++, inner.latestAll()),
  };
  const send = (hostId: string, seq: number, cpu: number) => {
    const message = reportFor(hostId, seq);
    message.report.variants[0].seriesByMetric = { process_cpu_time_seconds_total: cpu };
    t.same(store.storeReports([{ agentId: `agent-${hostId}`, message, receivedAt: Date.now() }]), ['stored']);
  };
  for (const id of ['x1', 'x2', 'x3']) store.upsertAgent(helloFor(`agent-${id}`, id), Date.now());
  send('x1', 1, 10);
  send('x2', 1, 20);
  const latest = new LatestVariants(counted);
  const cpu = async () => (await latest.hosts()).map((h) => [h.hostId, h.variants[0]!.seriesByMetric.process_cpu_time_seconds_total]);
  t.same(await cpu(), [['x1', 10], ['x2', 20]], 'x3 has no report yet: left out');
  t.same(reads, { latest: 0, latestAll: 1 }, 'all at once (x3 with none)');
  t.same(await cpu(), [['x1', 10], ['x2', 20]]);
  t.same(reads, { latest: 0, latestAll: 1 }, 'nothing moved: nothing read');
  send('x2', 2, 25);
  send('x3', 1, 30);
  t.same(await cpu(), [['x1', 10], ['x2', 25], ['x3', 30]], 'the new reports');
  t.same(reads, { latest: 2, latestAll: 1 }, 'read: x2 and x3, each on its own');
  // Many agents moved on at once (more than 64): one read of every latest report, not one each.
  for (let i = 1; i <= 70; i++) store.upsertAgent(helloFor(`agent-m${i}`, `m${i}`), Date.now());
  for (let i = 1; i <= 70; i++) send(`m${i}`, 1, i);
  t.equal((await cpu()).length, 73);
  t.same(reads, { latest: 2, latestAll: 2 }, '70 agents moved: one read of them all');
});
