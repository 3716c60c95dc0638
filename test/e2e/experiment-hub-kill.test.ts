// The hub process killed with SIGKILL mid-experiment (issue 14, §6): restarted on the same data dir it resumes the
// running experiment where it was (its id, its started wave, the hold under way), widens to the next wave after the
// restart and can still be stopped; meanwhile the agents run on with the same collectors, and what they report
// tagged is stored by the restarted hub. Two real in-process agents with real collectors; the hub is a real process.
import t from 'tap';
import { writeTestConfig } from '../helpers/agent-config.js';
import { startTestAgent, type TestAgent } from '../helpers/assignment.js';
import { experimentApi, testDefinition } from '../helpers/experiment-api.js';
import { latestReport } from '../helpers/hub-api.js';
import { hubProcessSetup, startHubProcess } from '../helpers/phoenix-processes.js';
import { isAlive, waitFor } from '../helpers/process.js';

const HOSTS = ['hub-kill-1', 'hub-kill-2'];
/** Long enough that the second wave cannot start before the kill, short enough to keep the test brief. */
const HOLD_MS = 20_000;

t.test('the hub killed with SIGKILL mid-experiment: it resumes the experiment; the agents carry on with the same collectors', { timeout: 220_000 }, async (t) => {
  const setup = await hubProcessSetup(t.testdir());
  const first = await startHubProcess(t, setup);
  const api = experimentApi({ url: setup.url, token: setup.adminToken });
  const target = { url: setup.url, token: setup.adminToken };

  const agents = new Map<string, TestAgent>();
  for (const id of HOSTS) {
    const { file } = await writeTestConfig(t, {
      interval: '2s',
      host: { id, labels: { suite: 'hub-kill' } },
      pipeline: { collectionInterval: '1s', metricExpiration: '10s' },
      hub: { url: setup.agentUrl },
    });
    agents.set(id, await startTestAgent(t, file));
  }
  // The hub knows a host once it stored its hello (and the report after it).
  await waitFor('both hosts known to the hub', async () => (await Promise.all(HOSTS.map((h) => latestReport(target, h)))).every((r) => r !== null), 90_000, 250);

  const created = await api.create(testDefinition({ name: 'hub-kill', target: { labels: ['suite=hub-kill'] }, rollout: { canary: 1, waves: 1, hold: `${HOLD_MS / 1000}s` } }));
  const id = created.id;
  t.equal(created.state, 'running');
  t.equal(created.waves.total, 2, 'a canary and one more wave');

  const held = await api.until(id, 'the canary measuring and holding', (e) => e.hostList.some((h) => h.state === 'measuring' && h.healthySince !== null));
  const canaryHost = held.hostList.find((h) => h.wave === 0)!;
  const otherHost = held.hostList.find((h) => h.wave === null)!;
  const canary = agents.get(canaryHost.hostId)!;
  const other = agents.get(otherHost.hostId)!;
  const tagged = await canary.nextReport((r) => r.experiment?.id === id, 'a tagged report from the canary');
  const canaryPids = canary.pids();
  const otherPids = other.pids();
  t.same(tagged.variants.map((v) => v.pid).sort(), canaryPids, 'the canary reports its assigned pair');
  const canaryWord = canary.agent.status().experiment.last;
  t.match(canaryWord, { experimentId: id, revision: 1, state: 'applied' });

  const before = await api.get(id);
  t.equal(before.waves.list[1]!.startedAt, null, 'killed before the second wave started');
  await first.kill9();
  const killedAt = Date.now();
  for (const a of agents.values()) await waitFor('the agents see the hub gone', () => a.agent.status().hub?.state !== 'connected', 30_000);
  const offline = await canary.nextReport((r) => r.experiment?.id === id, 'a tagged report made while the hub is down');
  t.ok(Date.parse(offline.generatedAt) > killedAt, 'the canary measures its assigned pair with the hub down');

  const second = await startHubProcess(t, setup);
  const restartedAt = Date.now();
  const resumed = await api.get(id);
  t.equal(resumed.id, id, 'the same experiment');
  t.equal(resumed.state, 'running', 'still running after the restart');
  t.equal(resumed.waves.list[0]!.startedAt, before.waves.list[0]!.startedAt, 'the canary wave kept with its start time');
  t.match(resumed.hostList.find((h) => h.hostId === canaryHost.hostId), { wave: 0, state: 'measuring', healthySince: canaryHost.healthySince }, 'the canary measuring, holding since before the kill');

  const widened = await api.until(id, 'the second wave measuring after the restart', (e) => e.hostList.every((h) => h.state === 'measuring'));
  const secondWave = Date.parse(widened.waves.list[1]!.startedAt!);
  t.ok(secondWave > killedAt, 'the second wave started after the restart (the dead hub could not start it)');
  t.ok(secondWave - Date.parse(canaryHost.healthySince!) >= HOLD_MS, 'once the canary had held for the hold time, counted across the restart');
  t.equal(widened.events.filter((e) => e.kind === 'wave').length, 2, 'two wave events: the canary\'s kept, the second added');
  await other.nextReport((r) => r.experiment?.id === id, 'a tagged report from the second wave');

  // The tagged reports that reach the store after the restart are the experiment's.
  for (const host of HOSTS) {
    const stored = await waitFor(`a tagged report of ${host} stored after the restart`, async () => {
      const r = await latestReport(target, host);
      return r && r.experiment?.id === id && Date.parse(r.generatedAt) > restartedAt ? r : null;
    }, 60_000, 250);
    t.ok(stored, `${host}: stored, tagged ${id}`);
  }
  await waitFor('the canary reconnected', () => canary.agent.status().hub?.state === 'connected', 60_000);
  await canary.nextReport((r) => r.experiment?.id === id, 'a tagged report after the reconnect');
  t.same(canary.pids(), canaryPids, 'the canary runs the same collectors through the hub\'s death and restart');
  t.ok(canaryPids.every(isAlive), 'alive');
  t.ok(canary.reports.filter((r) => r.experiment?.id === id).every((r) => r.variants.every((v, i) => v.pid === tagged.variants[i]!.pid)), 'every tagged report names them');
  t.same(canary.agent.status().experiment.last, canaryWord, 'the canary applied it once: its last word is the one from before the kill');
  t.ok(otherPids.every((pid) => !other.pids().includes(pid)), 'the second host switched to the assigned pair (from the restarted hub)');

  const stopped = await api.stop(id);
  t.equal(stopped.state, 'stopped', 'the resumed experiment can be stopped');
  t.same(stopped.hostList.map((h) => h.state), ['rolled-back', 'rolled-back'], 'both hosts rolled back');
  t.match(stopped.outcome, { stoppedBy: String }, 'by whom');
  for (const a of agents.values()) {
    const own = await a.nextReport((r) => !r.experiment, 'the agent back on its own pair');
    t.same(own.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'its own pair again');
  }
  t.equal((await second.stop()).code, 0, 'the restarted hub stops cleanly');
});
