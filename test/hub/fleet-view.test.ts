// FleetView over a real SQLite store: what it keeps of a report, one store read at the first summaries(), and
// reportStored() keeping it current afterwards without reading the store again.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FleetView, summarizeReport } from '../../hub/fleet-view.js';
import { openSqliteStore } from '../../hub/store/sqlite.js';
import { asyncStore } from '../../hub/store/async-store.js';
import type { Store, SyncStore } from '../../hub/store/types.js';
import type { AgentReport } from '../../protocol/report.js';
import { sampleReport } from '../fixtures/report.js';
import { helloFor, reportFor } from '../helpers/ws-client.js';

/** A real store in a temp dir whose latestAll() calls are counted. */
async function countingStore(t: Test): Promise<{ store: Store; sync: SyncStore; reads: () => number }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-fleet-view-'));
  const real = openSqliteStore({ file: path.join(dir, 'hub.db') });
  t.teardown(async () => {
    real.close();
    await rm(dir, { recursive: true, force: true });
  });
  let reads = 0;
  const inner = asyncStore(real);
  const store: Store = {
    ...inner,
    latestAll() {
      reads += 1;
      return inner.latestAll();
    },
  };
  return { store, sync: real, reads: () => reads };
}

/** Stores `report` as agent `agentId`'s report number `seq` (the agent is registered first). */
function store(into: SyncStore, agentId: string, seq: number, report: AgentReport): void {
  into.upsertAgent(helloFor(agentId, report.host.id), Date.now());
  const outcomes = into.storeReports([{ agentId, message: { ...reportFor(report.host.id, seq), report }, receivedAt: Date.now() }]);
  if (outcomes[0] !== 'stored') throw new Error(`report ${agentId}#${seq} was ${outcomes[0]}`);
}

/** The sample report with its B variant's series and losses changed. */
function withB(host: string, series: number, missing: string[]): AgentReport {
  const report = sampleReport(host);
  report.variants[1] = { ...report.variants[1]!, series, criticalMissing: missing };
  return report;
}

t.test('summarizeReport keeps what /api/v1/fleet shows, and nothing more', async (t) => {
  const report = sampleReport('h1');
  t.same(summarizeReport(report), {
    processCount: 300,
    criticalRunning: ['postgres', 'sshd'],
    variants: [
      { name: 'baseline', state: 'running', restarts: 0, series: 2100, criticalRetention: 1, criticalMissing: [], cpuPercent: 4.5, rssBytes: 60 * 2 ** 20, estimatedMonthlyCostUsd: 21 },
      { name: 'optimized-a', state: 'running', restarts: 0, series: 35, criticalRetention: 0.5, criticalMissing: ['postgres'], cpuPercent: 2.5, rssBytes: 50 * 2 ** 20, estimatedMonthlyCostUsd: 0.35 },
    ],
    cardinalityReduction: 0.9833,
  });
  t.notOk('seriesByMetric' in summarizeReport(report).variants[0]!, 'per-metric series are left to the host endpoint');
});

t.test('the first summaries() reads every latest report from the store, once', async (t) => {
  const { store: s, sync, reads } = await countingStore(t);
  store(sync, 'a1', 1, withB('h1', 10, []));
  store(sync, 'a1', 2, withB('h1', 20, ['sshd']));
  store(sync, 'a2', 1, withB('h2', 30, []));
  const view = new FleetView(s);
  t.equal(reads(), 0, 'nothing is read before it is asked for');
  t.same((await view.summaries()).get('a1')?.variants.map((v) => [v.name, v.series, v.criticalMissing]), [['baseline', 2100, []], ['optimized-a', 20, ['sshd']]], "a1's latest report (seq 2)");
  t.equal((await view.summaries()).get('a2')?.variants[1]?.series, 30);
  t.equal((await view.summaries()).get('nobody'), undefined, 'an agent without reports has no summary');
  t.equal(reads(), 1, 'three reads of the summaries, one store read');
});

t.test('reportStored() before the first summaries() is left to the store read', async (t) => {
  const { store: s, sync, reads } = await countingStore(t);
  const view = new FleetView(s);
  const report = withB('h1', 40, []);
  store(sync, 'a1', 1, report);
  view.reportStored('a1', report);
  t.equal(reads(), 0, 'a stored report alone does not make it read the store');
  t.equal((await view.summaries()).get('a1')?.variants[1]?.series, 40, 'the store has it');
  t.equal(reads(), 1);
});

t.test('after the first summaries(), reportStored() keeps the view current without reading the store', async (t) => {
  const { store: s, sync, reads } = await countingStore(t);
  store(sync, 'a1', 1, withB('h1', 50, []));
  const view = new FleetView(s);
  t.equal((await view.summaries()).get('a1')?.variants[1]?.series, 50);

  const next = withB('h1', 60, ['postgres']);
  next.host.processCount = 301;
  store(sync, 'a1', 2, next);
  view.reportStored('a1', next);
  t.has((await view.summaries()).get('a1'), { processCount: 301, variants: [{ series: 2100 }, { series: 60, criticalMissing: ['postgres'] }] }, 'the new report replaces the old');

  const newcomer = withB('h3', 70, []);
  store(sync, 'a3', 1, newcomer);
  view.reportStored('a3', newcomer);
  t.equal((await view.summaries()).get('a3')?.variants[1]?.series, 70, 'an agent first seen after the store read appears');
  t.equal(reads(), 1, 'still the one read');
});

t.test('a report stored while the first read is under way is kept over what that read returns', async (t) => {
  const { store: s, sync } = await countingStore(t);
  store(sync, 'a1', 1, withB('h1', 80, []));
  const view = new FleetView(s);
  // The read is asked for (its answer comes on a later turn), then a newer report is stored and heard of.
  const reading = view.summaries();
  const newer = withB('h1', 90, ['cron']);
  store(sync, 'a1', 2, newer);
  view.reportStored('a1', newer);
  t.equal((await reading).get('a1')?.variants[1]?.series, 90, 'the newer report, not the one the read began with');
  t.equal((await view.summaries()).get('a1')?.variants[1]?.series, 90);
});

t.test('a report another process stored is read from the store at the next read; forget() reads everything again', async (t) => {
  const { store: s, sync, reads } = await countingStore(t);
  const view = new FleetView(s);
  const first = sampleReport('web-1');
  store(sync, 'a1', 1, first);
  await view.summaries();
  t.equal(reads(), 1);
  // Another replica stores a newer report: this view hears only of it.
  const newer = sampleReport('web-1');
  newer.host.processCount = 999;
  store(sync, 'a1', 2, newer);
  t.equal((await view.summaries()).get('a1')!.processCount, first.host.processCount, 'not told: what it kept');
  view.storedElsewhere('a1');
  t.equal((await view.summaries()).get('a1')!.processCount, 999, 'told: that agent read again');
  t.equal(reads(), 1, 'its latest alone, not every agent');
  store(sync, 'a2', 1, sampleReport('web-2'));
  view.forget();
  t.ok((await view.summaries()).has('a2'), 'after forget(): everything read again');
  t.equal(reads(), 2);
});
