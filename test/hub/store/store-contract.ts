// The Store contract, the same assertions for every engine (issue 16: SQLite and PostgreSQL): durable, deduplicated
// by (agent, sequence), aggregated into running totals, rolled up and pruned, late reports rolled up again.
// An engine's test file calls storeContract() with how to open its store.
import { compareFleet } from '../../../hub/compare.js';
import type { Test } from 'tap';
import type { TierOptions } from '../../../hub/store/tiers.js';
import type { Store } from '../../../hub/store/types.js';
import type { ReportMessage } from '../../../protocol/messages.js';
import type { HostTruth, VariantLoss } from '../../../protocol/report.js';
import { sampleLoss, sampleReportWithLoss, sampleTruth } from '../../fixtures/report.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';
import type { VariantPoint } from '../../../hub/store/types.js';

export interface OpenedStore {
  store: Store;
  /** Closes the store and opens it again on the same data (a hub restarted). */
  reopen(): Promise<Store>;
}

export interface StoreEngine {
  name: string;
  /** A new, empty store with these tiers, closed in t.teardown. */
  open(t: Test, tiers?: TierOptions): Promise<OpenedStore>;
}

function reportAt(seq: number, at: number, hostId: string, seriesA = 2100, seriesB = 35, withLoss = false): ReportMessage {
  const message = reportFor(hostId, seq, at);
  if (withLoss) message.report = sampleReportWithLoss(hostId);
  message.report.variants[0].series = seriesA;
  message.report.variants[1].series = seriesB;
  return message;
}

const MIN = 60_000;
const HOUR = 60 * MIN;

/** A deterministic pseudo-random sequence (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Sent {
  agentId: string;
  at: number;
  side: 0 | 1;
  series: number;
  cpu: number;
  retention: number;
  missing: string[];
  /** Absent: an agent before issue 15. */
  loss?: VariantLoss;
  truth?: HostTruth;
}

const meanOver = (values: (number | null | undefined)[]) => {
  const known = values.filter((v): v is number => typeof v === 'number');
  return known.length === 0 ? null : known.reduce((a, b) => a + b, 0) / known.length;
};

/** The loss figures of a window computed the slow way: the reports that carried each figure, and flapping over rounds with an interval. */
function bruteForceLoss(rows: Sent[]) {
  const flapped = rows.filter((r) => r.loss?.flapping && r.truth?.intervalMs);
  return {
    reports: rows.filter((r) => r.loss).length,
    topCpuVisible: meanOver(rows.map((r) => r.loss?.topCpu?.visible)),
    topRssVisible: meanOver(rows.map((r) => r.loss?.topRss.visible)),
    cpuConservation: meanOver(rows.map((r) => r.loss?.cpuConservation)),
    counterResets: rows.some((r) => r.loss) ? rows.reduce((a, r) => a + (r.loss?.counterResets ?? 0), 0) : null,
    flapping: flapped.length === 0 ? null : {
      appeared: flapped.reduce((a, r) => a + r.loss!.flapping!.appeared, 0),
      vanished: flapped.reduce((a, r) => a + r.loss!.flapping!.vanished, 0),
      switched: flapped.reduce((a, r) => a + r.loss!.flapping!.switched, 0),
      hours: flapped.reduce((a, r) => a + r.truth!.intervalMs!, 0) / HOUR,
    },
    blindSpots: meanOver(rows.map((r) => r.truth?.blindSpots.count)),
  };
}

/** The comparison's figures for a window, computed the slow way from every report sent. */
function bruteForce(sent: Sent[], from: number, to: number) {
  const byKey = new Map<string, Sent[]>();
  const inWindow = sent.filter((x) => x.at >= from && x.at < to);
  // The store's order: by agent id in code units, then side.
  inWindow.sort((x, y) => (x.agentId < y.agentId ? -1 : x.agentId > y.agentId ? 1 : x.side - y.side));
  for (const s of inWindow) byKey.set(`${s.agentId}/${s.side}`, [...(byKey.get(`${s.agentId}/${s.side}`) ?? []), s]);
  return [...byKey]
    .map(([key, rows]) => ({
      key,
      reports: rows.length,
      series: rows.reduce((a, r) => a + r.series, 0) / rows.length,
      cpu: rows.reduce((a, r) => a + r.cpu, 0) / rows.length,
      retentionMin: Math.min(...rows.map((r) => r.retention)),
      missing: [...new Set(rows.flatMap((r) => r.missing))].sort(),
      loss: bruteForceLoss(rows),
    }));
}

/** Reads the window [from, to) and checks it against the brute force over every report sent. */
async function agreesWithBruteForce(t: Test, store: Store, sent: Sent[], from: number, to: number, label: string): Promise<void> {
  const expected = bruteForce(sent, from, to);
  const actual = (await store.variantPoints(from, to)).map((p) => ({
    key: `${p.agentId}/${p.side}`,
    reports: p.reports,
    series: p.series,
    cpu: p.cpuPercent,
    retentionMin: p.retentionMin,
    missing: p.missing,
    loss: {
      reports: p.loss.reports,
      topCpuVisible: p.loss.topCpu?.visible ?? null,
      topRssVisible: p.loss.topRss?.visible ?? null,
      cpuConservation: p.loss.cpuConservation,
      counterResets: p.loss.counterResets,
      flapping: p.loss.flapping,
      blindSpots: p.loss.blindSpots,
    },
  }));
  t.same(actual.map((a) => [a.key, a.reports, a.retentionMin, a.missing]), expected.map((e) => [e.key, e.reports, e.retentionMin, e.missing]), `${label}: hosts, reports, retention, missing`);
  const close = actual.every((a, i) => Math.abs(a.series! - expected[i]!.series) < 1e-6 && Math.abs(a.cpu! - expected[i]!.cpu) < 1e-6);
  t.ok(close, `${label}: mean series and CPU agree`);
  // Sums of fractions differ from the brute force only by float error: compared to 1e-9.
  const near = (x: unknown, y: unknown): boolean =>
    typeof x === 'number' && typeof y === 'number' ? Math.abs(x - y) < 1e-9
      : x !== null && y !== null && typeof x === 'object' && typeof y === 'object' ? Object.keys(y).every((k) => near((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k]))
        : x === y;
  const lossAgrees = actual.every((a, i) => near(a.loss, expected[i]!.loss));
  t.ok(lossAgrees, `${label}: loss figures agree`) || t.same(actual.map((a) => a.loss), expected.map((e) => e.loss));
}

/** Registers the contract's tests for `engine` on `t`. */
export function storeContract(t: Test, engine: StoreEngine): void {
  t.test('stores, deduplicates, survives reopening', async (t) => {
    const now = Date.now();
    const opened = await engine.open(t);
    let store = opened.store;
    const { agent } = await store.upsertAgent(helloFor('a1', 'web-1', { env: 'prod' }), now);
    t.equal(agent.lastSeq, 0);
    const outcomes = await store.storeReports([
      { agentId: 'a1', message: reportAt(1, now - 30_000, 'web-1'), receivedAt: now },
      { agentId: 'a1', message: reportAt(2, now - 15_000, 'web-1'), receivedAt: now },
      { agentId: 'a1', message: reportAt(2, now - 15_000, 'web-1'), receivedAt: now },
      { agentId: 'a1', message: reportAt(1, now - 30_000, 'web-1'), receivedAt: now },
    ]);
    t.same(outcomes, ['stored', 'stored', 'duplicate', 'duplicate']);
    store = await opened.reopen();
    t.equal((await store.agents())[0]!.lastSeq, 2, 'high-water mark survives a restart');
    t.same(await store.storeReports([{ agentId: 'a1', message: reportAt(2, now, 'web-1'), receivedAt: now }]), ['duplicate']);
    t.equal((await store.latest('a1'))!.seq, 2);
    t.equal((await store.latest('a1'))!.report.host.id, 'web-1');
    t.equal(await store.latest('nobody'), null);
    t.equal((await store.latestAll()).length, 1);
    const points = await store.variantPoints(now - 60_000, now + 1);
    t.equal(points.length, 2, 'one point per side');
    const b = points.find((p) => p.side === 1)!;
    t.match(b, { hostId: 'web-1', variant: 'optimized-a', pairedWith: 'baseline', reports: 2, series: 35, retentionMin: 0.5, missing: ['postgres'] });
    t.same(b.labels, { env: 'prod' });
    for (const groupBy of [{ kind: 'none' }, { kind: 'label', name: 'env' }] as const) {
      t.same(await store.comparison(now - 60_000, now + 1, groupBy), compareFleet(points, groupBy), `the comparison (${groupBy.kind}) is compareFleet over those points`);
    }
    t.equal((await store.history('web-1', now - 60_000, now + 1)).length >= 2, true);
  });

  t.test('a hello: a new agent, the same stream again (its sequence goes on), a new stream (its sequence starts again)', async (t) => {
    const now = Date.now();
    const { store } = await engine.open(t);
    const first = await store.upsertAgent(helloFor('r1', 'web-1', { team: 'a' }), now);
    t.match(first, { agent: { agentId: 'r1', hostId: 'web-1', lastSeq: 0, labels: { team: 'a' } }, sequenceRestarted: false });
    t.same(await store.storeReports([1, 2, 3].map((seq) => ({ agentId: 'r1', message: reportAt(seq, now + seq, 'web-1'), receivedAt: now + seq }))), ['stored', 'stored', 'stored']);
    const again = await store.upsertAgent(helloFor('r1', 'web-2', { team: 'b' }), now + 10);
    t.match(again, { agent: { hostId: 'web-2', lastSeq: 3, labels: { team: 'b' } }, sequenceRestarted: false }, 'the same stream: the high-water mark stays, the host details change');
    const restarted = await store.upsertAgent({ ...helloFor('r1', 'web-2'), streamId: 'stream-after-a-wipe' }, now + 20);
    t.match(restarted, { agent: { lastSeq: 0 }, sequenceRestarted: true }, 'a new stream (the agent lost its state): counted from 0 again');
    t.same(await store.storeReports([{ agentId: 'r1', message: reportAt(1, now + 30, 'web-2'), receivedAt: now + 30 }]), ['stored'], 'its report 1 is new, not a duplicate');
  });

  t.test('rollups keep the figures when raw rows are pruned; anchors when rollups are', async (t) => {
    const bucketMs = MIN;
    const { store } = await engine.open(t, {
      bucketMs,
      coarseBucketMs: 10 * MIN,
      rawRetentionMs: 10 * MIN,
      rollupRetentionMs: 60 * MIN,
      coarseRetentionMs: 120 * MIN,
    });
    const start = Math.floor(Date.now() / (10 * MIN)) * 10 * MIN - 30 * MIN;
    await store.upsertAgent(helloFor('a1', 'db-1'), start);
    // 20 minutes of reports every 15 s; series of A alternate 2000/2200, B is 30.
    const items = Array.from({ length: 80 }, (_, i) => ({
      agentId: 'a1',
      message: reportAt(i + 1, start + i * 15_000, 'db-1', i % 2 === 0 ? 2000 : 2200, 30, true),
      receivedAt: start + i * 15_000,
    }));
    t.ok((await store.storeReports(items)).every((o) => o === 'stored'));
    const before = await store.variantPoints(start, start + 20 * MIN);
    const result = await store.maintain(start + 30 * MIN);
    t.equal(result.rolledUp, 2 * 20 + 2 * 2, 'per side: one fine row a minute for 20 minutes, one coarse row per 10 minutes');
    t.equal(result.deletedRaw, 160, 'every raw row is pruned once rolled up and past raw retention');
    const after = await store.variantPoints(start, start + 20 * MIN);
    const shape = (points: VariantPoint[]) => points.map((p) => [p.side, p.reports, p.series, p.retentionMin, p.lossyReports, p.missing, p.loss]);
    t.same(shape(after), shape(before));
    t.match(before[1]!.loss, { reports: 80, topCpu: { visible: 9, ranked: 10 }, flapping: { appeared: 160, hours: (80 * 15_000) / HOUR } }, 'the loss figures, kept by the rollups');
    t.ok(Math.abs(before[1]!.loss.cpuConservation! - 0.95) < 1e-9, 'a mean of ratios, to float error');
    t.equal(after.find((p) => p.side === 0)!.series, 2100);
    t.same(shape(await store.variantPoints(start + 5 * MIN, start + 10 * MIN)).map((p) => p[1]), [20, 20], 'a 5-minute window inside the rolled range: 20 reports a side');
    t.equal((await store.history('db-1', start, start + 20 * MIN)).length, 2 * 20, 'history reads fine rollups, one point per side per minute');
    const fleet = await store.fleetHistory(start, start + 20 * MIN);
    t.equal(fleet.length, 2 * 20, 'fleet history: one point per variant per minute');
    t.match(fleet[0], { hosts: 1, variant: 'baseline', series: 2100 });

    // Later, the fine rollups go too (coarse ones answer), then the coarse ones (the anchor remembers the totals).
    await store.maintain(start + 100 * MIN);
    t.same(shape(await store.variantPoints(start, start + 20 * MIN)), shape(before), 'coarse rollups answer once fine ones are pruned');
    t.equal((await store.history('db-1', start, start + 20 * MIN)).length, 2 * 2, 'history from coarse rollups: one point per side per 10 minutes');
    const old = await store.maintain(start + 200 * MIN);
    t.ok(old.deletedRollups > 0, 'rollups past retention are deleted');
    t.same(await store.variantPoints(start, start + 20 * MIN), [], 'nothing is left of that window');
    await store.storeReports([{ agentId: 'a1', message: reportAt(81, start + 200 * MIN, 'db-1', 2100, 35, true), receivedAt: start + 200 * MIN }]);
    const fromAnchor = await store.variantPoints(start, start + 201 * MIN);
    t.same(shape(fromAnchor).map((p) => p[1]), [1, 1], 'a new report counts from the anchor, not from zero');
    t.match(fromAnchor[1]!.loss, { reports: 1, topCpu: { visible: 9, ranked: 10 }, flapping: { appeared: 2, vanished: 1, switched: 1 } }, 'its loss figures too');
  });

  t.test('any window, read as a difference of running totals, equals the figures computed from every report', async (t) => {
    const fine = 5 * MIN;
    const { store } = await engine.open(t, { bucketMs: fine, coarseBucketMs: HOUR, rawRetentionMs: HOUR, rollupRetentionMs: 6 * HOUR, coarseRetentionMs: 48 * HOUR });
    const rand = random(7);
    const start = Math.floor(Date.now() / HOUR) * HOUR - 20 * HOUR;
    const agents = ['a1', 'a2', 'a3'];
    for (const a of agents) await store.upsertAgent(helloFor(a, `host-${a}`), start);
    const sent: Sent[] = [];
    const seq = new Map(agents.map((a) => [a, 0]));
    // 20 hours, a report a minute from each agent (a3 joins after 8 hours), maintenance every 5 minutes.
    for (let at = start; at < start + 20 * HOUR; at += MIN) {
      for (const agentId of agents) {
        if (agentId === 'a3' && at < start + 8 * HOUR) continue;
        const message = reportFor(`host-${agentId}`, seq.get(agentId)! + 1, at);
        seq.set(agentId, seq.get(agentId)! + 1);
        // a2's agent predates the loss figures for its first 10 hours; a pair's first round has no CPU ranking or flapping.
        const withLoss = agentId !== 'a2' || at >= start + 10 * HOUR;
        const firstRound = rand() < 0.1;
        const truth = withLoss ? sampleTruth({ intervalMs: firstRound ? null : MIN, blindSpots: { count: Math.floor(rand() * 3), names: [] } }) : undefined;
        if (truth) message.report.truth = truth;
        message.report.variants.forEach((v, side) => {
          if (withLoss) {
            v.loss = sampleLoss({
              topCpu: firstRound ? null : { ranked: 10, visible: 10 - Math.floor(rand() * 4 * side), missing: [] },
              topRss: { ranked: 10, visible: 10 - Math.floor(rand() * 2 * side), missing: [] },
              cpuConservation: rand() < 0.05 ? null : Math.round((1 - rand() * 0.4 * side) * 1000) / 1000,
              counterResets: Math.floor(rand() * 2),
              flapping: firstRound ? null : { appeared: Math.floor(rand() * 3), vanished: Math.floor(rand() * 3), switched: Math.floor(rand() * 2), switchedNames: [] },
            });
          }
          v.series = Math.round((side === 0 ? 2000 : 40) * (0.5 + rand()));
          v.cpuPercent = Math.round(rand() * 500) / 100;
          const lossy = side === 1 && rand() < 0.05;
          v.criticalRetention = lossy ? 0.5 : 1;
          v.criticalMissing = lossy ? [rand() < 0.5 ? 'postgres' : 'sshd'] : [];
          sent.push({ agentId, at, side: side as 0 | 1, series: v.series, cpu: v.cpuPercent, retention: v.criticalRetention, missing: v.criticalMissing, ...(v.loss ? { loss: v.loss } : {}), ...(truth ? { truth } : {}) });
        });
        await store.storeReports([{ agentId, message, receivedAt: at }]);
      }
      if ((at - start) % fine === 0) await store.maintain(at);
    }
    const now = start + 20 * HOUR;
    await store.maintain(now);
    // Window edges: to the minute inside raw retention, to the fine bucket inside fine retention, to the hour beyond.
    const windows: [number, number][] = [
      [now - 45 * MIN + 17_000, now],
      [now - 3 * HOUR - 35 * MIN, now - 50 * MIN],
      [now - 5 * HOUR, now - 4 * HOUR + 15 * MIN],
      [start, now],
      [start + 2 * HOUR, start + 9 * HOUR],
      [start + 7 * HOUR, now - 30 * MIN],
    ];
    for (const [from, to] of windows) await agreesWithBruteForce(t, store, sent, from, to, `window ${(from - start) / MIN}..${(to - start) / MIN} min`);
  });

  t.test('a window read again and again as it slides (as an open page reads it) agrees with the brute force at every read', async (t) => {
    const fine = MIN;
    const { store } = await engine.open(t, { bucketMs: fine, coarseBucketMs: 10 * MIN, rawRetentionMs: 2 * HOUR, rollupRetentionMs: 6 * HOUR, coarseRetentionMs: 24 * HOUR });
    const rand = random(11);
    const start = Math.floor(Date.now() / HOUR) * HOUR - 4 * HOUR;
    const agents = ['s1', 's2', 's3', 'quiet'];
    for (const a of [...agents, 'backlog', 'backlog2']) await store.upsertAgent(helloFor(a, `host-${a}`), start);
    const sent: Sent[] = [];
    const seq = new Map<string, number>();
    const send = async (agentId: string, at: number, receivedAt = at) => {
      const n = (seq.get(agentId) ?? 0) + 1;
      seq.set(agentId, n);
      const message = reportFor(`host-${agentId}`, n, at);
      message.report.variants.forEach((v, side) => {
        v.series = Math.round((side === 0 ? 2000 : 40) * (0.5 + rand()));
        v.cpuPercent = Math.round(rand() * 500) / 100;
        const lossy = side === 1 && rand() < 0.1;
        v.criticalRetention = lossy ? 0.5 : 1;
        v.criticalMissing = lossy ? ['postgres'] : [];
        sent.push({ agentId, at, side: side as 0 | 1, series: v.series, cpu: v.cpuPercent, retention: v.criticalRetention, missing: v.criticalMissing, ...(v.loss ? { loss: v.loss } : {}) });
      });
      t.same(await store.storeReports([{ agentId, message, receivedAt }]), ['stored']);
    };
    // Three hours of reports every 15 s ('quiet' stops after the first hour), maintenance every 5 minutes.
    let at = start;
    const tick = async () => {
      for (const agentId of agents) if (agentId !== 'quiet' || at < start + HOUR) await send(agentId, at);
      if ((at - start) % (5 * MIN) === 0) await store.maintain(at);
      at += 15_000;
    };
    while (at < start + 3 * HOUR) await tick();
    // The last 30 minutes, read every 15 s as reports arrive; a host back from an outage delivers its backlog (rows
    // before the window's start and inside it, in rolled-up buckets) halfway; maintenance moves the tiers meanwhile;
    // one read ends in the past, one starts further back.
    for (let step = 0; step < 40; step++) {
      await tick();
      if (step === 22) for (let i = 0; i < 30; i++) await send('backlog', at - 45 * MIN + 20_000 + i * MIN, at);
      const to = step === 30 ? at - 5 * MIN : at + 1;
      const from = (step === 35 ? at - 50 * MIN : at - 30 * MIN) + 7_000;
      await agreesWithBruteForce(t, store, sent, from, to, `read ${step}`);
      // A short window beside it (its start after the rolled-up buckets): a late row before that start, not in a
      // rolled bucket, must still be counted at the start.
      if (step === 28) await send('backlog2', at - 110_000, at);
      await agreesWithBruteForce(t, store, sent, at - 90_000, at + 1, `read ${step}, the last 90 s`);
    }
  });

  t.test('late reports (an agent back from an outage) are rolled up again; clock skew is clamped', async (t) => {
    const fine = 5 * MIN;
    const { store } = await engine.open(t, { bucketMs: fine, coarseBucketMs: HOUR });
    const start = Math.floor(Date.now() / HOUR) * HOUR - 3 * HOUR;
    await store.upsertAgent(helloFor('on', 'steady'), start);
    await store.upsertAgent(helloFor('late', 'returning'), start);
    for (let i = 0; i < 120; i++) await store.storeReports([{ agentId: 'on', message: reportAt(i + 1, start + i * MIN, 'steady'), receivedAt: start + i * MIN }]);
    await store.maintain(start + 2 * HOUR);
    t.same(new Set((await store.fleetHistory(start, start + HOUR)).map((p) => p.hosts)), new Set([1]), 'one host before the late one reports');
    // The returning agent delivers an hour of reports made during its outage, two hours late.
    const late = Array.from({ length: 60 }, (_, i) => ({ agentId: 'late', message: reportAt(i + 1, start + i * MIN, 'returning', 1000, 10), receivedAt: start + 2 * HOUR }));
    t.ok((await store.storeReports(late)).every((o) => o === 'stored'));
    await store.maintain(start + 2 * HOUR + MIN);
    t.same(new Set((await store.fleetHistory(start, start + HOUR)).map((p) => p.hosts)), new Set([2]), 'fleet history counts it in the buckets it reported for');
    t.equal((await store.history('returning', start, start + HOUR)).length, 2 * 12, 'its own history has every 5-minute bucket');
    const point = (await store.variantPoints(start, start + HOUR)).find((p) => p.agentId === 'late' && p.side === 0)!;
    t.match(point, { reports: 60, series: 1000 });

    // Clock skew: a report from an hour in the future is placed at its arrival; one dated before the previous after it.
    const arrival = start + 2 * HOUR + 2 * MIN;
    await store.storeReports([{ agentId: 'on', message: reportAt(121, arrival + HOUR, 'steady'), receivedAt: arrival }]);
    await store.storeReports([{ agentId: 'on', message: reportAt(122, start, 'steady'), receivedAt: arrival + 1000 }]);
    const recent = (await store.variantPoints(arrival, arrival + 2000)).filter((p) => p.agentId === 'on');
    t.same(recent.map((p) => p.reports), [2, 2], 'both land at their arrival, in sequence order');
    t.equal(recent[0]!.lastAt, arrival + 1, 'the second is placed just after the first');
  });
}
