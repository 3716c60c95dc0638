// An assignment from a real hub, run by a real agent with real collectors: applied only once both serve data, its
// reports tagged; a resend answered without a restart; a template the policy or the collector refuses failed with
// the reason while the running pair keeps its processes; withdrawn → the agent's own pair again.
import t from 'tap';
import { isAlive } from '../../helpers/process.js';
import { HAND_DRIVEN, agentConfigFor, builtinTemplate, makeAssignment, onlyConnection, startTestAgent, startTestHub, watchStatuses } from '../../helpers/assignment.js';

t.test('assign, resend, refuse (policy, collector, hash), withdraw', { timeout: 420_000 }, async (t) => {
  const hub = await startTestHub(t, t.testdir(), HAND_DRIVEN);
  const statuses = watchStatuses(hub);
  const { file } = await agentConfigFor(t, hub);
  const a = await startTestAgent(t, file);
  const connection = await onlyConnection(hub);
  t.ok(connection.manageable, 'a version-2 agent that takes experiments is manageable');
  t.equal(connection.hello?.v, 2, 'it said hello at version 2');
  t.same(connection.hello?.experiments, { accepts: true, reason: null, current: null }, 'taking experiments, none run yet');

  const own = await a.nextReport(() => true, 'a report of the own pair');
  t.same(own.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'the own pair reports');
  t.notOk(own.experiment, 'untagged');
  const ownPids = a.pids();
  t.equal(ownPids.length, 2);

  await t.test('an assignment is applied once both collectors serve; its reports carry its id', async (t) => {
    t.ok(connection.assign(makeAssignment()), 'sent');
    const applying = await statuses.next((s) => s.state !== 'applying', 'the answer after applying');
    t.equal(applying.state, 'applied', `applied (${applying.message ?? ''})`);
    t.same(statuses.all.slice(0, 2).map((s) => s.state), ['applying', 'applied'], 'applying, then applied');
    const report = await a.nextReport((r) => r.experiment?.id === 'exp-1', 'a tagged report');
    t.same(report.experiment, { id: 'exp-1', revision: 1 });
    t.same(report.variants.map((v) => v.name), ['exp-base', 'exp-cand'], 'the assigned pair reports');
    t.ok(report.variants.every((v) => v.series !== null && v.series > 0), 'both serve series');
    t.same(report.critical.patterns, ['sshd', 'node'], 'the assignment’s critical patterns judge retention');
    t.ok(ownPids.every((pid) => !isAlive(pid)), 'the own pair’s collectors are gone');
  });

  const assignedPids = a.pids();
  await t.test('the same assignment again is answered without a restart', async (t) => {
    connection.assign(makeAssignment());
    const again = await statuses.next(() => true, 'the answer to the resend');
    t.equal(again.state, 'applied');
    t.same(a.pids(), assignedPids, 'same processes');
  });

  const refusedCases: [string, () => ReturnType<typeof makeAssignment>, RegExp][] = [
    [
      'an exporter to a remote address (the pipeline policy)',
      () => {
        const evil = builtinTemplate('optimized-b')
          .replace('exporters:\n', 'exporters:\n  otlp:\n    endpoint: 203.0.113.5:4317\n')
          .replace('exporters: [prometheus]', 'exporters: [prometheus, otlp]');
        return makeAssignment({ revision: 2, templates: [builtinTemplate('baseline'), evil] });
      },
      /otlp|203\.0\.113\.5/,
    ],
    [
      'a config the collector itself refuses (its validate)',
      () => makeAssignment({ revision: 3, templates: [builtinTemplate('baseline'), builtinTemplate('optimized-b').replace('  batch: {}', '  batch:\n    no_such_setting: 1')] }),
      /no_such_setting/,
    ],
    [
      'a template whose sha256 is not the one sent',
      () => {
        const base = makeAssignment({ revision: 4 });
        return { ...base, variants: [base.variants[0], { ...base.variants[1], template: `${base.variants[1].template}\n# changed` }] };
      },
      /sha256/,
    ],
  ];
  for (const [what, make, reason] of refusedCases) {
    await t.test(`failed: ${what}; the running pair keeps its processes`, async (t) => {
      const assignment = make();
      connection.assign(assignment);
      const answer = await statuses.next((s) => s.revision === assignment.revision && s.state !== 'applying', 'the answer');
      t.equal(answer.state, 'failed');
      t.match(answer.message, reason, `the reason: ${answer.message}`);
      t.same(a.pids(), assignedPids, 'the same collectors run on');
      const report = await a.nextReport(() => true, 'a report after the failure');
      t.same(report.experiment, { id: 'exp-1', revision: 1 }, 'still the applied assignment');
    });
  }

  await t.test('withdrawn: the own pair again, reports untagged', async (t) => {
    t.ok(connection.withdraw('exp-1', 'stopped by a test'));
    const answer = await statuses.next((s) => s.state === 'reverted', 'reverted');
    t.match(answer.message, /withdrawn by the hub: stopped by a test/);
    const report = await a.nextReport((r) => !r.experiment, 'an untagged report');
    t.same(report.variants.map((v) => v.name), ['baseline', 'optimized-a']);
    t.ok(assignedPids.every((pid) => !isAlive(pid)), 'the assigned pair’s collectors are gone');
  });
});
