// Experiments end to end: a real hub and three real agents (real collectors, loopback), labelled differently. An
// experiment reaches only the hosts it targets, its canary widens after the hold time, a candidate that drops a
// running critical process is aborted by the guardrail, a candidate the collector refuses fails on every host with
// the collector's message while the previous pair runs on, and a template that would send data away is refused.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../common/logger.js';
import { hubRoutes } from '../../hub/http/routes.js';
import type { ExperimentDetail, ExperimentResponse, PipelineResponse } from '../../hub/http/experiment-types.js';
import { startSimulator } from '../../tools/simulator/simulator.js';
import { agentConfigFor, builtinTemplate, startTestAgent, startTestHub, type TestAgent } from '../helpers/assignment.js';
import { apiToken, bearer } from '../helpers/hub-api.js';
import { isAlive, waitFor } from '../helpers/process.js';

const ALLOWLIST = readFileSync(fileURLToPath(new URL('../fixtures/pipelines/allowlist-without-postgres.yaml', import.meta.url)), 'utf8');
const HOSTS = [
  { id: 'web-1', labels: { env: 'prod', tier: 'web' } },
  { id: 'db-1', labels: { env: 'prod', tier: 'db' } },
  { id: 'stage-1', labels: { env: 'staging', tier: 'web' } },
];

t.test('experiments across three agents', { timeout: 900_000 }, async (t) => {
  const simulator = await startSimulator({ count: 6, criticalNames: ['sshd', 'postgres'], namePrefix: 'phx-exp', logger: silentLogger() });
  t.teardown(() => simulator.close());
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const token = await apiToken(hub, 'experimenter');
  const call = async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${hub.url}${path}`, {
      method,
      headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  const experiment = async (id: string) => (await call<ExperimentResponse>('GET', `/api/v1/experiments/${id}`)).body.experiment;
  const until = (id: string, what: string, pred: (e: ExperimentDetail) => boolean, ms = 180_000) =>
    waitFor(what, async () => {
      const e = await experiment(id);
      return pred(e) ? e : null;
    }, ms, 250);

  const agents: TestAgent[] = [];
  for (const host of HOSTS) {
    // Critical means the two simulated processes, so a loss is exact whatever else runs on this machine.
    const { file } = await agentConfigFor(t, hub, { host, critical: { patterns: ['sshd', 'postgres'] }, pipeline: { collectionInterval: '1s', metricExpiration: '10s' } });
    agents.push(await startTestAgent(t, file));
  }
  await waitFor('three agents said hello', () => hub.connections.size === 3 && [...hub.connections.values()].every((c) => c.manageable), 60_000);
  const [web, db, stage] = agents as [TestAgent, TestAgent, TestAgent];

  await t.test('a template that adds an exporter to a remote address is refused at upload, naming the line', async (t) => {
    const evil = builtinTemplate('optimized-b').replace('exporters:\n', 'exporters:\n  otlp:\n    endpoint: 203.0.113.5:4317\n');
    const { status, body } = await call<{ error: string; message: string }>('POST', '/api/v1/pipelines', { name: 'evil', content: evil });
    t.equal(status, 400);
    const line = evil.split('\n').findIndex((l) => l.includes('otlp:')) + 1;
    t.match(body.message, new RegExp(`evil:${line}: .*otlp`), `names line ${line} and the exporter: ${body.message}`);
  });

  await t.test('targeting env=prod with a canary of 1: only web-1 and db-1, the second after the hold; tagged reports', async (t) => {
    const definition = {
      name: 'prod-trim',
      baseline: { pipeline: 'baseline' },
      candidate: { pipeline: 'optimized-b' },
      critical: { patterns: ['sshd', 'postgres'] },
      parameters: { collectionInterval: '1s', metricExpiration: '10s' },
      target: { labels: ['env=prod'] },
      rollout: { canary: 1, waves: 1, hold: '6s' },
    };
    const created = await call<ExperimentResponse>('POST', '/api/v1/experiments', { definition });
    t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
    const id = created.body.experiment.id;
    t.equal(created.body.experiment.state, 'running');
    t.same(created.body.experiment.hostList.map((h) => h.hostId).sort(), ['db-1', 'web-1'], 'the two prod hosts, not staging');
    t.equal(created.body.experiment.waves.total, 2, 'a canary and one more wave');
    const canary = await until(id, 'the canary measuring', (e) => e.hostList.some((h) => h.state === 'measuring'));
    const first = canary.hostList.find((h) => h.state === 'measuring')!;
    t.equal(first.wave, 0);
    t.ok(canary.hostList.every((h) => h.hostId === first.hostId || h.wave === null), 'the other host waits for its wave');
    const widened = await until(id, 'the second wave measuring', (e) => e.hostList.every((h) => h.state === 'measuring'));
    const secondWave = widened.waves.list[1]!;
    t.ok(Date.parse(secondWave.startedAt!) - Date.parse(widened.waves.list[0]!.startedAt!) >= 6000, 'widened only after the 6 s hold');
    for (const a of [web, db]) await a.nextReport((r) => r.experiment?.id === id, 'a tagged report on a prod host');
    const staged = await stage.nextReport(() => true, 'a report on staging');
    t.notOk(staged.experiment, 'staging never ran it');

    const stopped = await call<ExperimentResponse>('POST', `/api/v1/experiments/${id}/stop`, {});
    t.equal(stopped.body.experiment.state, 'stopped');
    t.match(stopped.body.experiment.outcome, { stoppedBy: 'test-experimenter' });
    for (const a of [web, db]) await a.nextReport((r) => !r.experiment, 'the own pair again');
    t.ok(widened.events.some((e) => e.kind === 'wave'), 'the waves are events');
  });

  await t.test('a candidate that drops the running postgres is aborted by the guardrail, naming host and process', async (t) => {
    const upload = await call<PipelineResponse>('POST', '/api/v1/pipelines', { name: 'no-postgres', content: ALLOWLIST });
    t.equal(upload.status, 201, JSON.stringify(upload.body).slice(0, 300));
    const definition = {
      name: 'forgot-postgres',
      baseline: { pipeline: 'baseline' },
      candidate: { pipeline: 'no-postgres' },
      critical: { patterns: ['sshd', 'postgres'] },
      parameters: { collectionInterval: '1s', metricExpiration: '10s' },
      target: { hosts: ['db-1'] },
      guardrails: { criticalLossReports: 2 },
    };
    const created = await call<ExperimentResponse>('POST', '/api/v1/experiments', { definition });
    t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
    const aborted = await until(created.body.experiment.id, 'aborted', (e) => e.state === 'aborted');
    t.match(aborted.outcome, { guardrail: 'criticalLoss', hostIds: ['db-1'], processes: ['postgres'] });
    t.equal(aborted.hostList[0]!.state, 'rolled-back');
    const back = await db.nextReport((r) => !r.experiment, 'db-1 on its own pair again');
    t.same(back.variants.map((v) => v.name), ['baseline', 'optimized-a']);
    const inUse = await call<{ message: string }>('DELETE', '/api/v1/pipelines/no-postgres');
    t.equal(inUse.status, 409, 'a template an experiment used cannot be deleted');
    t.match(inUse.body.message, /forgot-postgres/);
  });

  await t.test('a candidate the collector refuses fails on every host with its message; the previous pairs run on', async (t) => {
    const refused = builtinTemplate('optimized-b').replace('  batch: {}', '  batch:\n    no_such_setting: 1');
    t.equal((await call('POST', '/api/v1/pipelines', { name: 'bad-batch', content: refused })).status, 201, 'the policy allows it: only the collector can tell');
    const before = agents.map((a) => a.pids());
    const definition = {
      name: 'bad-batch-everywhere',
      baseline: { pipeline: 'baseline' },
      candidate: { pipeline: 'bad-batch' },
      target: { kind: 'vm' },
      rollout: { canary: '100%' },
      guardrails: { failedHosts: 3 },
    };
    const created = await call<ExperimentResponse>('POST', '/api/v1/experiments', { definition });
    t.equal(created.status, 201, JSON.stringify(created.body).slice(0, 300));
    const ended = await until(created.body.experiment.id, 'aborted after three failures', (e) => e.state === 'aborted');
    t.equal(ended.hostList.length, 3);
    for (const host of ended.hostList) {
      t.equal(host.state, 'failed', `${host.hostId} failed`);
      t.match(host.message, /no_such_setting/, `with the collector's message: ${host.message}`);
    }
    t.same(agents.map((a) => a.pids()), before, 'the same collectors run on every host');
    t.ok(before.flat().every(isAlive));
  });
});
