// The fleet comparison (compareFleet, verdict wording, nearest-rank percentiles) and the hub's JSON API,
// served by a real hub fed over WebSocket by bare agents whose figures the expectations are worked out from.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '../../../common/logger.js';
import { TokenSet } from '../../../hub/auth.js';
import { compareFleet, percentile, type ComparisonGroup, type GroupBy } from '../../../hub/compare.js';
import { hubRoutes } from '../../../hub/http/routes.js';
import { CONTENT_SECURITY_POLICY } from '../../../hub/http/static.js';
import { startHub, type Hub } from '../../../hub/server.js';
import { NO_LOSS } from '../../../hub/store/loss-sums.js';
import type { FleetHistoryPoint, HistoryPoint, VariantPoint } from '../../../hub/store/types.js';
import type { AgentReport } from '../../../protocol/report.js';
import { sampleReport } from '../../fixtures/report.js';
import { helloFor, openSocket, reportFor, type TestSocket } from '../../helpers/ws-client.js';
import { apiToken, bearer } from '../../helpers/hub-api.js';

// ---------------------------------------------------------------- compareFleet, on hand-built points

type SideFigures = Partial<VariantPoint> & { series: number | null };

/** One host's A and B points. Unless overridden: a VM, full retention, cpu = series/10, rss = series·1000, cost = series/100. */
function pair(hostId: string, a: SideFigures, b: SideFigures, host: Partial<VariantPoint> = {}): VariantPoint[] {
  const point = (side: 0 | 1, figures: SideFigures): VariantPoint => {
    const s = figures.series;
    return {
      agentId: `agent-${hostId}`, hostId, hostKind: 'vm', labels: {}, side, variant: side === 0 ? 'baseline' : 'optimized-a', pairedWith: 'baseline',
      reports: 2, retentionMin: 1, lossyReports: 0, missing: [], lastAt: 1_000, loss: NO_LOSS,
      cpuPercent: s === null ? null : s / 10, rssBytes: s === null ? null : s * 1000, monthlyCostUsd: s === null ? null : s / 100,
      ...host, ...figures,
    };
  };
  return [point(0, a), point(1, b)];
}

const LOST = { retentionMin: 0.5, lossyReports: 2 };
/**
 * Series A → B per host: h1 100→10 (0.9), h2 200→30 (0.85), h3 300→60 (0.8), h4 400→40 (0.9), h5 1000→40 (0.96).
 * ΣA 2000, ΣB 180: reduction 0.91. h1's B saw no critical process, h3's lost postgres, h4's cost is unknown.
 */
const FLEET: VariantPoint[] = [
  pair('h1', { series: 100 }, { series: 10, retentionMin: null }, { hostKind: 'k8s-node', labels: { env: 'prod' } }),
  pair('h2', { series: 200 }, { series: 30 }, { hostKind: 'k8s-node', labels: { env: 'prod' } }),
  pair('h3', { series: 300 }, { series: 60, ...LOST, missing: ['postgres'] }, { labels: { env: 'staging' } }),
  pair('h4', { series: 400 }, { series: 40, monthlyCostUsd: null }),
  pair('h5', { series: 1000 }, { series: 40 }),
].flat();

const onlyPair = (groups: ComparisonGroup[], key = 'all') => {
  const group = groups.find((g) => g.key === key);
  if (group?.pairs.length !== 1) throw new Error(`group ${key}: expected one pair, got ${JSON.stringify(groups)}`);
  return group.pairs[0]!;
};
const compareAll = (points: VariantPoint[]) => onlyPair(compareFleet(points, { kind: 'none' }));
/** Each group as [key, hosts, reduction total, hosts with losses]. */
const groupTable = (groups: ComparisonGroup[]) =>
  groups.map((g) => {
    const p = onlyPair([g], g.key);
    return [g.key, p.hosts, p.reduction.total, p.candidateLosses.map((l) => l.hostId)];
  });

t.test('percentile is nearest-rank over an ascending array', async (t) => {
  const ten = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
  t.equal(percentile([], 50), null);
  t.equal(percentile([7], 5), 7);
  t.same([0, 5, 50, 95, 100].map((p) => percentile(ten, p)), [1, 1, 5, 10, 10], 'p50 of 1..10 is 5 (rank 5), not 5.5');
  t.same([25, 95].map((p) => percentile([10, 20, 30, 40], p)), [10, 40]);
});

/** The loss summary of hosts whose agents sent no loss figures (before issue 15): every figure unknown. */
const UNREPORTED_LOSS = { hosts: 0, topCpu: null, topRss: null, cpuConservation: null, rssConservation: null, counterResets: null, flappingPerHour: null, switchesPerHour: null };

t.test('compareFleet: fleet totals, percentiles, reduction, retention, cost, verdict', async (t) => {
  const p = compareAll(FLEET);
  t.has(p, { baseline: 'baseline', candidate: 'optimized-a', hosts: 5 });
  // A series sorted 100 200 300 400 1000: median rank ⌈2.5⌉=3 → 300, p95 rank 5 → 1000; cpu 10..100 mean 40.
  t.same(p.a, {
    variant: 'baseline', hosts: 5, totalSeries: 2000, medianSeries: 300, p95Series: 1000, cpuPercentMean: 40, cpuPercentP95: 100,
    rssBytesMean: 400_000, rssBytesP95: 1_000_000, monthlyCostUsd: 20, fullRetentionHosts: 5, retentionKnownHosts: 5, loss: UNREPORTED_LOSS,
  });
  // B series sorted 10 30 40 40 60; cpu 1 3 4 4 6 (mean 3.6); cost 0.1+0.3+0.6+0.4 (h4 unknown) = 1.4.
  t.same(p.b, {
    variant: 'optimized-a', hosts: 5, totalSeries: 180, medianSeries: 40, p95Series: 60, cpuPercentMean: 3.6, cpuPercentP95: 6,
    rssBytesMean: 36_000, rssBytesP95: 60_000, monthlyCostUsd: 1.4, fullRetentionHosts: 3, retentionKnownHosts: 4, loss: UNREPORTED_LOSS,
  });
  t.equal(p.blindSpots, null, 'no host reported its truth');
  // Per host sorted 0.8 0.85 0.9 0.9 0.96: p5 rank 1, median rank 3, p95 rank 5.
  t.same(p.reduction, { hosts: 5, total: 0.91, p5: 0.8, median: 0.9, p95: 0.96 });
  t.same(p.candidateLosses, [{ hostId: 'h3', missing: ['postgres'] }]);
  t.equal(p.monthlySavingsUsd, 14.6, 'A 1+2+3+10 − B 0.1+0.3+0.6+0.4: h4 (no B estimate) left out');
  t.equal(p.verdict, 'optimized-a cuts series 91% (p5–p95 over 5 hosts: 80%–96%) with full critical retention on 3 of 4 hosts; 1 host lost postgres');
});

t.test('compareFleet: one-sided hosts are left out; unknown series or cost only leave the reduction or savings', async (t) => {
  const onlyA = pair('h6', { series: 5000 }, { series: 5 })[0]!;
  const onlyB = pair('h8', { series: 5000 }, { series: 5 })[1]!;
  const p = compareAll([...FLEET, onlyA, onlyB, ...pair('h7', { series: 500 }, { series: null })]);
  t.equal(p.hosts, 6, 'h7 counts, h6 and h8 do not');
  t.has(p.a, { hosts: 6, totalSeries: 2500, medianSeries: 300 }, 'A sorted 100 200 300 400 500 1000: rank 3');
  t.has(p.b, { hosts: 6, totalSeries: 180, medianSeries: 40 });
  t.same(p.reduction, { hosts: 5, total: 0.91, p5: 0.8, median: 0.9, p95: 0.96 }, 'h7 (B unknown) is not in the reduction');
  t.equal(p.monthlySavingsUsd, 14.6, 'h7 has no B cost either');
  t.match(p.verdict, /cuts series 91% \(p5–p95 over 5 hosts: 80%–96%\)/);
});

t.test('compareFleet: the p5–p95 spread in the verdict names only the hosts it is computed over', async (t) => {
  // 'zero': A 0 → B 10 has no per-host 1 − B/A, so the spread is h1's alone (A 100 → B 10: 0.9).
  const p = compareAll([...pair('zero', { series: 0 }, { series: 10 }), ...pair('h1', { series: 100 }, { series: 10 })]);
  t.same([p.reduction.hosts, p.reduction.p5, p.reduction.median, p.reduction.p95], [1, 0.9, 0.9, 0.9]);
  t.match(p.verdict, /\(p5–p95 over 1 host: 90%–90%\)/);
});

t.test('compareFleet: grouping by kind and by a label', async (t) => {
  const table = (groupBy: GroupBy) => groupTable(compareFleet(FLEET, groupBy));
  // k8s-node: h1 h2, 1 − 40/300; vm: h3 h4 h5, 1 − 140/1700.
  t.same(table({ kind: 'kind' }), [['k8s-node', 2, 0.8667, []], ['vm', 3, 0.9176, ['h3']]]);
  // (none): h4 h5, 1 − 80/1400; prod: h1 h2; staging: h3, 1 − 60/300.
  t.same(table({ kind: 'label', name: 'env' }), [['env=(none)', 2, 0.9429, []], ['env=prod', 2, 0.8667, []], ['env=staging', 1, 0.8, ['h3']]]);
  t.same(table({ kind: 'label', name: 'team' }), [['team=(none)', 5, 0.91, ['h3']]]);
  // Names of Object.prototype members are labels like any other: absent unless sent.
  t.same(table({ kind: 'label', name: 'constructor' }), [['constructor=(none)', 5, 0.91, ['h3']]]);
  t.same(table({ kind: 'label', name: '__proto__' }), [['__proto__=(none)', 5, 0.91, ['h3']]]);
});

t.test('compareFleet: each variant pair is compared on its own', async (t) => {
  const other = pair('h9', { series: 100 }, { series: 50, variant: 'optimized-b' });
  const [group] = compareFleet([...FLEET, ...other], { kind: 'none' });
  t.same(group!.pairs.map((p) => [p.candidate, p.hosts, p.reduction.total]), [['optimized-a', 5, 0.91], ['optimized-b', 1, 0.5]]);
});

t.test('compareFleet: losses sorted by host; the verdict names the three most lost processes', async (t) => {
  const p = compareAll([
    pair('z9', { series: 100 }, { series: 20, ...LOST, missing: ['postgres', 'sshd'] }),
    pair('a1', { series: 100 }, { series: 20 }),
    pair('m5', { series: 100 }, { series: 20, ...LOST, missing: ['containerd', 'kubelet', 'nginx'] }),
    pair('b2', { series: 100 }, { series: 20, ...LOST, missing: ['postgres'] }),
  ].flat());
  t.same(p.candidateLosses.map((l) => l.hostId), ['b2', 'm5', 'z9']);
  t.same(p.candidateLosses[2]!.missing, ['postgres', 'sshd']);
  t.equal(
    p.verdict,
    'optimized-a cuts series 80% (p5–p95 over 4 hosts: 80%–80%) with full critical retention on 1 of 4 hosts; ' +
      '2 hosts lost postgres, 1 host lost containerd, 1 host lost kubelet and 2 more processes',
  );
});

t.test('compareFleet: the verdict when B grows, when no critical process ran, when series are unknown', async (t) => {
  const grows = compareAll(pair('x', { series: 100 }, { series: 150 }));
  t.equal(grows.reduction.total, -0.5);
  t.equal(grows.verdict, 'optimized-a adds 50% more series (p5–p95 over 1 host: -50%–-50%) with full critical retention on 1 of 1 host');
  const noCritical = compareAll(pair('y', { series: 100, retentionMin: null }, { series: 25, retentionMin: null }));
  t.has(noCritical.b, { fullRetentionHosts: 0, retentionKnownHosts: 0 });
  t.equal(noCritical.verdict, 'optimized-a cuts series 75% (p5–p95 over 1 host: 75%–75%); no critical process ran on any host, so retention is unknown');
  const unknown = compareAll([...pair('u1', { series: 100 }, { series: null }), ...pair('u2', { series: null }, { series: 5 })]);
  t.same(unknown.reduction, { hosts: 0, total: null, p5: null, median: null, p95: null });
  t.equal(unknown.monthlySavingsUsd, 0);
  t.equal(unknown.verdict, 'optimized-a changes series by an unknown amount with full critical retention on 2 of 2 hosts');
});

// ---------------------------------------------------------------- the HTTP API on a real hub

const TOKEN = 'api-test-token-0123456789';
const STEP = 10 * 60_000;

interface AgentSpec {
  hostId: string;
  kind: 'vm' | 'k8s-node';
  labels: Record<string, string>;
  /** Series per report, A and B; reports are STEP apart, the last one STEP ago. */
  a: number[];
  b: number[];
  losesPostgres?: boolean;
}

const AGENTS: AgentSpec[] = [
  { hostId: 'vm-1', kind: 'vm', labels: { env: 'prod' }, a: [1000, 1200], b: [100, 120] },
  { hostId: 'vm-2', kind: 'vm', labels: { env: 'staging' }, a: [2000, 2000], b: [50, 150], losesPostgres: true },
  { hostId: 'node-1', kind: 'k8s-node', labels: { env: 'prod' }, a: [3000, 3000], b: [240, 240] },
  { hostId: 'node-2', kind: 'k8s-node', labels: {}, a: [4000], b: [600] },
];
const agentIdOf = (spec: AgentSpec) => `agent-${spec.hostId}`;

/** The fixture report with this agent's kind, labels and series; cost = series/100; the candidate may miss postgres. */
function reportOf(spec: AgentSpec, i: number): AgentReport {
  const base = sampleReport(spec.hostId);
  const [a, b] = base.variants;
  const [seriesA, seriesB] = [spec.a[i]!, spec.b[i]!];
  const missing = spec.losesPostgres ? ['postgres'] : [];
  return {
    ...base,
    host: { ...base.host, kind: spec.kind, labels: spec.labels },
    variants: [
      { ...a, series: seriesA, estimatedMonthlyCostUsd: seriesA / 100, criticalRetention: 1, criticalMissing: [] },
      { ...b, series: seriesB, estimatedMonthlyCostUsd: seriesB / 100, criticalRetention: missing.length ? 0.5 : 1, criticalMissing: missing },
    ],
    comparison: { ...base.comparison, cardinalityReduction: Math.round((1 - seriesB / seriesA) * 1e4) / 1e4 },
  };
}

/** Says hello as the agent, sends its reports (the last at `lastAt`) and waits for the last ack. */
async function feed(t: Test, hub: Hub, spec: AgentSpec, lastAt: number): Promise<TestSocket> {
  const s = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => s.ws.close());
  s.ws.send(JSON.stringify({ ...helloFor(agentIdOf(spec), spec.hostId, spec.labels), hostKind: spec.kind }));
  const n = spec.a.length;
  for (let i = 0; i < n; i++) s.ws.send(JSON.stringify({ ...reportFor(spec.hostId, i + 1, lastAt - (n - 1 - i) * STEP), report: reportOf(spec, i) }));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === n);
  return s;
}

const EXPECTED_SECURITY = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin' };

function checkSecurityHeaders(t: Test, res: Response, what: string): void {
  for (const [name, value] of Object.entries(EXPECTED_SECURITY)) t.equal(res.headers.get(name), value, `${what}: ${name}`);
}

/** GETs a path, checks the status and the JSON and security headers, returns the body. */
async function call<T>(t: Test, hub: Hub, target: string, status = 200): Promise<T> {
  const res = await fetch(`${hub.url}${target}`, { headers: bearer(await apiToken(hub)) });
  t.equal(res.status, status, `GET ${target.slice(0, 80)}: ${status}`);
  t.equal(res.headers.get('content-type'), 'application/json; charset=utf-8', 'JSON');
  checkSecurityHeaders(t, res, target.slice(0, 80));
  return (await res.json()) as T;
}

interface Comparison { window: string; groupBy: string; from: string; to: string; groups: ComparisonGroup[] }
interface FleetHost { hostId: string; kind: string; labels: Record<string, string>; connected: boolean; experiments: { manageable: boolean; reason: string | null } | null; lastSeq: number; processCount: number; cardinalityReduction: number; variants: { name: string; series: number; criticalMissing: string[] }[] }
interface Fleet { totals: Record<string, number>; hosts: FleetHost[] }
interface HostBody { hostId: string; agents: { agentId: string; hostKind: string; labels: Record<string, string>; connected: boolean; lastSeq: number }[]; latest: { seq: number; report: AgentReport }; history: HistoryPoint[] }
interface ErrorBody { error: string; message: string }

t.test('the JSON API over four agents', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-api-'));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), routes: hubRoutes, maintenanceMs: 3_600_000 });
  t.teardown(async () => {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const lastAt = Date.now() - STEP;
  const sockets = new Map<string, TestSocket>();
  for (const spec of AGENTS) sockets.set(spec.hostId, await feed(t, hub, spec, lastAt));

  await t.test('/api/v1/fleet: totals and every host with its latest report', async (t) => {
    const fleet = await call<Fleet>(t, hub, '/api/v1/fleet');
    t.same(fleet.totals, { hosts: 4, connected: 4, vm: 2, k8sNode: 2, withLosses: 1 });
    t.same(
      fleet.hosts.map((h) => [h.hostId, h.kind, h.labels, h.connected, h.lastSeq, h.processCount, h.variants.map((v) => [v.name, v.series, v.criticalMissing]), h.cardinalityReduction]),
      [
        ['node-1', 'k8s-node', { env: 'prod' }, true, 2, 300, [['baseline', 3000, []], ['optimized-a', 240, []]], 0.92],
        ['node-2', 'k8s-node', {}, true, 1, 300, [['baseline', 4000, []], ['optimized-a', 600, []]], 0.85],
        ['vm-1', 'vm', { env: 'prod' }, true, 2, 300, [['baseline', 1200, []], ['optimized-a', 120, []]], 0.9],
        ['vm-2', 'vm', { env: 'staging' }, true, 2, 300, [['baseline', 2000, []], ['optimized-a', 150, ['postgres']]], 0.925],
      ],
    );
    t.ok(fleet.hosts.every((h) => h.experiments?.manageable === false && h.experiments.reason === 'a version-1 agent: it takes no experiments'), 'version-1 agents: not manageable');
  });

  await t.test('/api/v1/comparison: the numbers that were sent', async (t) => {
    const body = await call<Comparison>(t, hub, '/api/v1/comparison?window=1h');
    t.has(body, { window: '1h', groupBy: 'none' });
    t.equal(Date.parse(body.to) - Date.parse(body.from), 3_600_000);
    t.same(body.groups.map((g) => g.key), ['all']);
    const p = onlyPair(body.groups);
    t.has(p, { baseline: 'baseline', candidate: 'optimized-a', hosts: 4, monthlySavingsUsd: 90.5 });
    // Means per host, A: 1100 2000 3000 4000; B: 110 100 240 600. Costs are series/100.
    t.has(p.a, { hosts: 4, totalSeries: 10100, medianSeries: 2000, p95Series: 4000, cpuPercentMean: 4.5, rssBytesMean: 60 * 2 ** 20, monthlyCostUsd: 101, fullRetentionHosts: 4, retentionKnownHosts: 4 });
    t.has(p.b, { hosts: 4, totalSeries: 1050, medianSeries: 110, p95Series: 600, cpuPercentMean: 2.5, rssBytesMean: 50 * 2 ** 20, monthlyCostUsd: 10.5, fullRetentionHosts: 3, retentionKnownHosts: 4 });
    // 1 − 1050/10100 = 0.89604; per host 0.9 0.95 0.92 0.85.
    t.same(p.reduction, { hosts: 4, total: 0.896, p5: 0.85, median: 0.9, p95: 0.95 });
    t.same(p.candidateLosses, [{ hostId: 'vm-2', missing: ['postgres'] }]);
    t.equal(p.verdict, 'optimized-a cuts series 90% (p5–p95 over 4 hosts: 85%–95%) with full critical retention on 3 of 4 hosts; 1 host lost postgres');
  });

  await t.test('/api/v1/comparison: the window decides which reports count', async (t) => {
    // 15 minutes: only the last report of each agent, A 1200 2000 3000 4000, B 120 150 240 600: 1 − 1110/10200.
    const recent = onlyPair((await call<Comparison>(t, hub, '/api/v1/comparison?window=15m')).groups);
    t.has(recent.a, { totalSeries: 10200 });
    t.has(recent.b, { totalSeries: 1110 });
    t.equal(recent.reduction.total, 0.8912);
    t.same((await call<Comparison>(t, hub, '/api/v1/comparison?window=5m')).groups, [], 'nothing reported in the last 5 minutes');
  });

  await t.test('/api/v1/comparison: groupBy kind and label', async (t) => {
    const table = async (groupBy: string) => {
      const body = await call<Comparison>(t, hub, `/api/v1/comparison?window=1h&groupBy=${groupBy}`);
      t.equal(body.groupBy, groupBy);
      return groupTable(body.groups);
    };
    // k8s-node: 1 − 840/7000; vm: 1 − 210/3100.
    t.same(await table('kind'), [['k8s-node', 2, 0.88, []], ['vm', 2, 0.9323, ['vm-2']]]);
    // (none): node-2; prod: vm-1 node-1, 1 − 350/4100; staging: vm-2.
    t.same(await table('label:env'), [['env=(none)', 1, 0.85, []], ['env=prod', 2, 0.9146, []], ['env=staging', 1, 0.95, ['vm-2']]]);
  });

  await t.test('/api/v1/fleet/history: mean series per host, per minute and variant', async (t) => {
    const { points } = await call<{ points: FleetHistoryPoint[] }>(t, hub, '/api/v1/fleet/history?window=1h');
    const minute = (at: number) => Math.floor(at / 60_000) * 60_000;
    const rows = points.map((p) => [p.at, p.variant, p.hosts, p.series]).sort((x, y) => Number(x[0]) - Number(y[0]) || String(x[1]).localeCompare(String(y[1])));
    t.same(rows, [
      [minute(lastAt - STEP), 'baseline', 3, 2000],
      [minute(lastAt - STEP), 'optimized-a', 3, 130],
      [minute(lastAt), 'baseline', 4, 2550],
      [minute(lastAt), 'optimized-a', 4, 277.5],
    ]);
  });

  await t.test('/api/v1/hosts/:id: agents, latest report, history; unknown host 404', async (t) => {
    const body = await call<HostBody>(t, hub, '/api/v1/hosts/vm-2');
    t.equal(body.hostId, 'vm-2');
    t.same(body.agents.map((a) => [a.agentId, a.hostKind, a.labels, a.connected, a.lastSeq]), [['agent-vm-2', 'vm', { env: 'staging' }, true, 2]]);
    t.equal(body.latest.seq, 2);
    t.same(body.latest.report, reportOf(AGENTS[1]!, 1), 'the latest report, as sent');
    const bucket = (at: number) => Math.floor(at / 300_000) * 300_000; // 24 h of history: 5-minute steps
    const rows = body.history.map((h) => [h.at, h.side, h.variant, h.series, h.retention]).sort((x, y) => Number(x[0]) - Number(y[0]) || Number(x[1]) - Number(y[1]));
    t.same(rows, [
      [bucket(lastAt - STEP), 0, 'baseline', 2000, 1],
      [bucket(lastAt - STEP), 1, 'optimized-a', 50, 0.5],
      [bucket(lastAt), 0, 'baseline', 2000, 1],
      [bucket(lastAt), 1, 'optimized-a', 150, 0.5],
    ]);
    const recent = await call<HostBody>(t, hub, '/api/v1/hosts/vm-2?window=5m');
    t.same(recent.history, [], 'no history in the last 5 minutes');
    t.equal(recent.latest.seq, 2, 'the latest report all the same');
    t.same(await call<ErrorBody>(t, hub, '/api/v1/hosts/no-such-host', 404), { error: 'not_found', message: "no host 'no-such-host' has reported" });
  });

  await t.test('bad requests: 400 naming the parameter and the value; other methods 405', async (t) => {
    const cases: [target: string, ...mentions: string[]][] = [
      ['/api/v1/comparison?window=5x', 'window', "'5x'"],
      ['/api/v1/comparison?window=0s', 'window', "'0s'"],
      ['/api/v1/comparison?window=59s', 'window', "'59s'"],
      ['/api/v1/comparison?window=400d', 'window', "'400d'"],
      ['/api/v1/comparison?groupBy=label:', 'groupBy', "'label:'"],
      ['/api/v1/comparison?groupBy=foo', 'groupBy', "'foo'"],
      ['/api/v1/comparison?windw=1h', "unknown query parameter 'windw'", "'window', 'groupBy'"],
      ['/api/v1/fleet?window=1h', "unknown query parameter 'window'", 'takes none'],
      ['/api/v1/fleet/history?window=5x', 'window', "'5x'"],
      ['/api/v1/hosts/vm-1?window=400d', 'window', "'400d'"],
      [`/api/v1/hosts/${'h'.repeat(254)}`, 'host id', '1-253', 'got 254', `'${'h'.repeat(40)}…'`],
      ['/api/v1/comparison?window=1h&window=5x', "query parameter 'window' given more than once"],
      ['/api/v1/hosts/%E0%A4%A', 'host id', 'percent-encoding'],
    ];
    for (const [target, ...mentions] of cases) {
      const body = await call<ErrorBody>(t, hub, target, 400);
      t.equal(body.error, 'bad_request');
      for (const m of mentions) t.ok(body.message.includes(m), `${target.slice(0, 60)}: "${body.message}" mentions ${m}`);
    }
    for (const ok of ['1m', '35d']) t.equal((await call<Comparison>(t, hub, `/api/v1/comparison?window=${ok}`)).window, ok, `window=${ok} is allowed`);
    const post = await fetch(`${hub.url}/api/v1/comparison`, { method: 'POST', headers: bearer(await apiToken(hub)) });
    t.same([post.status, post.headers.get('allow'), ((await post.json()) as ErrorBody).error], [405, 'GET, HEAD', 'method_not_allowed']);
    t.same(await call<ErrorBody>(t, hub, '/api/v1/nope', 404), { error: 'not_found', message: 'no such path: /api/v1/nope' });
  });

  await t.test('the page carries a content security policy and the security headers', async (t) => {
    const res = await fetch(`${hub.url}/`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = res.headers.get('content-security-policy') ?? '';
    t.equal(csp, CONTENT_SECURITY_POLICY);
    for (const directive of ["default-src 'none'", "script-src 'self'", "frame-ancestors 'none'"]) t.ok(csp.includes(directive), directive);
    checkSecurityHeaders(t, res, '/');
    t.match(await res.text(), /<html/i);
  });

  await t.test('a disconnected agent stays in the fleet, not connected', async (t) => {
    const s = sockets.get('vm-1')!;
    s.ws.close();
    await s.closed;
    for (let i = 0; i < 100 && hub.connections.has('agent-vm-1'); i++) await delay(20);
    const fleet = await call<Fleet>(t, hub, '/api/v1/fleet');
    t.has(fleet.totals, { hosts: 4, connected: 3 });
    t.same(fleet.hosts.filter((h) => !h.connected).map((h) => h.hostId), ['vm-1']);
    t.equal((await call<HostBody>(t, hub, '/api/v1/hosts/vm-1')).agents[0]!.connected, false);
  });

  await t.test('/api/v1/fleet follows each new report (it is kept in memory, not read back)', async (t) => {
    const spec = AGENTS.find((a) => a.hostId === 'node-2')!;
    const next = reportOf(spec, 0);
    next.variants[1] = { ...next.variants[1], series: 123, criticalRetention: 0.5, criticalMissing: ['kubelet'] };
    sockets.get('node-2')!.ws.send(JSON.stringify({ ...reportFor('node-2', 2, Date.now()), report: next }));
    await sockets.get('node-2')!.waitForMessage((m) => m.type === 'ack' && m.seq === 2);
    const fleet = await call<Fleet>(t, hub, '/api/v1/fleet');
    const node2 = fleet.hosts.find((h) => h.hostId === 'node-2')!;
    t.same([node2.lastSeq, node2.variants[1]!.series, node2.variants[1]!.criticalMissing], [2, 123, ['kubelet']]);
    t.equal(fleet.totals.withLosses, 2, 'its loss counted');
  });
});

// ---------------------------------------------------------------- GET /api/v1/fleet/breakdown

interface Breakdown {
  groupBy: string;
  groups: {
    key: string;
    hosts: number;
    variants: {
      side: number; variant: string; hosts: number; seriesByMetric: Record<string, number>; totalSeries: number; telemetryHosts: number;
      acceptedPoints: { points: number; hosts: number } | null; sentPoints: { points: number; hosts: number } | null;
      processors: { processor: string; incoming: number; outgoing: number; hosts: number }[];
    }[];
  }[];
}

/** The fixture report with these series per metric and pipeline counters on each side (null: telemetry not read). */
function breakdownReport(hostId: string, a: Record<string, number>, b: Record<string, number>, flowB: [accepted: number, filtered: number, sent: number] | null): AgentReport {
  const base = sampleReport(hostId);
  const total = (m: Record<string, number>) => Object.values(m).reduce((x, y) => x + y, 0);
  const [va, vb] = base.variants;
  return {
    ...base,
    variants: [
      { ...va, series: total(a), seriesByMetric: a, telemetry: { acceptedPoints: total(a), sentPoints: total(a), processors: [{ processor: 'batch', incoming: total(a), outgoing: total(a) }] } },
      {
        ...vb,
        series: total(b),
        seriesByMetric: b,
        telemetry: flowB && { acceptedPoints: flowB[0], sentPoints: flowB[2], processors: [{ processor: 'filter/top', incoming: flowB[0], outgoing: flowB[1] }, { processor: 'batch', incoming: flowB[1], outgoing: flowB[2] }] },
      },
    ],
  };
}

t.test('/api/v1/fleet/breakdown: every host\'s latest report summed per metric and per stage', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-breakdown-api-'));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), routes: hubRoutes, maintenanceMs: 3_600_000 });
  t.teardown(async () => {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const send = async (hostId: string, kind: 'vm' | 'k8s-node', labels: Record<string, string>, reports: AgentReport[]) => {
    const s = await openSocket(hub.agentUrl, TOKEN);
    t.teardown(() => s.ws.close());
    s.ws.send(JSON.stringify({ ...helloFor(`agent-${hostId}`, hostId, labels), hostKind: kind }));
    reports.forEach((report, i) => s.ws.send(JSON.stringify({ ...reportFor(hostId, i + 1), report: { ...report, host: { ...report.host, kind, labels } } })));
    await s.waitForMessage((m) => m.type === 'ack' && m.seq === reports.length);
    return s;
  };
  const cpu = 'process_cpu_time_seconds_total';
  const mem = 'process_memory_usage_bytes';
  // vm-a's first report is superseded by its second: only the latest counts.
  const vmA = await send('vm-a', 'vm', { env: 'prod' }, [
    breakdownReport('vm-a', { [cpu]: 1, [mem]: 1 }, { [cpu]: 1 }, [1, 1, 1]),
    breakdownReport('vm-a', { [cpu]: 1000, [mem]: 900 }, { [cpu]: 40, [mem]: 30 }, [1900, 70, 70]),
  ]);
  await send('node-b', 'k8s-node', {}, [breakdownReport('node-b', { [cpu]: 2000, [mem]: 1500 }, { [cpu]: 60 }, [3500, 60, 60])]);
  await send('vm-c', 'vm', { env: 'staging' }, [breakdownReport('vm-c', { [cpu]: 500, [mem]: 400 }, { [cpu]: 25, [mem]: 5 }, null)]);

  const get = (query = '') => call<Breakdown>(t, hub, `/api/v1/fleet/breakdown${query}`);
  const all = await get();
  t.equal(all.groupBy, 'none');
  t.same(all.groups.map((g) => [g.key, g.hosts]), [['all', 3]]);
  const [a, b] = all.groups[0]!.variants;
  t.same(a, {
    side: 0, variant: 'baseline', hosts: 3,
    seriesByMetric: { [cpu]: 3500, [mem]: 2800 }, totalSeries: 6300, telemetryHosts: 3,
    acceptedPoints: { points: 6300, hosts: 3 }, sentPoints: { points: 6300, hosts: 3 },
    processors: [{ processor: 'batch', incoming: 6300, outgoing: 6300, hosts: 3 }],
  }, 'baseline: 1900 + 3500 + 900 series');
  t.same(b, {
    side: 1, variant: 'optimized-a', hosts: 3,
    seriesByMetric: { [cpu]: 125, [mem]: 35 }, totalSeries: 160, telemetryHosts: 2,
    acceptedPoints: { points: 5400, hosts: 2 }, sentPoints: { points: 130, hosts: 2 },
    processors: [{ processor: 'filter/top', incoming: 5400, outgoing: 130, hosts: 2 }, { processor: 'batch', incoming: 130, outgoing: 130, hosts: 2 }],
  }, "candidate: vm-c's telemetry unknown, the stages sum the other two");

  const table = (body: Breakdown) => body.groups.map((g) => [g.key, g.hosts, g.variants.map((v) => [v.variant, v.hosts, v.totalSeries])]);
  t.same(table(await get('?groupBy=kind')), [['k8s-node', 1, [['baseline', 1, 3500], ['optimized-a', 1, 60]]], ['vm', 2, [['baseline', 2, 2800], ['optimized-a', 2, 100]]]]);
  const byEnv = await get('?groupBy=label:env');
  t.equal(byEnv.groupBy, 'label:env');
  t.same(table(byEnv), [['env=(none)', 1, [['baseline', 1, 3500], ['optimized-a', 1, 60]]], ['env=prod', 1, [['baseline', 1, 1900], ['optimized-a', 1, 70]]], ['env=staging', 1, [['baseline', 1, 900], ['optimized-a', 1, 30]]]]);

  // A new report moves the sums (the latest reports are kept between requests, read again when a sequence moves).
  vmA.ws.send(JSON.stringify({ ...reportFor('vm-a', 3), report: { ...breakdownReport('vm-a', { [cpu]: 1100, [mem]: 900 }, { [cpu]: 50, [mem]: 30 }, [2000, 80, 80]), host: { ...sampleReport('vm-a').host, labels: { env: 'prod' } } } }));
  await vmA.waitForMessage((m) => m.type === 'ack' && m.seq === 3);
  const after = (await get()).groups[0]!.variants;
  t.same(after.map((v) => [v.seriesByMetric[cpu], v.totalSeries, v.acceptedPoints?.points]), [[3600, 6400, 6400], [135, 170, 5500]], "vm-a's third report counted, its second no more");

  await t.test('bad queries: 400 naming the parameter and the value', async (t) => {
    const cases: [target: string, ...mentions: string[]][] = [
      ['/api/v1/fleet/breakdown?groupBy=foo', 'groupBy', "'foo'"],
      ['/api/v1/fleet/breakdown?groupBy=label:', 'groupBy', "'label:'"],
      ['/api/v1/fleet/breakdown?groupBy=label:9bad', 'groupBy', "'label:9bad'"],
      ['/api/v1/fleet/breakdown?window=1h', "unknown query parameter 'window'", "'groupBy'"],
      ['/api/v1/fleet/breakdown?groupBy=kind&groupBy=none', "query parameter 'groupBy' given more than once"],
    ];
    for (const [target, ...mentions] of cases) {
      const body = await call<ErrorBody>(t, hub, target, 400);
      t.equal(body.error, 'bad_request');
      for (const m of mentions) t.ok(body.message.includes(m), `${target.slice(0, 60)}: "${body.message}" mentions ${m}`);
    }
    const post = await fetch(`${hub.url}/api/v1/fleet/breakdown`, { method: 'POST', headers: bearer(await apiToken(hub)) });
    t.same([post.status, post.headers.get('allow')], [405, 'GET, HEAD']);
  });

  await t.test('who may read it: every role; no credential, a bad one or an agent token get 401', async (t) => {
    for (const role of ['viewer', 'experimenter', 'admin'] as const) {
      const res = await fetch(`${hub.url}/api/v1/fleet/breakdown`, { headers: bearer(await apiToken(hub, role)) });
      t.equal(res.status, 200, `${role}: 200`);
    }
    for (const [what, headers] of [['no credential', {}], ['a bad token', bearer('not-a-token-0123456789abcdef')], ['the agent token', bearer(TOKEN)]] as const) {
      const res = await fetch(`${hub.url}/api/v1/fleet/breakdown`, { headers });
      t.equal(res.status, 401, `${what}: 401`);
      t.equal(res.headers.get('www-authenticate'), 'Bearer realm="phoenix"');
      t.match(await res.json(), { error: 'unauthorized', message: String });
    }
  });
});
