// Experiments across hub replicas on one PostgreSQL database (issue 16): an experiment created on replica A reaches
// an agent connected to replica B (real agents with real collectors, real hub processes), its second wave starts on
// the hosts of both replicas once the canary held, it is measured from both, and a stop on A withdraws it from the
// agent on B, which goes back to its own pair; and a host whose candidate loses a critical process on B, then on A,
// trips the guardrail by the reports both stored (the store keeps the count).
import t from 'tap';
import { writeTestConfig } from '../helpers/agent-config.js';
import { setTimeout as delay } from 'node:timers/promises';
import type { FleetResponse } from '../../hub/http/types.js';
import type { Hello } from '../../protocol/messages.js';
import { AGENT_TOKEN, startTestAgent, type TestAgent } from '../helpers/assignment.js';
import { experimentApi, testDefinition } from '../helpers/experiment-api.js';
import { latestReport } from '../helpers/hub-api.js';
import { replicaSetups, startHubProcess, type HubProcessSetup } from '../helpers/phoenix-processes.js';
import { startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/process.js';
import { helloFor, openSocket, reportFor, type TestSocket } from '../helpers/ws-client.js';

t.test('an experiment created on A reaches the agents on B; stopped on A, it is withdrawn from them', { timeout: 300_000 }, async (t) => {
  const server = await startPostgres(t);
  const [a, b] = await replicaSetups(t.testdir(), server.url, 2);
  await Promise.all([a, b].map((s) => startHubProcess(t, s!)));
  const apiA = experimentApi({ url: a!.url, token: a!.adminToken });
  const apiB = experimentApi({ url: b!.url, token: b!.adminToken });

  // One agent on each replica.
  const agents = new Map<string, TestAgent>();
  for (const [host, replica] of [['on-a', a!], ['on-b', b!]] as const) {
    const { file } = await writeTestConfig(t, {
      interval: '2s',
      host: { id: host, labels: { suite: 'replicas' } },
      pipeline: { collectionInterval: '1s', metricExpiration: '10s' },
      hub: { url: replica.agentUrl },
    });
    agents.set(host, await startTestAgent(t, file));
  }
  const target = { url: a!.url, token: a!.adminToken };
  await waitFor('both hosts known', async () => (await Promise.all(['on-a', 'on-b'].map((h) => latestReport(target, h)))).every((r) => r !== null), 90_000, 250);

  // The canary is the host on B when the rollout order puts it first; either way the second wave is the other one.
  const created = await apiA.create(testDefinition({ name: 'replicas', target: { labels: ['suite=replicas'] }, rollout: { canary: 1, waves: 1, hold: '4s' } }));
  const id = created.id;
  t.equal(created.state, 'running', 'created and started on A');
  const both = await apiA.until(id, 'both hosts measuring (the second wave started once the canary held)', (e) => e.hostList.every((h) => h.state === 'measuring'));
  t.equal(both.waves.started, 2, 'both waves started');
  for (const host of ['on-a', 'on-b']) {
    const tagged = await agents.get(host)!.nextReport((r) => r.experiment?.id === id, `${host}: a tagged report`);
    t.equal(tagged.variants[1]!.name, 'optimized-b', `${host} runs the candidate`);
  }
  // Each replica holds the states of its own agents' hosts; both read every host's from the store.
  const onB = await apiB.until(id, 'B shows both hosts measuring', (e) => e.hostList.every((h) => h.state === 'measuring'), 30_000);
  t.same(onB.hostList.map((h) => h.state), ['measuring', 'measuring'], 'B shows it the same');
  await waitFor('tagged reports of both hosts in the figures', async () => (await apiB.get(id)).results.hosts === 2, 60_000, 500);

  const stopped = await apiA.stop(id);
  t.equal(stopped.state, 'stopped', 'stopped on A');
  const own = await agents.get('on-b')!.nextReport((r) => !r.experiment, 'the agent on B back on its own pair', 60_000);
  t.same(own.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'withdrawn from the agent on B: its own pair again');
  t.match(agents.get('on-b')!.agent.status().experiment.last, { experimentId: id, state: 'reverted' }, 'it reverted the assignment');
  t.equal((await apiB.get(id)).state, 'stopped', 'and B says so');
});

t.test("a host's lost reports count towards the guardrail across replicas: 2 on B, then 1 on A, abort at 3", { timeout: 300_000 }, async (t) => {
  const server = await startPostgres(t);
  const [a, b] = await replicaSetups(t.testdir(), server.url, 2);
  await Promise.all([a, b].map((s) => startHubProcess(t, s!)));
  const api = experimentApi({ url: a!.url, token: a!.adminToken });
  const hello: Hello = { ...helloFor('mover', 'mover', { suite: 'guard' }), v: 2, experiments: { accepts: true, reason: null, current: null } };
  /** The agent on `replica`: its hello, then the applied status of each assignment it is sent. */
  const connect = async (replica: HubProcessSetup) => {
    const socket = await openSocket(replica.agentUrl, AGENT_TOKEN);
    t.teardown(() => socket.ws.close());
    socket.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; assignment?: { experimentId: string; revision: number } };
      if (m.type !== 'assign' || !m.assignment) return;
      const status = { experimentId: m.assignment.experimentId, revision: m.assignment.revision, state: 'applied' as const, message: null, at: new Date().toISOString() };
      socket.ws.send(JSON.stringify({ type: 'status', v: 2, status }));
    });
    socket.ws.send(JSON.stringify(hello));
    return socket;
  };
  /** A tagged report in which the candidate lost postgres (the baseline shows every critical process). */
  const lossy = (id: string, seq: number) => {
    const m = { ...reportFor('mover', seq), v: 2 };
    m.report.experiment = { id, revision: 1 };
    m.report.variants[0].criticalMissing = [];
    m.report.variants[1].criticalMissing = ['postgres'];
    return m;
  };
  const send = async (socket: TestSocket, id: string, seq: number) => {
    socket.ws.send(JSON.stringify(lossy(id, seq)));
    await socket.waitForMessage((m) => m.type === 'ack' && m.seq === seq, 30_000);
  };

  const onB = await connect(b!);
  await waitFor('the agent known to the store', async () => (await fetch(`${a!.url}/api/v1/fleet`, { headers: { authorization: `Bearer ${a!.adminToken}` } }).then((r) => r.json() as Promise<FleetResponse>)).hosts.length === 1, 30_000, 200);
  const created = await api.create(testDefinition({ name: 'guard', target: { hosts: ['mover'] }, rollout: { canary: '100%' }, guardrails: { criticalLossReports: 3 } }));
  const id = created.id;
  await api.until(id, 'the host measuring (applied on B)', (e) => e.hostList[0]?.state === 'measuring', 60_000);
  for (const seq of [1, 2]) await send(onB, id, seq);
  await delay(2_500); // ticks of whichever replica leads: 2 in a row is below the guardrail
  t.equal((await api.get(id)).state, 'running', '2 lost reports on B: still running');

  // The agent moves to A (B's socket closed), which has seen none of its reports; one more lost report there.
  onB.ws.close();
  await onB.closed;
  const onA = await connect(a!);
  await onA.waitForMessage((m) => m.type === 'assign', 30_000);
  await send(onA, id, 3);
  const aborted = await api.until(id, 'aborted by the guardrail', (e) => e.state !== 'running', 30_000);
  t.equal(aborted.state, 'aborted');
  t.match(aborted.outcome, { guardrail: 'criticalLoss', hostIds: ['mover'], processes: ['postgres'], detail: /for 3 reports in a row/ }, 'the 3 reports counted over both replicas');
  await onA.waitForMessage((m) => m.type === 'withdraw' && m.experimentId === id, 30_000);
});
