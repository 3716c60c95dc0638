// An agent process killed with SIGKILL mid-experiment (issue 14, §6): the restarted agent stops the collectors the
// dead one left (no orphan: their real pids are checked), resumes the assignment it kept (applied again, for the same
// experiment and revision, once, though the hub sends it again), tags its reports, and the hub's experiment runs on
// until it is stopped. A real hub (in-process, its API over HTTP) and a real agent process with real collectors.
import t from 'tap';
import path from 'node:path';
import { readPidFile } from '../../agent/supervisor/pidfile.js';
import { hubRoutes } from '../../hub/http/routes.js';
import { writeTestConfig } from '../helpers/agent-config.js';
import { startTestHub, watchStatuses } from '../helpers/assignment.js';
import { experimentApi, testDefinition } from '../helpers/experiment-api.js';
import { apiToken } from '../helpers/hub-api.js';
import { processesUnder, reportPids, startAgentProcess } from '../helpers/phoenix-processes.js';
import { isAlive, waitFor } from '../helpers/process.js';

const HOST = 'agent-kill-1';

t.test('an agent killed with SIGKILL mid-experiment: no orphan collector, the assignment resumes once, the experiment runs on', { timeout: 220_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const statuses = watchStatuses(hub);
  const api = experimentApi({ url: hub.url, token: await apiToken(hub, 'experimenter') });
  const { file, stateDir } = await writeTestConfig(t, {
    interval: '2s',
    host: { id: HOST, labels: { suite: 'agent-kill' } },
    pipeline: { collectionInterval: '1s', metricExpiration: '10s' },
    hub: { url: hub.agentUrl },
  });
  const pidFile = () => readPidFile(path.join(stateDir, 'collectors.json')).map((e) => e.pid).sort();
  // Runs after the agents' teardowns: should the test fail between the kill and the restart, the collectors it
  // left are ended here, by their pids.
  t.teardown(() => {
    for (const pid of processesUnder(stateDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  });

  const first = startAgentProcess(t, file);
  await waitFor('the agent said hello', () => [...hub.connections.values()].some((c) => c.manageable), 90_000);
  const created = await api.create(testDefinition({ name: 'agent-kill', target: { hosts: [HOST] }, rollout: { canary: '100%', hold: '0s' } }));
  const id = created.id;
  const applied = await statuses.next((s) => s.experimentId === id && s.state !== 'applying', 'the assignment applied');
  t.match(applied, { state: 'applied', revision: 1 }, 'applied');
  const tagged = await first.nextReport((r) => r.experiment?.id === id, 'a tagged report');
  const orphans = reportPids(tagged);
  t.equal(orphans.length, 2, 'two collectors');
  t.same(pidFile(), orphans, 'the pid file lists the assigned pair (the one the next agent stops)');
  await api.until(id, 'the host measuring', (e) => e.hostList[0]!.state === 'measuring');

  await first.kill9();
  const killedAt = Date.now();
  // Nothing stops them now (one may end by itself when it next writes to the dead agent's pipe).
  t.comment(`the dead agent's collectors still running: ${orphans.filter(isAlive).join(', ') || 'none'} of ${orphans.join(', ')}`);
  const heard = statuses.all.length;

  const second = startAgentProcess(t, file);
  const again = await statuses.next((s) => s.experimentId === id && s.state !== 'applying', 'the restarted agent applied the kept assignment', 150_000);
  t.match(again, { experimentId: id, revision: 1, state: 'applied' }, 'applied again: the same experiment and revision');
  t.ok(Date.parse(again.at) > killedAt, 'by the restarted agent');
  await waitFor('the dead agent\'s collectors gone', () => orphans.every((pid) => !isAlive(pid)), 30_000);
  t.pass(`no orphan: ${orphans.join(', ')} are gone`);

  const resumed = await second.nextReport((r) => r.experiment?.id === id, 'a tagged report from the restarted agent');
  const pair = reportPids(resumed);
  t.same(resumed.variants.map((v) => v.name), ['baseline', 'optimized-b'], 'the assigned pair');
  t.equal(pair.length, 2, 'two collectors');
  t.ok(pair.every((pid) => !orphans.includes(pid) && isAlive(pid)), `new collectors run: ${pair.join(', ')}`);
  // The hello said 'applying', so the hub sent the assignment again: answered, not applied a second time.
  for (let i = 0; i < 3; i++) {
    const later = await second.nextReport((r) => r.experiment?.id === id, 'more tagged reports');
    t.same(reportPids(later), pair, `tagged report ${i + 1} after the resume: the same collectors`);
  }
  const sinceRestart = statuses.all.slice(heard).filter((s) => s.experimentId === id);
  // A second 'applied' is the answer to the hub's resend (when the hello reached it before the resumption ended).
  t.same(sinceRestart.map((s) => s.state).filter((s, i, all) => i === 0 || s !== all[i - 1]), ['applying', 'applied'], `resumed once (${sinceRestart.map((s) => s.state).join(', ')})`);
  t.same(pidFile(), pair, 'the pid file lists only the running pair');
  t.same(processesUnder(stateDir).filter(isAlive), pair, 'no other collector on this machine runs on a config of this agent (its own pair of the start included)');

  const running = await api.until(id, 'the host measuring again', (e) => e.hostList[0]!.state === 'measuring');
  t.equal(running.state, 'running', 'the experiment runs on');
  const stopped = await api.stop(id);
  t.equal(stopped.state, 'stopped', 'and stops');
  t.equal(stopped.hostList[0]!.state, 'rolled-back', 'the host rolled back');
  const own = await second.nextReport((r) => !r.experiment, 'the agent back on its own pair');
  t.same(own.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'its own pair again');
  const last = reportPids(own);
  t.equal((await second.stop()).code, 0, 'the restarted agent exits 0 on SIGTERM');
  t.same([...pair, ...last].filter(isAlive), [], 'and leaves no collector behind');
  t.same(processesUnder(stateDir).filter(isAlive), [], 'none at all on a config of this agent');
});
