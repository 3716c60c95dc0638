// An assignment's life beyond one connection, with a real hub, agents and collectors: its end time passing while the
// hub is down; an agent restart resuming it (no collector of the old run left); an agent that takes no experiments;
// a version-2 agent on a version-1 hub.
import t from 'tap';
import { isAlive, waitFor } from '../../helpers/process.js';
import { HAND_DRIVEN, agentConfigFor, makeAssignment, onlyConnection, startTestAgent, startTestHub, watchStatuses } from '../../helpers/assignment.js';

t.test('the end time passes while the hub is down: the agent goes back to its own pair by itself', { timeout: 240_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), HAND_DRIVEN);
  const statuses = watchStatuses(hub);
  const { file } = await agentConfigFor(t, hub);
  const a = await startTestAgent(t, file);
  const connection = await onlyConnection(hub);
  const endsAt = new Date(Date.now() + 25_000).toISOString();
  connection.assign(makeAssignment({ endsAt }));
  t.equal((await statuses.next((s) => s.state !== 'applying', 'applied')).state, 'applied');
  await a.nextReport((r) => r.experiment?.id === 'exp-1', 'a tagged report');
  await hub.close();
  const back = await a.nextReport((r) => !r.experiment, 'an untagged report, with the hub down', 90_000);
  t.ok(Date.parse(back.generatedAt) >= Date.parse(endsAt), 'after the end time');
  t.same(back.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'the own pair');
  t.equal(a.agent.status().hub?.state !== 'connected', true, 'the hub was unreachable all along');
});

t.test('an agent restart resumes the assignment; no collector of the old run is left', { timeout: 300_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), HAND_DRIVEN);
  const statuses = watchStatuses(hub);
  const { file } = await agentConfigFor(t, hub);
  const first = await startTestAgent(t, file);
  const connection = await onlyConnection(hub);
  connection.assign(makeAssignment({ experimentId: 'exp-restart' }));
  t.equal((await statuses.next((s) => s.state !== 'applying', 'applied')).state, 'applied');
  const oldPids = first.pids();
  await first.agent.close();
  t.ok(oldPids.every((pid) => !isAlive(pid)), 'the first run’s collectors are gone');

  const second = await startTestAgent(t, file);
  const resumed = await second.nextReport((r) => r.experiment?.id === 'exp-restart', 'a tagged report from the restarted agent');
  t.same(resumed.variants.map((v) => v.name), ['exp-base', 'exp-cand'], 'the assigned pair again');
  t.equal(second.pids().length, 2);
  t.ok(second.pids().every((pid) => !oldPids.includes(pid)), 'new processes');
  const reconnected = await waitFor('the restarted agent’s hello', () => [...hub.connections.values()].find((c) => c !== connection && c.hello));
  t.match(reconnected.hello?.experiments?.current, { experimentId: 'exp-restart', revision: 1, state: /^(applying|applied)$/ }, 'its hello says what it runs (or is about to run again)');
});

t.test('hub.acceptExperiments: false refuses every assignment; the hello says why', { timeout: 180_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), HAND_DRIVEN);
  const statuses = watchStatuses(hub);
  const { file } = await agentConfigFor(t, hub, { hub: { acceptExperiments: false } });
  const a = await startTestAgent(t, file);
  const connection = await onlyConnection(hub);
  t.notOk(connection.manageable, 'not manageable');
  t.match(connection.hello?.experiments, { accepts: false, reason: /acceptExperiments/ });
  const pids = a.pids();
  // The hub would not send it; one that does anyway is refused.
  connection.assign(makeAssignment());
  const answer = await statuses.next(() => true, 'the answer');
  t.equal(answer.state, 'refused');
  t.match(answer.message, /acceptExperiments/);
  t.same(a.pids(), pids, 'the own pair runs on');
});

t.test('a version-2 agent on a version-1 hub works as before', { timeout: 180_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { ...HAND_DRIVEN, protocolVersions: [1] });
  const stored: number[] = [];
  hub.on('report', (_agent, message) => stored.push(message.seq));
  const { file } = await agentConfigFor(t, hub);
  const a = await startTestAgent(t, file);
  await waitFor('reports stored by the version-1 hub', () => stored.length >= 2, 90_000);
  const connection = await onlyConnection(hub);
  t.equal(connection.hello?.v, 1, 'it said hello at version 1 after the hub refused version 2');
  t.notOk(connection.manageable, 'not manageable');
  t.equal(connection.assign(makeAssignment()), false, 'the hub cannot send it an assignment');
  t.equal(a.agent.status().hub?.state, 'connected');
});
