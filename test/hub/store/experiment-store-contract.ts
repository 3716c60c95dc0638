// The ExperimentStore contract, the same assertions for every engine (issue 16: SQLite and PostgreSQL): the pipeline
// catalog's versions and users, an experiment created in one transaction, patches, hosts, event paging, and the
// figures that storeReports keeps for tagged reports (loss sums too). An engine's test file calls
// experimentStoreContract() with how to open its store.
import type { Test } from 'tap';
import type { ExperimentHostRecord, ExperimentRecord, PipelineRecord } from '../../../hub/experiments/experiment-store.js';
import { experimentResults } from '../../../hub/experiments/results.js';
import { parseExperimentSpec } from '../../../hub/experiments/spec.js';
import { ZERO_LOSS } from '../../../hub/store/loss-sums.js';
import type { IncomingReport } from '../../../hub/store/types.js';
import { sampleLoss, sampleReportWithLoss } from '../../fixtures/report.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';
import type { StoreEngine } from './store-contract.js';

const NOW = Date.UTC(2026, 5, 1);
const SHA = (c: string) => c.repeat(64);

const pipeline = (name: string, sha256: string, uploadedAt: number, content = `content of ${name}@${sha256.slice(0, 4)}`): PipelineRecord => ({
  name, sha256, content, description: null, uploadedBy: 'alice', uploadedAt,
});
const experiment = (id: string, createdAt: number, extra: Partial<ExperimentRecord> = {}): ExperimentRecord => ({
  id, name: id, description: null, spec: '{"name":"x"}', state: 'draft', revision: 1,
  baseline: { pipeline: 'baseline', sha256: SHA('0') }, candidate: { pipeline: 'lean', sha256: SHA('a') },
  createdBy: 'alice', createdAt, startedAt: null, endedAt: null, outcome: null, guard: null, ...extra,
});
const host = (experimentId: string, agentId: string, order: number, extra: Partial<ExperimentHostRecord> = {}): ExperimentHostRecord => ({
  experimentId, agentId, hostId: `host-${agentId}`, order, wave: null, state: 'pending', message: null, updatedAt: NOW, healthySince: null, ...extra,
});
const created = (experimentId: string) => ({ experimentId, at: NOW, kind: 'created', hostId: null, actor: 'alice', detail: '{}' });

/**
 * The contract's tests, under `t`, on stores `engine` opens; `engine.duplicateKey` is what its driver's error for a
 * unique key violation matches.
 */
export function experimentStoreContract(t: Test, engine: StoreEngine & { duplicateKey: { code: string } }): void {
  t.test('pipelines: versions by content hash, the newest without a hash, their users, deletion', async (t) => {
    const { store } = await engine.open(t);
    const x = store.experiments;
    t.equal(await x.putPipeline(pipeline('lean', SHA('a'), NOW)), 'created');
    t.equal(await x.putPipeline({ ...pipeline('lean', SHA('a'), NOW + 5), description: 'again', uploadedBy: 'bob' }), 'exists', 'the same content again');
    t.match(await x.pipeline('lean', SHA('a')), { uploadedBy: 'alice', uploadedAt: NOW, description: null }, 'the first upload is kept');
    t.equal(await x.putPipeline(pipeline('lean', SHA('b'), NOW + 10)), 'created');
    t.equal(await x.putPipeline(pipeline('lean', SHA('c'), NOW + 10)), 'created', 'a third version in the same millisecond');
    t.equal(await x.putPipeline(pipeline('aaa', SHA('a'), NOW + 1)), 'created', 'another name may hold the same hash');
    t.equal((await x.pipeline('lean'))!.sha256, SHA('c'), 'without a hash: the newest version (the later upload on a tie)');
    t.same(await x.pipeline('lean', SHA('a')), pipeline('lean', SHA('a'), NOW), 'a version read back whole');
    t.equal(await x.pipeline('lean', SHA('f')), null);
    t.equal(await x.pipeline('nothing'), null);
    t.same((await x.pipelines()).map((p) => `${p.name}@${p.sha256[0]}`), ['aaa@a', 'lean@c', 'lean@b', 'lean@a'], 'by name, newest first per name');

    await x.createExperiment(experiment('e1', NOW), [], created('e1'));
    await x.createExperiment(experiment('e2', NOW + 1, { baseline: { pipeline: 'lean', sha256: SHA('b') }, candidate: { pipeline: 'other', sha256: SHA('d') } }), [], created('e2'));
    await x.createExperiment(experiment('e3', NOW + 2, { state: 'completed' }), [], created('e3'));
    t.same(await x.pipelineUsers('lean'), ['e3', 'e2', 'e1'], 'every version, on either side, in any state');
    t.same(await x.pipelineUsers('lean', SHA('a')), ['e3', 'e1'], 'one version');
    t.same(await x.pipelineUsers('lean', SHA('b')), ['e2'], 'as a baseline');
    t.same(await x.pipelineUsers('lean', SHA('c')), []);
    t.same(await x.pipelineUsers('aaa'), [], 'the same hash under another name is another template');

    t.equal(await x.deletePipeline('lean', SHA('c')), 1, 'one version');
    t.equal((await x.pipeline('lean'))!.sha256, SHA('b'), 'the next newest is now the newest');
    t.equal(await x.deletePipeline('lean', SHA('c')), 0, 'gone already');
    t.equal(await x.deletePipeline('lean'), 2, 'every version');
    t.same((await x.pipelines()).map((p) => p.name), ['aaa'], 'the other name is kept');
  });

  t.test('createExperiment is one transaction: a duplicate host key stores nothing', async (t) => {
    const { store } = await engine.open(t);
    const x = store.experiments;
    await t.rejects(x.createExperiment(experiment('e1', NOW), [host('e1', 'a1', 0), host('e1', 'a1', 1)], created('e1')), engine.duplicateKey);
    t.equal(await x.experiment('e1'), null, 'no experiment');
    t.same(await x.hosts('e1'), [], 'no hosts');
    t.same(await x.events('e1'), [], 'no event');

    const hosts = [host('e1', 'a2', 1), host('e1', 'a1', 0)];
    await x.createExperiment(experiment('e1', NOW), hosts, created('e1'));
    t.same(await x.experiment('e1'), experiment('e1', NOW), 'read back whole');
    t.same(await x.hosts('e1'), [hosts[1], hosts[0]], 'its hosts by rollout order');
    t.match(await x.events('e1'), [{ experimentId: 'e1', kind: 'created', actor: 'alice', hostId: null, detail: '{}' }]);
    await t.rejects(x.createExperiment(experiment('e1', NOW + 1), [host('e1', 'a3', 2)], created('e1')), engine.duplicateKey, 'an id is unique');
    t.same((await x.hosts('e1')).map((h) => h.agentId), ['a1', 'a2'], 'and the failed one added no host');
    t.equal((await x.events('e1')).length, 1, 'nor an event');
  });

  t.test('experiments newest first, by state; a patch sets only its fields; hosts upserted', async (t) => {
    const { store } = await engine.open(t);
    const x = store.experiments;
    await x.createExperiment(experiment('old', NOW), [host('old', 'a1', 0)], created('old'));
    await x.createExperiment(experiment('new', NOW + 10, { state: 'running', startedAt: NOW + 10 }), [], created('new'));
    await x.createExperiment(experiment('mid', NOW + 5, { state: 'stopped' }), [], created('mid'));
    t.same((await x.experiments()).map((e) => e.id), ['new', 'mid', 'old']);
    t.same((await x.experimentsIn(['running'])).map((e) => e.id), ['new']);
    t.same((await x.experimentsIn(['draft', 'stopped', 'running', 'draft'])).map((e) => e.id), ['new', 'mid', 'old'], 'several states, newest first, each once');
    t.same(await x.experimentsIn([]), []);
    t.equal(await x.experiment('none'), null);

    await x.updateExperiment('old', { state: 'running', startedAt: NOW + 20, guard: '{"streaks":{}}' });
    t.same(await x.experiment('old'), experiment('old', NOW, { state: 'running', startedAt: NOW + 20, guard: '{"streaks":{}}' }), 'the patched fields, the rest as they were');
    await x.updateExperiment('old', { revision: 2, endedAt: NOW + 30, outcome: '{"verdict":"passed"}', state: 'completed', guard: null });
    t.match(await x.experiment('old'), { state: 'completed', revision: 2, startedAt: NOW + 20, endedAt: NOW + 30, outcome: '{"verdict":"passed"}', guard: null }, 'an explicit null sets null');
    await x.updateExperiment('old', {});
    t.match(await x.experiment('old'), { state: 'completed', revision: 2, outcome: '{"verdict":"passed"}' }, 'an empty patch changes nothing');
    await x.updateExperiment('none', { state: 'aborted' });
    t.equal(await x.experiment('none'), null, 'an unknown id: nothing');
    t.same((await x.experimentsIn(['running'])).map((e) => e.id), ['new']);

    const measuring = host('old', 'a1', 0, { wave: 0, state: 'measuring', updatedAt: NOW + 25, healthySince: NOW + 25, message: 'applied' });
    await x.putHost(measuring);
    await x.putHost(host('old', 'a0', 1));
    t.same(await x.hosts('old'), [measuring, host('old', 'a0', 1)], 'replaced in place, and a new one added');
    await x.putHost({ ...measuring, state: 'failed', healthySince: null, message: 'collector exited' });
    t.match((await x.hosts('old'))[0], { state: 'failed', healthySince: null, message: 'collector exited', wave: 0 });
    t.same(await x.hosts('new'), [], "another experiment's hosts are its own");
  });

  t.test('events: oldest first, paged after an id, limited', async (t) => {
    const { store } = await engine.open(t);
    const x = store.experiments;
    await x.createExperiment(experiment('e1', NOW), [], created('e1'));
    await x.createExperiment(experiment('e2', NOW), [], created('e2'));
    const ids: number[] = [];
    for (const i of [1, 2, 3, 4, 5]) ids.push(await x.addEvent({ experimentId: i % 2 ? 'e1' : 'e2', at: NOW + i, kind: `k${i}`, hostId: `h${i}`, actor: null, detail: `{"i":${i}}` }));
    t.ok(ids.every((id, i) => i === 0 || id > ids[i - 1]!), 'ids increase');
    t.same((await x.events('e1')).map((e) => e.kind), ['created', 'k1', 'k3', 'k5']);
    t.same((await x.events('e1', { limit: 2 })).map((e) => e.kind), ['created', 'k1']);
    const first = await x.events('e1', { limit: 2 });
    t.same((await x.events('e1', { afterId: first[1]!.id, limit: 2 })).map((e) => e.kind), ['k3', 'k5'], 'the next page');
    t.same(await x.events('e1', { afterId: ids[4] }), [], 'nothing after the last');
    t.same(await x.events('e2', { afterId: ids[0] }), [
      { id: ids[1], experimentId: 'e2', at: NOW + 2, kind: 'k2', hostId: 'h2', actor: null, detail: '{"i":2}' },
      { id: ids[3], experimentId: 'e2', at: NOW + 4, kind: 'k4', hostId: 'h4', actor: null, detail: '{"i":4}' },
    ], 'whole events of that experiment only');
    t.same((await x.events('e1', { kind: 'k3' })).map((e) => e.id), [ids[2]], 'of one kind');
    t.same(await x.events('e1', { kind: 'none' }), [], 'no event of that kind');
    t.same((await x.latestEvents('e1', 2)).map((e) => e.kind), ['k3', 'k5'], 'the newest two, oldest first');
    t.same((await x.latestEvents('e2', 10)).map((e) => e.kind), ['created', 'k2', 'k4'], 'fewer than the limit: all');
  });

  /** Report `seq` of agent `agentId` on its host, tagged with `experimentId` (null: untagged), changed by `edit`. */
  function tagged(agentId: string, seq: number, experimentId: string | null, edit: (r: IncomingReport['message']['report']) => void = () => {}): IncomingReport {
    const message = reportFor(`host-${agentId}`, seq, NOW + seq * 15_000);
    if (experimentId !== null) message.report.experiment = { id: experimentId, revision: 1 };
    edit(message.report);
    return { agentId, message, receivedAt: NOW + seq * 15_000 + 100 };
  }

  t.test('figures from tagged reports: sums, restarts, retention, loss streaks, missing union; duplicates and unknown ids add nothing', async (t) => {
    const opened = await engine.open(t);
    const { store } = opened;
    const x = store.experiments;
    for (const a of ['a1', 'a2']) await store.upsertAgent(helloFor(a, `host-${a}`), NOW);
    await x.createExperiment(experiment('exp', NOW), [host('exp', 'a1', 0), host('exp', 'a2', 1)], created('exp'));
    // The fixture: baseline 2100 series, 4.5 % CPU, full retention; candidate 35 series, 2.5 %, 0.5, missing postgres.
    t.same(
      await store.storeReports([
        tagged('a1', 1, 'exp'),
        tagged('a1', 2, 'exp', (r) => {
          r.variants[0].series = null;
          r.variants[1].restarts = 3;
          r.variants[1].criticalRetention = 0.25;
          r.variants[1].criticalMissing = ['sshd', 'postgres'];
        }),
        tagged('a1', 3, 'exp', (r) => {
          r.variants[1].restarts = 1;
          r.variants[1].cpuPercent = null;
          r.variants[1].criticalRetention = 1;
          r.variants[1].criticalMissing = [];
          r.critical.running = [];
        }),
        tagged('a1', 4, 'exp', (r) => (r.variants[1].criticalMissing = ['cron'])),
        tagged('a1', 3, 'exp'),
        tagged('a2', 1, null),
        tagged('a2', 2, 'forged'),
      ]),
      ['stored', 'stored', 'stored', 'stored', 'duplicate', 'stored', 'stored'],
    );
    const figures = await x.figures('exp');
    t.equal(figures.length, 2, 'one row per side of a1: the untagged and the forged reports of a2 added none');
    const [a, b] = figures as [(typeof figures)[0], (typeof figures)[0]];
    t.match(a, { experimentId: 'exp', agentId: 'a1', hostId: 'host-a1', side: 0, variant: 'baseline', reports: 4, seriesSum: 3 * 2100, seriesN: 3, cpuSum: 4 * 4.5, cpuN: 4 });
    t.match(a, { restartsMax: 0, retentionMin: 1, lossyReports: 0, lossStreak: 0, missing: [], criticalRanReports: 3 });
    t.match(b, { side: 1, variant: 'optimized-a', reports: 4, seriesSum: 4 * 35, seriesN: 4, cpuSum: 3 * 2.5, cpuN: 3, restartsMax: 3, retentionMin: 0.25 });
    t.match(b, { lossyReports: 3, lossStreak: 1, criticalRanReports: 3 }, 'the streak of 2 was reset by report 3, then began again');
    t.same(b.missing, ['cron', 'postgres', 'sshd'], 'the union of the names missed');
    t.equal(a.firstAt, NOW + 15_000, 'the first report’s time');
    t.equal(a.lastAt, NOW + 4 * 15_000, 'the last stored report’s time (the duplicate changed nothing)');
    t.same(await x.figures('forged'), [], 'no figures for an id the store holds no experiment for');
    t.equal((await store.latest('a2'))!.seq, 2, 'the forged report is stored as usual');

    await store.storeReports([tagged('a1', 5, 'exp'), tagged('a1', 6, 'exp')]);
    const after = await x.figures('exp');
    t.match(after[1], { lossStreak: 3, lossyReports: 5, reports: 6, lastAt: NOW + 6 * 15_000 }, 'consecutive losses count up');
    const reopened = await opened.reopen();
    t.same(await reopened.experiments.figures('exp'), after, 'the figures survive reopening the store');
  });

  t.test("figures: the guardrail's streak counts what the candidate lost of what the baseline showed; lossStreaks finds the long ones", async (t) => {
    const opened = await engine.open(t);
    const { store } = opened;
    const x = store.experiments;
    for (const a of ['a1', 'a2']) await store.upsertAgent(helloFor(a, `host-${a}`), NOW);
    await x.createExperiment(experiment('exp', NOW), [host('exp', 'a1', 0), host('exp', 'a2', 1)], created('exp'));
    const missing = (baseline: string[], candidate: string[]) => (r: IncomingReport['message']['report']) => {
      r.variants[0].criticalMissing = baseline;
      r.variants[1].criticalMissing = candidate;
    };
    await store.storeReports([
      tagged('a1', 1, 'exp', missing([], ['postgres'])),
      tagged('a1', 2, 'exp', missing([], ['postgres', 'sshd'])),
      // Both miss sshd: the baseline cannot see it either, so the candidate lost only postgres.
      tagged('a1', 3, 'exp', missing(['sshd'], ['postgres', 'sshd'])),
      tagged('a2', 1, 'exp', missing([], ['cron'])),
      // Only what the baseline also misses: no loss of the candidate, the streak ends (the figures' own streak goes on).
      tagged('a2', 2, 'exp', missing(['cron'], ['cron'])),
      tagged('a2', 3, 'exp', missing([], ['cron'])),
    ]);
    const [a1base, a1, a2base, a2] = await x.figures('exp');
    t.match(a1base, { side: 0, guardStreak: 0, guardLost: [] }, "the baseline's side has no streak of its own");
    t.match(a1, { side: 1, guardStreak: 3, guardLost: ['postgres'], lossStreak: 3 });
    t.match(a2base, { side: 0, guardStreak: 0 });
    t.match(a2, { side: 1, guardStreak: 1, guardLost: ['cron'], lossStreak: 3 }, 'the streak began again after the report whose loss the baseline shared');
    t.same(await x.lossStreaks('exp', 2), [{ agentId: 'a1', hostId: 'host-a1', reports: 3, processes: ['postgres'] }]);
    t.same((await x.lossStreaks('exp', 1)).map((s) => s.agentId), ['a1', 'a2'], 'by host id');
    t.same(await x.lossStreaks('exp', 4), []);
    t.same(await x.lossStreaks('other', 1), [], 'an unknown experiment has none');
    await store.storeReports([tagged('a1', 4, 'exp', missing([], []))]);
    t.match((await x.figures('exp'))[1], { guardStreak: 0, guardLost: [] }, 'a report without a loss ends it');
    t.same(await (await opened.reopen()).experiments.lossStreaks('exp', 1), [{ agentId: 'a2', hostId: 'host-a2', reports: 1, processes: ['cron'] }], 'kept across a reopen');
  });

  t.test('figures: retention unknown until a report knows it; at most 50 missing names, the first ones kept', async (t) => {
    const { store } = await engine.open(t);
    await store.upsertAgent(helloFor('a1', 'host-a1'), NOW);
    await store.experiments.createExperiment(experiment('exp', NOW), [host('exp', 'a1', 0)], created('exp'));
    const names = (from: number, n: number) => Array.from({ length: n }, (_, i) => `p${String(from + i).padStart(3, '0')}`);
    await store.storeReports([
      tagged('a1', 1, 'exp', (r) => {
        for (const v of r.variants) v.criticalRetention = null;
        r.variants[1].criticalMissing = names(10, 40);
      }),
    ]);
    t.same((await store.experiments.figures('exp')).map((f) => f.retentionMin), [null, null], 'never known: null');
    t.equal((await store.experiments.figures('exp'))[1]!.missing.length, 40);
    await store.storeReports([tagged('a1', 2, 'exp', (r) => (r.variants[1].criticalMissing = [...names(0, 10), ...names(50, 20)]))]);
    const [a, b] = await store.experiments.figures('exp');
    t.same([a!.retentionMin, b!.retentionMin], [1, 0.5], 'then the first known value');
    t.same(b!.missing, names(0, 50), 'the 40 kept, then the new names in order up to 50');
    await store.storeReports([tagged('a1', 3, 'exp', (r) => (r.variants[1].criticalMissing = ['aaa']))]);
    t.same((await store.experiments.figures('exp'))[1]!.missing, names(0, 50), 'a full list takes no more');
  });

  t.test('figures: the loss sums of tagged reports, 0 for a report without them, through the results', async (t) => {
    const opened = await engine.open(t);
    const { store } = opened;
    await store.upsertAgent(helloFor('a1', 'host-a1'), NOW);
    await store.experiments.createExperiment(experiment('exp', NOW), [host('exp', 'a1', 0)], created('exp'));
    const withLoss = (r: IncomingReport['message']['report']) => {
      const full = sampleReportWithLoss('host-a1');
      r.variants.forEach((v, side) => (v.loss = full.variants[side]!.loss!));
      r.truth = full.truth!;
    };
    await store.storeReports([
      tagged('a1', 1, 'exp'),
      tagged('a1', 2, 'exp', withLoss),
      tagged('a1', 3, 'exp', (r) => {
        withLoss(r);
        r.variants[1].loss = sampleLoss({ topCpu: { ranked: 10, visible: 7, missing: [] }, cpuConservation: 0.75, counterResets: 2 });
      }),
    ]);
    const [a, b] = await store.experiments.figures('exp');
    t.match(a!.loss, { lossN: 2, topCpuVisible: 20, topCpuRanked: 20, topCpuN: 2, flappingN: 2, appeared: 0, blindSpots: 2, blindSpotsN: 2 }, "the baseline's sums");
    t.same(b!.loss, {
      ...ZERO_LOSS, topCpuVisible: 16, topCpuRanked: 20, topCpuN: 2, topRssVisible: 20, topRssRanked: 20, topRssN: 2, cpuConservation: 1.7, cpuConservationN: 2,
      rssConservation: 1.94, rssConservationN: 2, lossN: 2, counterResets: 2, appeared: 4, vanished: 2, switched: 2, flappingMs: 30_000, flappingN: 2, blindSpots: 2, blindSpotsN: 2,
    }, "the candidate's: the report without loss figures added none");
    const reopened = await (await opened.reopen()).experiments.figures('exp');
    t.same(reopened[1]!.loss, b!.loss, 'kept in the store');
    const results = experimentResults(reopened, parseExperimentSpec({ name: 'x', baseline: { pipeline: 'baseline' }, candidate: { pipeline: 'lean' }, criteria: { topCpuCoverage: 8, cpuConservation: '10%' } }, 'definition'));
    t.same(results.criteria.map((c) => [c.name, c.value, c.met]), [['retention', 0, false], ['topCpuCoverage', 8, true], ['cpuConservation', 0.85, false]], 'judged from the stored sums');
  });
}
