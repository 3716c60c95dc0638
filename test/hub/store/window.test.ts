// Window planning over the tiers: which tier answers which part of a window, which rows a window is read between,
// and how the figures and critical states are assembled (against a TierReader that records what it was asked).
import t from 'tap';
import { keyOf, LivePositions, type Position } from '../../../hub/store/positions.js';
import { resolveTiers, type Marks } from '../../../hub/store/tiers.js';
import { addSample, ZERO_TOTALS, type Totals } from '../../../hub/store/totals.js';
import type { AgentRecord } from '../../../hub/store/types.js';
import { criticalSummary, historyStep, spans, windowReads, type TierReader } from '../../../hub/store/window.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const tiers = resolveTiers({ bucketMs: 5 * MIN, coarseBucketMs: HOUR });
const marks: Marks = { rawFloor: 20 * HOUR, fineFloor: 10 * HOUR, rolledFine: 22 * HOUR, rolledCoarse: 21 * HOUR, dirtyFine: Number.POSITIVE_INFINITY };

t.test('spans: coarse rollups before the fine ones begin, fine up to where they are complete, raw rows after', async (t) => {
  t.same(spans(marks, tiers, 5 * HOUR, 23 * HOUR), [
    { tier: HOUR, from: 5 * HOUR, to: 10 * HOUR },
    { tier: 5 * MIN, from: 10 * HOUR, to: 22 * HOUR },
    { tier: 'raw', from: 22 * HOUR, to: 23 * HOUR },
  ]);
  t.same(spans(marks, tiers, 22.5 * HOUR, 23 * HOUR), [{ tier: 'raw', from: 22.5 * HOUR, to: 23 * HOUR }], 'a recent window: raw rows only');
  t.same(spans(marks, tiers, 11 * HOUR, 12 * HOUR), [{ tier: 5 * MIN, from: 11 * HOUR, to: 12 * HOUR }]);
  t.same(spans(marks, tiers, 12 * HOUR, 12 * HOUR), [], 'an empty window asks nothing');
});

t.test('history steps: whole minutes, at most ~300 points', async (t) => {
  t.equal(historyStep(0, HOUR), MIN);
  t.equal(historyStep(0, 24 * HOUR), 5 * MIN);
  t.equal(historyStep(0, 7 * 24 * HOUR), 34 * MIN);
});

t.test('critical summary: the worst retention below 1 and every process missing, sorted', async (t) => {
  t.same(criticalSummary([]), { retentionMin: null, missing: [] });
  t.same(criticalSummary([{ retention: 1, missing: '[]' }]), { retentionMin: null, missing: [] }, 'full retention is no loss');
  t.same(criticalSummary([{ retention: 0.5, missing: '["sshd"]' }, { retention: null, missing: '[]' }, { retention: 0.25, missing: '["kubelet","sshd"]' }]), {
    retentionMin: 0.25,
    missing: ['kubelet', 'sshd'],
  });
});

const totalsOf = (reports: number, series: number, retention: number | null): Totals => {
  let totals: Totals = { ...ZERO_TOTALS };
  for (let i = 0; i < reports; i++) totals = addSample(totals, { series, retention, cpu: 1, rss: 100, cost: 2 });
  return totals;
};
const at = (ts: number, side: 0 | 1, totals: Totals): Position => ({ agentId: 'a1', side, ts, variant: side ? 'optimized-a' : 'baseline', pairedWith: 'baseline', totals });
const agent: AgentRecord = {
  agentId: 'a1',
  hostId: 'web-1',
  hostKind: 'vm',
  labels: { env: 'prod' },
  agentVersion: '0.1.0',
  variants: [],
  firstSeen: 0,
  lastSeen: 0,
  streamId: 's',
  lastSeq: 0,
};

/** A reader with one agent whose side 1 had 10 reports by 20.5 h (fine rollups) and 30 by 23 h (live). */
function fixture(withLive = true, reported?: number) {
  const asked: string[] = [];
  const reader: TierReader = {
    samplesAt: (floor, before) => (asked.push(`raw ${floor / HOUR}..${before / HOUR}`), []),
    rollupsAt: (res, before) => (asked.push(`rollups ${res / MIN} min before ${before / HOUR}`), res === tiers.fine ? [at(20.5 * HOUR, 1, totalsOf(10, 50, null))] : []),
    anchors: () => (asked.push('anchors'), [at(0, 0, ZERO_TOTALS)]),
    criticalIn: (agentId, side, from, to) => (asked.push(`critical ${agentId}/${side} ${from / HOUR}..${to / HOUR}`), [{ retention: 0.5, missing: '["postgres"]' }]),
    history: (tier, hostId, step, from, to) => [{ at: from, side: 0, variant: `${String(tier)}:${hostId}:${step}:${to - from}`, series: 1, cpuPercent: 1, rssBytes: 1, retention: null }],
    fleetHistory: (tier, step, from) => [{ at: from, variant: `${String(tier)}:${step}`, hosts: 1, series: 1, cpuPercent: 1, rssBytes: 1 }],
  };
  const live = new LivePositions();
  live.remember(at(23 * HOUR, 0, totalsOf(30, 2000, null)));
  // Side 1's 20 reports since the rollup all ran a critical process they did not show.
  live.remember(at(23 * HOUR, 1, { ...totalsOf(30, 50, null), retentionN: 20, lossy: 20 }));
  const source = { reader, tiers, marks: () => marks, live: withLive ? live : null, agents: () => new Map([['a1', agent]]) };
  return { asked, reads: windowReads(reported === undefined ? source : { ...source, reported: () => reported }), live };
}

t.test('a window ending after the newest report reads its end from the live positions, its start down the tiers', async (t) => {
  const { asked, reads, live } = fixture();
  t.equal(live.position(keyOf('a1', 1))!.totals.n, 30);
  const points = await reads.variantPoints(21 * HOUR, 24 * HOUR);
  // The start: raw rows (none that old), then fine rollups; side 0 is in none of them, so the anchors answer it.
  t.same(asked, ['raw 20..21', 'rollups 5 min before 21', 'rollups 60 min before 21', 'anchors', 'critical a1/1 21..24']);
  t.equal(points.length, 2);
  const [a, b] = points;
  t.match(a, { agentId: 'a1', hostId: 'web-1', labels: { env: 'prod' }, side: 0, reports: 30, series: 2000, retentionMin: null, missing: [] });
  t.match(b, { side: 1, reports: 20, series: 50, lossyReports: 20, retentionMin: 0.5, missing: ['postgres'], cpuPercent: 1, monthlyCostUsd: 2, lastAt: 23 * HOUR });
});

t.test('critical changes are read only for a side that had lossy reports in the window', async (t) => {
  const { asked, reads } = fixture();
  const [a] = await reads.variantPoints(0, 24 * HOUR);
  t.notOk(asked.some((q) => q.startsWith('critical a1/0')), 'side 0 lost nothing');
  t.equal(a!.retentionMin, null, 'and knew no retention');
});

t.test('history and fleet history ask each tier for its span, at one step', async (t) => {
  const { reads } = fixture();
  t.same(
    (await reads.history('web-1', 5 * HOUR, 23 * HOUR)).map((p) => p.variant),
    [`${HOUR}:web-1:${4 * MIN}:${5 * HOUR}`, `${5 * MIN}:web-1:${4 * MIN}:${12 * HOUR}`, `raw:web-1:${4 * MIN}:${HOUR}`],
  );
  t.same((await reads.fleetHistory(22.5 * HOUR, 23 * HOUR)).map((p) => p.variant), [`raw:${MIN}`]);
});

t.test('without live positions (other processes write too): each end read from every tier at once, the finest first', async (t) => {
  const { asked, reads } = fixture(false);
  const points = await reads.variantPoints(21 * HOUR, 22 * HOUR);
  t.same(
    asked.filter((q) => !q.startsWith('critical')).sort(),
    ['anchors', 'anchors', 'raw 20..21', 'raw 20..22', 'rollups 5 min before 21', 'rollups 5 min before 22', 'rollups 60 min before 21', 'rollups 60 min before 22'],
    'both ends ask all four tiers',
  );
  // The fixture's tiers hold the same rows at both ends; the live positions (30 reports by 23 h) would have given 20.
  t.same(points, [], 'the ends are the tiers\' rows, not the live positions: no report between them');
});

t.test('without live positions but knowing how many agent-sides reported: each end stops at the tier that found them all', async (t) => {
  const { asked, reads } = fixture(false, 1);
  await reads.variantPoints(21 * HOUR, 22 * HOUR);
  t.same(
    asked.filter((q) => !q.startsWith('critical')).sort(),
    ['raw 20..21', 'raw 20..22', 'rollups 5 min before 21', 'rollups 5 min before 22'],
    'one agent-side reported: found in the fine rollups, so neither the coarse ones nor the anchors are read',
  );
});

t.test("keepPoints: a side whose ends and agent are what they were keeps its point; a new position, new labels or a loss make it again", async (t) => {
  // The tiers answer the same row objects at every read (as kept window edges do); the live positions give the ends.
  const start0 = at(20.5 * HOUR, 0, totalsOf(10, 2000, null));
  const start1 = at(20.5 * HOUR, 1, totalsOf(10, 50, null));
  let criticalReads = 0;
  const reader: TierReader = {
    samplesAt: () => [],
    rollupsAt: (res) => (res === tiers.fine ? [start0, start1] : []),
    anchors: () => [],
    criticalIn: () => (criticalReads++, [{ retention: 0.5, missing: '["postgres"]' }]),
    history: () => [],
    fleetHistory: () => [],
  };
  const live = new LivePositions();
  live.remember(at(23 * HOUR, 0, totalsOf(30, 2000, null)));
  live.remember(at(23 * HOUR, 1, { ...totalsOf(30, 50, null), retentionN: 20, lossy: 20 }));
  let record: AgentRecord = agent;
  const reads = windowReads({ reader, tiers, marks: () => marks, live, agents: () => new Map([['a1', record]]), keepPoints: true });
  const first = await reads.variantPoints(21 * HOUR, 24 * HOUR);
  const again = await reads.variantPoints(21 * HOUR, 24 * HOUR);
  t.equal(again[0], first[0], "side 0's point kept: the same object");
  t.not(again[1], first[1], 'side 1 lost postgres in the window: made again');
  t.same(again, first, 'the same figures');
  t.equal(criticalReads, 2, "side 1's critical states read at each call");

  record = { ...agent, labels: { env: 'prod' } };
  t.equal((await reads.variantPoints(21 * HOUR, 24 * HOUR))[0], first[0], 'a hello that changed nothing a point shows: kept');
  record = { ...agent, labels: { env: 'staging' } };
  const relabelled = await reads.variantPoints(21 * HOUR, 24 * HOUR);
  t.not(relabelled[0], first[0]);
  t.same(relabelled[0]!.labels, { env: 'staging' }, 'new labels: made again');

  live.remember(at(23.5 * HOUR, 0, totalsOf(31, 2000, null)));
  const reported = await reads.variantPoints(21 * HOUR, 24 * HOUR);
  t.match(reported[0], { reports: 21, lastAt: 23.5 * HOUR }, 'a new report at the end: made again');
  const without = windowReads({ reader, tiers, marks: () => marks, live, agents: () => new Map([['a1', record]]) });
  t.not((await without.variantPoints(21 * HOUR, 24 * HOUR))[0], (await without.variantPoints(21 * HOUR, 24 * HOUR))[0], 'without keepPoints every call makes its points');
});
