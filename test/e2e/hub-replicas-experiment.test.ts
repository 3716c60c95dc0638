// Experiments across hub replicas on one PostgreSQL database (issue 16): an experiment created on replica A reaches
// an agent connected to replica B (real agents with real collectors, real hub processes), its second wave starts on
// the hosts of both replicas once the canary held, it is measured from both, and a stop on A withdraws it from the
// agent on B, which goes back to its own pair.
import t from 'tap';
import { writeTestConfig } from '../helpers/agent-config.js';
import { startTestAgent, type TestAgent } from '../helpers/assignment.js';
import { experimentApi, testDefinition } from '../helpers/experiment-api.js';
import { latestReport } from '../helpers/hub-api.js';
import { replicaSetups, startHubProcess } from '../helpers/phoenix-processes.js';
import { startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/process.js';

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
