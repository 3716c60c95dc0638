// The experiments engine in-process on a real store, with agents standing in for connections: creation and its
// refusals, the first wave assigned, statuses moving hosts, waves widened only after the hold, the end on time with
// withdrawals, guardrails aborting, a v1 agent refused, and a new engine resuming what the store holds.
import t, { type Test } from 'tap';
import path from 'node:path';
import { silentLogger } from '../../../common/logger.js';
import type { Assignment, AssignmentStatus } from '../../../protocol/assignment.js';
import type { Hello, ReportMessage } from '../../../protocol/messages.js';
import { Access } from '../../../hub/access/access.js';
import type { AgentConnection } from '../../../hub/agent-connection.js';
import { PipelineCatalog } from '../../../hub/experiments/catalog.js';
import { ExperimentEngine } from '../../../hub/experiments/engine.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import type { SyncStore as Store } from '../../../hub/store/types.js';
import { asyncStore } from '../../../hub/store/async-store.js';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '../../helpers/process.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

const ALICE = { name: 'alice', role: 'experimenter' as const, remote: '127.0.0.1' };

/** Stands in for an agent's connection: what the engine sent it. */
class FakeAgent {
  readonly assigned: Assignment[] = [];
  readonly withdrawn: { experimentId: string; reason: string }[] = [];
  constructor(readonly hello: Hello, readonly manageable = true) {}
  get unmanageableReason(): string | null {
    return this.manageable ? null : (this.hello.experiments?.reason ?? null);
  }
  assign(a: Assignment): boolean {
    this.assigned.push(a);
    return true;
  }
  withdraw(experimentId: string, reason: string): boolean {
    this.withdrawn.push({ experimentId, reason });
    return true;
  }
}

interface Rig {
  store: Store;
  engine: ExperimentEngine;
  agents: Map<string, FakeAgent>;
  connections: Map<string, AgentConnection>;
  /** A new engine on the same store and connections (a hub closed and started again). */
  restart(): Promise<ExperimentEngine>;
}

async function rig(t: Test, hosts: { id: string; labels?: Record<string, string>; v1?: boolean }[], withdrawUnknown = true): Promise<Rig> {
  const store = openSqliteStore({ file: path.join(t.testdir(), 'hub.db') });
  const agents = new Map<string, FakeAgent>();
  const connections = new Map<string, AgentConnection>();
  for (const h of hosts) {
    const hello: Hello = { ...helloFor(`agent-${h.id}`, h.id, h.labels ?? {}), v: 2, experiments: { accepts: !h.v1, reason: h.v1 ? 'experiments: false' : null, current: null } };
    store.upsertAgent(hello, Date.now());
    const agent = new FakeAgent(hello, !h.v1);
    agents.set(h.id, agent);
    connections.set(hello.agentId, agent as unknown as AgentConnection);
  }
  const shared = asyncStore(store);
  const make = () =>
    ExperimentEngine.open({ store: shared, catalog: new PipelineCatalog(shared.experiments), connections, access: new Access({ store: shared.access, logger: silentLogger() }), logger: silentLogger(), withdrawUnknown });
  const r: Rig = {
    store,
    engine: await make(),
    agents,
    connections,
    restart: async () => {
      await r.engine.close();
      return (r.engine = await make());
    },
  };
  t.teardown(async () => {
    await r.engine.close();
    store.close();
  });
  return r;
}

const definition = (extra: Record<string, unknown> = {}) => ({ name: 'lean', baseline: { pipeline: 'baseline' }, candidate: { pipeline: 'optimized-a' }, ...extra });
const status = (experimentId: string, state: AssignmentStatus['state'], message: string | null = null): AssignmentStatus => ({ experimentId, revision: 1, state, message, at: new Date().toISOString() });
/** A tagged report whose candidate misses `candidateMissing` and baseline `baselineMissing`. */
function tagged(hostId: string, experimentId: string, candidateMissing: string[] = [], baselineMissing: string[] = []): ReportMessage {
  const m = reportFor(hostId, 1);
  m.report.experiment = { id: experimentId, revision: 1 };
  m.report.variants[0].criticalMissing = baselineMissing;
  m.report.variants[1].criticalMissing = candidateMissing;
  return m;
}
/** Which hosts the engine assigned `id` to. */
const assignedHosts = (r: Rig, id: string) => [...r.agents].filter(([, a]) => a.assigned.some((x) => x.experimentId === id)).map(([h]) => h).sort();

t.test('create: refusals name the problem; a draft holds the targeted hosts, pending', async (t) => {
  const r = await rig(t, [{ id: 'web-1', labels: { env: 'prod' } }, { id: 'web-2', labels: { env: 'prod' } }, { id: 'dev-1', labels: { env: 'dev' } }]);
  await t.rejects(r.engine.create(ALICE, definition({ rollout: { canary: 0 } }), { start: false }), { status: 400, message: /rollout\.canary/ });
  await t.rejects(r.engine.create(ALICE, definition({ target: { labels: ['env=none'] } }), { start: false }), { status: 400, message: 'target: it matches none of the hosts this hub knows' });
  await t.rejects(r.engine.create(ALICE, definition({ candidate: { pipeline: 'nothing' } }), { start: false }), { status: 400, message: /^definition: candidate\.pipeline: no template 'nothing'/ });
  const draft = await r.engine.create(ALICE, 'name: lean\nbaseline: {pipeline: baseline}\ncandidate: {pipeline: optimized-b}\ntarget: {labels: ["env==prod"]}\n', { start: false });
  t.match(draft, { state: 'draft', name: 'lean', hosts: 2, hostStates: { pending: 2 }, createdBy: 'alice', candidate: { pipeline: 'optimized-b' } });
  t.strictSame(draft.hostList.map((h) => h.hostId).sort(), ['web-1', 'web-2']);
  t.equal(r.agents.get('web-1')!.assigned.length, 0, 'a draft assigns nothing');
  await t.rejects(r.engine.detail('no-such'), { status: 404, message: "no experiment 'no-such'" });
  await t.rejects(r.engine.stop(ALICE, draft.id), { status: 409, message: `experiment '${draft.id}' is draft; only a running experiment can be stopped` });

  await r.engine.start(ALICE, draft.id);
  await t.rejects(r.engine.start(ALICE, draft.id), { status: 409, message: /is running; only a draft can be started/ });
  await t.rejects(r.engine.create(ALICE, definition({ target: { hosts: ['web-2', 'dev-1'] } }), { start: false }), { status: 409, message: new RegExp(`overlaps running experiment '${draft.id}' \\(lean\\) on 1 host: web-2`) });
  t.match(await r.engine.create(ALICE, definition({ target: { labels: ['env=dev'] } }), { start: true }), { state: 'running', hosts: 1 }, 'a target apart from it may run');
  const actions = r.store.access.audit({ limit: 10 }).map((a) => `${a.action} ${a.actor}`);
  t.same(actions.filter((a) => a.startsWith('experiment.')).sort(), ['experiment.create alice', 'experiment.create alice', 'experiment.start alice', 'experiment.start alice'], 'each write in the audit trail');
});

t.test('rollout: the canary first; the next wave only once its hosts held the criteria for the hold time', async (t) => {
  const r = await rig(t, ['a', 'b', 'c'].map((id) => ({ id })));
  const { id } = await r.engine.create(ALICE, definition({ rollout: { canary: 1, waves: 2, hold: '1m' } }), { start: true });
  const canary = assignedHosts(r, id);
  t.equal(canary.length, 1, 'one host assigned');
  const agentId = `agent-${canary[0]}`;
  const assignment = r.agents.get(canary[0]!)!.assigned[0]!;
  t.match(assignment, { experimentId: id, revision: 1, endsAt: null, variants: [{ name: 'baseline' }, { name: 'optimized-a' }] });
  t.match(assignment.variants[1].sha256, /^[0-9a-f]{64}$/);

  r.engine.onStatus(agentId, status(id, 'applying'));
  t.equal((await r.engine.detail(id)).hostList.find((h) => h.agentId === agentId)!.state, 'applying');
  r.engine.onStatus(agentId, status(id, 'applied'));
  t.equal((await r.engine.detail(id)).hostList.find((h) => h.agentId === agentId)!.state, 'measuring');
  await r.engine.tick(Date.now() + 120_000);
  t.equal(assignedHosts(r, id).length, 1, 'no report yet: not healthy, no widening');

  r.engine.onReport(agentId, tagged(canary[0]!, id));
  await r.engine.tick(Date.now() + 30_000);
  t.equal(assignedHosts(r, id).length, 1, 'healthy for less than the hold: no widening');
  await r.engine.tick(Date.now() + 61_000);
  t.equal(assignedHosts(r, id).length, 3, 'held for the hold: the next wave (the other two) assigned');
  const detail = await r.engine.detail(id);
  t.match(detail.waves, { started: 2, total: 2 });
  t.ok(detail.events.some((e) => e.kind === 'wave' && (e.detail as { wave: number }).wave === 1), 'the wave is an event');
});

t.test('the end on time: completed with its verdict, every started host withdrawn and done', async (t) => {
  const r = await rig(t, [{ id: 'a' }, { id: 'b' }]);
  const { id } = await r.engine.create(ALICE, definition({ rollout: { canary: '100%' }, duration: '1h' }), { start: true });
  for (const h of ['a', 'b']) {
    r.engine.onStatus(`agent-${h}`, status(id, 'applied'));
    r.engine.onReport(`agent-${h}`, tagged(h, id));
  }
  await r.engine.tick(Date.now() + 3_599_000);
  t.equal((await r.engine.detail(id)).state, 'running', 'not yet');
  await r.engine.tick(Date.now() + 3_601_000);
  const done = await r.engine.detail(id);
  t.match(done, { state: 'completed', hostStates: { done: 2 } });
  // The figures are the store's, written when ingest stores tagged reports; none were stored here.
  t.match(done, { verdict: 'failed', outcome: { verdict: 'failed', summary: 'failed, not judged by its end: no host has measured both variants yet' } }, 'not judged by its end: failed');
  t.strictSame(r.agents.get('a')!.withdrawn, [{ experimentId: id, reason: 'the experiment was completed' }]);
  t.ok(done.events.some((e) => e.kind === 'completed' && e.actor === 'phoenix'), 'ended by the hub, as an event');
  t.equal((await r.engine.list()).find((e) => e.id === id)!.verdict, done.verdict, "the list's verdict is the outcome's");
});

t.test('stop: by whom, the hosts rolled back and withdrawn', async (t) => {
  const r = await rig(t, [{ id: 'a' }]);
  const { id } = await r.engine.create(ALICE, definition(), { start: true });
  const stopped = await r.engine.stop({ name: 'bob', role: 'admin', remote: null }, id);
  t.match(stopped, { state: 'stopped', verdict: 'stopped', outcome: { stoppedBy: 'bob' }, hostStates: { 'rolled-back': 1 } });
  t.equal(r.agents.get('a')!.withdrawn.length, 1);
  t.ok(stopped.events.some((e) => e.kind === 'stopped' && e.actor === 'bob'));
});

t.test('guardrails: a candidate that fails to start, and a critical process lost for K reports in a row', async (t) => {
  const r = await rig(t, [{ id: 'a' }, { id: 'b' }, { id: 'c' }]);
  const failing = await r.engine.create(ALICE, definition({ rollout: { canary: '100%' }, guardrails: { failedHosts: 1 }, target: { hosts: ['a'] } }), { start: true });
  r.engine.onStatus('agent-a', status(failing.id, 'failed', "'processors' has invalid keys: nope"));
  t.match(await r.engine.detail(failing.id), { state: 'aborted', outcome: { guardrail: 'failedHosts', hostIds: ['a'] }, hostList: [{ state: 'failed', message: "'processors' has invalid keys: nope" }] });

  const lossy = await r.engine.create(ALICE, definition({ rollout: { canary: '100%' }, guardrails: { criticalLossReports: 2 }, target: { hosts: ['b', 'c'] } }), { start: true });
  for (const h of ['b', 'c']) r.engine.onStatus(`agent-${h}`, status(lossy.id, 'applied'));
  for (let i = 0; i < 5; i++) r.engine.onReport('agent-c', tagged('c', lossy.id, ['sshd'], ['sshd']));
  t.equal((await r.engine.detail(lossy.id)).state, 'running', 'a process the baseline does not show either is no loss of the candidate');
  r.engine.onReport('agent-b', tagged('b', lossy.id, ['postgres']));
  r.engine.onReport('agent-b', tagged('b', lossy.id, []));
  r.engine.onReport('agent-b', tagged('b', lossy.id, ['postgres']));
  t.equal((await r.engine.detail(lossy.id)).state, 'running', 'not in a row');
  r.engine.onReport('agent-b', tagged('b', lossy.id, ['postgres']));
  t.match(await r.engine.detail(lossy.id), { state: 'aborted', outcome: { guardrail: 'criticalLoss', hostIds: ['b'], processes: ['postgres'] } });
  t.equal(r.agents.get('c')!.withdrawn.length, 1, 'every host withdrawn');
});

t.test('a v1 agent is refused, an unknown applied experiment withdrawn', async (t) => {
  const r = await rig(t, [{ id: 'old', v1: true }, { id: 'new' }]);
  const { id } = await r.engine.create(ALICE, definition({ rollout: { canary: '100%' } }), { start: true });
  t.match((await r.engine.detail(id)).hostList.find((h) => h.hostId === 'old'), { state: 'refused', message: 'experiments: false' });
  t.equal(r.agents.get('old')!.assigned.length, 0);
  r.engine.onStatus('agent-new', status('gone-1234abcd', 'applied'));
  t.strictSame(r.agents.get('new')!.withdrawn, [{ experimentId: 'gone-1234abcd', reason: 'the experiment is not running' }]);
});

t.test('a new engine on the same store resumes: waves kept, an applied agent measured without a resend', async (t) => {
  const r = await rig(t, [{ id: 'a' }, { id: 'b' }]);
  const { id } = await r.engine.create(ALICE, definition({ rollout: { canary: 1, waves: 1, hold: '1m' } }), { start: true });
  const [first] = assignedHosts(r, id);
  r.engine.onStatus(`agent-${first}`, status(id, 'applied'));
  r.engine.onReport(`agent-${first}`, tagged(first!, id));
  await r.engine.tick(Date.now());

  const engine = await r.restart();
  t.match(await engine.detail(id), { state: 'running', waves: { started: 1, total: 2 } });
  const agent = r.agents.get(first!)!;
  const sent = agent.assigned.length;
  (agent as { hello: Hello }).hello = { ...agent.hello, experiments: { accepts: true, reason: null, current: status(id, 'applied') } };
  engine.onHello(`agent-${first}`, agent as unknown as AgentConnection);
  t.equal(agent.assigned.length, sent, 'it runs the assignment already: nothing resent');
  await engine.tick(Date.now() + 61_000);
  t.equal(assignedHosts(r, id).length, 2, 'the hold counted from before the restart: the next wave');
  t.equal((await engine.stop(ALICE, id)).state, 'stopped', 'and it can be stopped');
});

t.test('a wave of hundreds is sent 50 hosts at a time, 25 ms apart; a stop halts the rest', async (t) => {
  const r = await rig(t, Array.from({ length: 120 }, (_, i) => ({ id: `h${String(i).padStart(3, '0')}` })));
  const { id } = await r.engine.create(ALICE, definition({ rollout: { canary: '100%' } }), { start: true });
  t.equal(assignedHosts(r, id).length, 50, 'the first 50 at once');
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(assignedHosts(r, id).length, 50, 'not the next turn of the event loop');
  await waitFor('the next 50', () => assignedHosts(r, id).length === 100, 2000, 5);
  await waitFor('all of them', () => assignedHosts(r, id).length === 120, 2000, 5);

  const second = await r.restart();
  await second.stop(ALICE, id);
  const other = await second.create(ALICE, definition({ name: 'again', rollout: { canary: '100%' } }), { start: true });
  await second.stop(ALICE, other.id);
  await delay(100);
  t.equal(assignedHosts(r, other.id).length, 50, 'stopped after the first slice: nothing more sent');
});
