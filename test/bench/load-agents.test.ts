// The benches' load process against a real in-process hub: v2 load agents take an experiment as real agents do
// (applying, applied, tagged reports; reverted when it is stopped), and v1 load agents still just report.
import t, { type Test } from 'tap';
import { fanoutDefinition } from '../../bench/experiment-fanout.js';
import { startLoadAgents, type LoadOptions } from '../../bench/load-process.js';
import { hubRoutes } from '../../hub/http/routes.js';
import type { ExperimentResponse } from '../../hub/http/experiment-types.js';
import type { AssignmentStatus } from '../../protocol/assignment.js';
import type { AgentReport } from '../../protocol/report.js';
import { AGENT_TOKEN, startTestHub } from '../helpers/assignment.js';
import { apiToken, bearer } from '../helpers/hub-api.js';
import { waitFor } from '../helpers/process.js';

function load(t: Test, hubUrl: string, o: Omit<LoadOptions, 'url' | 'token'>) {
  const started = startLoadAgents({ url: hubUrl, token: AGENT_TOKEN, ...o });
  t.teardown(() => {
    if (started.child.exitCode === null && started.child.signalCode === null) started.child.kill('SIGKILL');
  });
  return started;
}

t.test('v2 load agents apply an experiment, tag their reports with it and revert when it stops', { timeout: 180_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const statuses: AssignmentStatus[] = [];
  const reports: AgentReport[] = [];
  hub.on('status', (_agentId, status) => statuses.push(status));
  hub.on('report', (_agentId, message) => reports.push(message.report));
  // Long enough for a slow machine; stopped with SIGTERM once everything was seen.
  const { child, result } = load(t, hub.agentUrl, { agents: 3, intervalMs: 200, durationMs: 120_000, protocol: 2, samples: true });
  await waitFor('three manageable load agents', () => hub.connections.size === 3 && [...hub.connections.values()].every((c) => c.manageable), 60_000);

  const post = async (path: string, body?: unknown) => {
    const res = await fetch(`${hub.url}${path}`, {
      method: 'POST',
      headers: { ...bearer(await apiToken(hub, 'experimenter')), 'content-type': 'application/json' },
      body: JSON.stringify(body ?? {}),
    });
    t.ok(res.ok, `POST ${path}: HTTP ${res.status}`);
    return ((await res.json()) as ExperimentResponse).experiment;
  };
  const { id, hosts } = await post('/api/v1/experiments', { definition: fanoutDefinition(), start: true });
  t.equal(hosts, 3, 'the bench definition targets every load agent');
  await waitFor('every host measuring', async () => (await hub.experiments.detail(id)).hostList.every((h) => h.state === 'measuring'), 60_000);
  t.same(statuses.map((s) => `${s.experimentId}@${s.revision}:${s.state}`).sort(), [...Array(3).fill(`${id}@1:applied`), ...Array(3).fill(`${id}@1:applying`)]);
  const tagged = await waitFor('a tagged report from each agent', () => {
    const hostIds = new Set(reports.filter((r) => r.experiment?.id === id).map((r) => r.host.id));
    return hostIds.size === 3 ? reports.filter((r) => r.experiment?.id === id) : null;
  }, 60_000);
  t.same(tagged[0]!.variants.map((v) => v.name), ['baseline', 'optimized-b'], 'reports name the assigned variants');
  t.same([tagged[0]!.comparison.baseline, tagged[0]!.comparison.candidate], ['baseline', 'optimized-b']);

  await post(`/api/v1/experiments/${id}/stop`);
  await waitFor('three reverted statuses', () => statuses.filter((s) => s.state === 'reverted').length === 3, 60_000);
  const after = reports.length;
  await waitFor('untagged reports after the withdrawal', () => reports.slice(after).filter((r) => !r.experiment).length >= 3, 60_000);

  child.kill('SIGTERM');
  const out = await result;
  t.equal(out.protocol, 2);
  t.equal(out.agents, 3);
  t.equal(out.unexpected, 0, 'every hub message validated as version 2');
  t.ok(out.acked > 0 && out.acked <= out.sent, `acked ${out.acked} of ${out.sent}`);
  t.equal(out.assignments!.length, 3);
  for (const a of out.assignments!) {
    t.equal(a?.experimentId, id);
    t.ok(a!.appliedAt >= a!.assignedAt && a!.assignedAt >= out.startedAt!, 'assigned after the start, applied after assigned');
  }
  t.equal(out.samples!.length, out.acked, 'a sample per acknowledged report');
});

t.test('v1 load agents report as before and take no experiments', { timeout: 180_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const { result } = load(t, hub.agentUrl, { agents: 2, intervalMs: 200, durationMs: 1500 });
  await waitFor('two load agents', () => hub.connections.size === 2, 60_000);
  t.notOk([...hub.connections.values()].some((c) => c.manageable), 'a v1 agent is not manageable');
  const out = await result;
  t.equal(out.agents, 2);
  t.ok(out.acked > 0, `acked ${out.acked}`);
  t.ok(out.ackP99 !== null);
  t.equal(out.protocol, undefined, 'no v2 fields');
  t.equal(out.assignments, undefined);
});

t.test('--sources spreads the connections over loopback source addresses, as the hub sees them', { timeout: 180_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const { result } = load(t, hub.agentUrl, { agents: 8, intervalMs: 200, durationMs: 1500, sources: 4 });
  await waitFor('eight load agents', () => hub.connections.size === 8, 60_000);
  const from = [...hub.connections.values()].map((c) => c.remote.slice(0, c.remote.lastIndexOf(':')).replace(/^::ffff:/, ''));
  t.same([...new Set(from)].sort(), ['127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4'], 'two connections from each of 127.0.0.1-4');
  const out = await result;
  t.equal(out.failedConnections, 0);
  t.ok(out.acked > 0, `acked ${out.acked}`);
});

t.test('--sources refuses a hub that is not on loopback, and a count out of range: exit 2', async (t) => {
  for (const [url, sources] of [
    ['ws://192.0.2.1:9/ws/agent', 2],
    ['ws://127.0.0.1:9/ws/agent', 255],
  ] as const) {
    const started = startLoadAgents({ url, token: AGENT_TOKEN, agents: 1, intervalMs: 1000, durationMs: 1000, sources });
    await t.rejects(started.result, /load-agents exited with code 2 and no results/, `${url} with --sources ${sources}`);
  }
});

t.test('load processes beside each other (--first) never share an agent: one hub sees all of them, each reporting its own host', { timeout: 120_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const hosts = new Map<string, string>();
  hub.on('report', (agentId, message) => hosts.set(agentId, message.report.host.id));
  const runs = [0, 3].map((first) => load(t, hub.agentUrl, { agents: 3, intervalMs: 200, durationMs: 1500, first }));
  const results = await Promise.all(runs.map((r) => r.result));
  t.same(results.map((r) => r.agents), [3, 3]);
  t.same([...hosts.keys()].sort(), ['sim-0', 'sim-1', 'sim-2', 'sim-3', 'sim-4', 'sim-5'], 'six agents, not three twice');
  t.equal(new Set(hosts.values()).size, 6, 'each with a host of its own');
  t.equal(hub.queue.duplicates, 0, 'no report was taken for another agent\'s');
});
