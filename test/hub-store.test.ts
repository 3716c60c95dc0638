// The hub's SQLite store: durable, deduplicated by (agent, sequence), aggregated, rolled up and pruned.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openSqliteStore } from '../hub/store/sqlite.js';
import { agentReportSchema } from '../protocol/report.js';
import type { ReportMessage } from '../protocol/messages.js';
import { helloFor, reportFor } from './helpers/ws-client.js';
import { sampleReport } from './fixtures/report.js';

function reportAt(seq: number, at: number, hostId: string, seriesA = 2100, seriesB = 35): ReportMessage {
  const message = reportFor(hostId, seq, at);
  message.report.variants[0].series = seriesA;
  message.report.variants[1].series = seriesB;
  return message;
}

t.test('the report fixture is a valid report', async (t) => {
  t.ok(agentReportSchema.safeParse(sampleReport()).success);
});

t.test('stores, deduplicates, survives reopening', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hub.db');
  const now = Date.now();
  let store = openSqliteStore({ file });
  const agent = store.upsertAgent(helloFor('a1', 'web-1', { env: 'prod' }), now);
  t.equal(agent.lastSeq, 0);
  const outcomes = store.storeReports([
    { agentId: 'a1', message: reportAt(1, now - 30_000, 'web-1'), receivedAt: now },
    { agentId: 'a1', message: reportAt(2, now - 15_000, 'web-1'), receivedAt: now },
    { agentId: 'a1', message: reportAt(2, now - 15_000, 'web-1'), receivedAt: now },
    { agentId: 'a1', message: reportAt(1, now - 30_000, 'web-1'), receivedAt: now },
  ]);
  t.same(outcomes, ['stored', 'stored', 'duplicate', 'duplicate']);
  store.close();
  store.close(); // idempotent

  store = openSqliteStore({ file });
  t.teardown(() => store.close());
  t.equal(store.agents()[0]!.lastSeq, 2, 'high-water mark survives a restart');
  t.same(store.storeReports([{ agentId: 'a1', message: reportAt(2, now, 'web-1'), receivedAt: now }]), ['duplicate']);
  t.equal(store.latest('a1')!.seq, 2);
  t.equal(store.latest('a1')!.report.host.id, 'web-1');
  t.equal(store.latest('nobody'), null);
  t.equal(store.latestAll().length, 1);
  const points = store.variantPoints(now - 60_000, now + 1);
  t.equal(points.length, 2, 'one point per side');
  const b = points.find((p) => p.side === 1)!;
  t.match(b, { hostId: 'web-1', variant: 'optimized-a', pairedWith: 'baseline', reports: 2, series: 35, retentionMin: 0.5, missing: ['postgres'] });
  t.same(b.labels, { env: 'prod' });
  t.equal(store.history('web-1', now - 60_000, now + 1).length >= 2, true);
});

t.test('rollups keep the figures when raw samples are pruned', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const bucketMs = 60_000;
  const store = openSqliteStore({ file: path.join(dir, 'hub.db'), bucketMs, rawRetentionMs: 10 * 60_000, rollupRetentionMs: 60 * 60_000 });
  t.teardown(() => store.close());
  const start = Math.floor(Date.now() / bucketMs) * bucketMs - 30 * 60_000;
  store.upsertAgent(helloFor('a1', 'db-1'), start);
  // 20 minutes of reports every 15 s; series of A alternate 2000/2200, B is 30.
  const items = Array.from({ length: 80 }, (_, i) => ({
    agentId: 'a1',
    message: reportAt(i + 1, start + i * 15_000, 'db-1', i % 2 === 0 ? 2000 : 2200, 30),
    receivedAt: start + i * 15_000,
  }));
  t.ok(store.storeReports(items).every((o) => o === 'stored'));
  const before = store.variantPoints(start, start + 20 * 60_000);
  const result = store.maintain(start + 30 * 60_000);
  t.equal(result.rolledUp, 2 * 20, 'one rollup row per side per 1-minute bucket: 20 minutes of reports, 2 sides');
  t.ok(result.deletedRaw > 0, `pruned ${result.deletedRaw} raw samples`);
  const after = store.variantPoints(start, start + 20 * 60_000);
  t.same(after.map((p) => [p.side, p.reports, p.series, p.retentionMin, p.missing]), before.map((p) => [p.side, p.reports, p.series, p.retentionMin, p.missing]));
  t.equal(after.find((p) => p.side === 0)!.series, 2100);
  t.equal(store.history('db-1', start, start + 20 * 60_000).length, 2 * 20, 'history reads rollups, one point per side per minute');
  const fleet = store.fleetHistory(start, start + 20 * 60_000);
  t.equal(fleet.length, 2 * 20, 'fleet history: one point per variant per minute');
  t.match(fleet[0], { hosts: 1, variant: 'baseline', series: 2100 });
  const old = store.maintain(start + 200 * 60_000);
  t.ok(old.deletedRollups > 0, 'rollups past retention are deleted');
  t.same(store.variantPoints(start, start + 20 * 60_000), []);
});
