// What the API shows of an experiment, read from a real store: the target as written, the summary's verdict (the
// outcome's once ended, asked for only while running), waves with their start times, the newest events, the
// hosts with their connection, and the passed template only on a pass.
import t, { type Test } from 'tap';
import path from 'node:path';
import type { AgentConnection } from '../../../hub/agent-connection.js';
import type { StoredDefinition } from '../../../hub/experiments/assignment.js';
import type { ExperimentHostRecord, ExperimentRecord } from '../../../hub/experiments/experiment-store.js';
import { parseExperimentSpec } from '../../../hub/experiments/spec.js';
import { describeTarget, experimentDetail, experimentSummary } from '../../../hub/experiments/views.js';
import { promised } from '../../../common/promised.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import type { SyncStore as Store } from '../../../hub/store/types.js';

const NOW = Date.UTC(2026, 5, 1);
const SHA = (c: string) => c.repeat(64);

function openStore(t: Test): Store {
  const store = openSqliteStore({ file: path.join(t.testdir(), 'hub.db') });
  t.teardown(() => store.close());
  return store;
}

const spec = parseExperimentSpec(
  {
    name: 'lean-test',
    baseline: { pipeline: 'baseline' },
    candidate: { pipeline: 'lean', parameters: { cpuThreshold: 0.1 } },
    target: { kind: 'vm', labels: ['env=prod', 'team in (a,b)'] },
    rollout: { canary: 1, waves: 1, hold: '1m' },
    duration: '2h',
  },
  'definition',
);
const stored: StoredDefinition = {
  definition: spec,
  templates: { baseline: { pipeline: 'baseline', sha256: SHA('0'), content: 'baseline text' }, candidate: { pipeline: 'lean', sha256: SHA('a'), content: 'lean text' } },
};

function record(state: ExperimentRecord['state'], over: Partial<ExperimentRecord> = {}): ExperimentRecord {
  return {
    id: 'e1', name: 'lean-test', description: 'fewer series', spec: JSON.stringify(stored), state, revision: 1,
    baseline: { pipeline: 'baseline', sha256: SHA('0') }, candidate: { pipeline: 'lean', sha256: SHA('a') },
    createdBy: 'alice', createdAt: NOW, startedAt: state === 'draft' ? null : NOW + 1000, endedAt: null, outcome: null, guard: null, ...over,
  };
}
const host = (agentId: string, order: number, over: Partial<ExperimentHostRecord> = {}): ExperimentHostRecord => ({
  experimentId: 'e1', agentId, hostId: `host-${agentId}`, order, wave: null, state: 'pending', message: null, updatedAt: NOW, healthySince: null, ...over,
});

t.test('describeTarget: as people write it', async (t) => {
  t.equal(describeTarget(spec.target), 'kind=vm, env=prod, team in (a,b)');
  t.equal(describeTarget({}), 'every host');
  t.equal(describeTarget({ labels: [{ name: 'tier', op: '!=', values: ['db'] }, { name: 'zone', op: 'notin', values: ['x', 'y'] }], hosts: ['h1'] }), 'tier!=db, zone notin (x,y), 1 named host');
  t.equal(describeTarget({ hosts: ['h1', 'h2'] }), '2 named hosts');
});

t.test('experimentSummary: host states counted, waves started, the verdict asked for only while running', async (t) => {
  const hosts = [host('a', 0, { wave: 0, state: 'measuring' }), host('b', 1, { wave: 1, state: 'applying' }), host('c', 2), host('d', 3)];
  let asked = 0;
  const verdict = () => {
    asked += 1;
    return 'failed' as const;
  };
  const running = experimentSummary(record('running'), hosts, verdict);
  t.match(running, {
    id: 'e1', state: 'running', verdict: 'failed', target: 'kind=vm, env=prod, team in (a,b)', hosts: 4,
    hostStates: { measuring: 1, applying: 1, pending: 2 }, waves: { started: 2, total: 4 },
    startedAt: new Date(NOW + 1000).toISOString(), endsAt: new Date(NOW + 1000 + 2 * 3600_000).toISOString(), endedAt: null,
  });
  t.equal(asked, 1);
  t.match(experimentSummary(record('draft'), hosts, verdict), { verdict: 'pending', startedAt: null, endsAt: null, waves: { started: 2 } });
  const ended = record('completed', { endedAt: NOW + 9000, outcome: JSON.stringify({ verdict: 'passed' }) });
  t.match(experimentSummary(ended, hosts, verdict), { verdict: 'passed', endedAt: new Date(NOW + 9000).toISOString() }, "an ended one's verdict is its outcome's");
  t.equal(asked, 1, 'not asked for a draft or an ended experiment');
});

t.test('experimentDetail: waves with their start, the newest events oldest first, hosts connected or not', async (t) => {
  const store = openStore(t);
  const x = store.experiments;
  const hosts = [host('a', 0, { wave: 0, state: 'measuring', healthySince: NOW + 2000 }), host('b', 1), host('c', 2)];
  x.createExperiment(record('running'), hosts, { experimentId: 'e1', at: NOW, kind: 'created', hostId: null, actor: 'alice', detail: '{}' });
  x.addEvent({ experimentId: 'e1', at: NOW + 1000, kind: 'wave', hostId: null, actor: null, detail: JSON.stringify({ wave: 0, hosts: ['host-a'] }) });
  for (let i = 0; i < 600; i++) x.addEvent({ experimentId: 'e1', at: NOW + 1001 + i, kind: 'host.measuring', hostId: 'host-a', actor: null, detail: JSON.stringify({ i }) });

  const detail = await experimentDetail(record('running'), hosts, { experiments: promised(store.experiments) }, new Map([['a', {} as AgentConnection]]));
  t.strictSame(detail.waves.list.map((w) => [w.wave, w.size, w.startedAt, w.results === null]), [
    [0, 1, new Date(NOW + 1000).toISOString(), false],
    [1, 1, null, true],
    [2, 1, null, true],
  ], 'canary 1, then waves of one host; only the started wave has results');
  t.equal(detail.events.length, 500, 'the newest 500 events');
  t.strictSame([detail.events[0]!.detail, detail.events.at(-1)!.detail], [{ i: 100 }, { i: 599 }], 'oldest first, up to the newest');
  t.strictSame(detail.hostList.map((h) => [h.hostId, h.wave, h.state, h.connected]), [['host-a', 0, 'measuring', true], ['host-b', null, 'pending', false], ['host-c', null, 'pending', false]]);
  t.equal(detail.hostList[0]!.healthySince, new Date(NOW + 2000).toISOString());
  t.match(detail, { verdict: 'pending', results: { verdict: 'pending', hosts: 0 }, description: 'fewer series', passed: null, outcome: null });
  t.match(detail.definition, { name: 'lean-test', rollout: { hold: 60_000 } }, 'the definition as accepted');
});

t.test('experimentDetail: the exact candidate that passed, only on a pass', async (t) => {
  const store = openStore(t);
  const connections = new Map<string, AgentConnection>();
  const passed = record('completed', { endedAt: NOW + 9000, outcome: JSON.stringify({ verdict: 'passed' }) });
  store.experiments.createExperiment(passed, [], { experimentId: 'e1', at: NOW, kind: 'created', hostId: null, actor: 'alice', detail: '{}' });
  t.strictSame((await experimentDetail(passed, [], { experiments: promised(store.experiments) }, connections)).passed, {
    pipeline: 'lean',
    sha256: SHA('a'),
    content: 'lean text',
    parameters: { collectionInterval: 10_000, metricExpiration: 60_000, cpuThreshold: 0.1, memoryThresholdBytes: 256 * 1024 * 1024, criticalPatterns: spec.critical.patterns },
  });
  const failed = record('completed', { endedAt: NOW + 9000, outcome: JSON.stringify({ verdict: 'failed' }) });
  t.equal((await experimentDetail(failed, [], { experiments: promised(store.experiments) }, connections)).passed, null, 'failed: nothing offered');
  const stopped = record('stopped', { endedAt: NOW + 9000, outcome: JSON.stringify({ verdict: 'stopped', by: 'bob' }) });
  t.match(await experimentDetail(stopped, [], { experiments: promised(store.experiments) }, connections), { passed: null, verdict: 'stopped', outcome: { by: 'bob' } });
});
