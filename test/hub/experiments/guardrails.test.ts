// The guardrails that end an experiment early: K reports in a row losing a critical process on one host, F hosts
// where the candidate failed to start; and their state kept across hub restarts (malformed state dropped).
import t from 'tap';
import { GuardrailWatch } from '../../../hub/experiments/guardrails.js';

const guardrails = (criticalLossReports = 3, failedHosts = 3) => ({ criticalLossReports, failedHosts });
/** The state as the store keeps it: JSON text, read back. */
const roundTrip = (watch: GuardrailWatch) => JSON.parse(JSON.stringify(watch)) as unknown;

t.test('a streak of K reports losing a critical process trips at exactly K, naming the host and processes', async (t) => {
  const watch = new GuardrailWatch(guardrails(3));
  t.equal(watch.observeReport('h1', ['sshd']), null, '1 of 3');
  t.equal(watch.observeReport('h1', ['sshd', 'cron']), null, '2 of 3');
  t.strictSame(watch.observeReport('h1', ['sshd', 'cron']), {
    guardrail: 'criticalLoss',
    hostIds: ['h1'],
    processes: ['sshd', 'cron'],
    detail: 'the candidate lost sshd, cron on h1 for 3 reports in a row (the guardrail allows 2)',
  });
  t.match(watch.observeReport('h1', ['cron']), { guardrail: 'criticalLoss', hostIds: ['h1'], processes: ['cron'], detail: /for 4 reports in a row/ }, 'it stays tripped while the streak goes on');
});

t.test("the store's count (reports other hub processes stored too): taken when longer, trips at K", async (t) => {
  const watch = new GuardrailWatch(guardrails(3));
  t.equal(watch.criticalLossReports, 3);
  t.equal(watch.observeReport('h1', ['sshd']), null, '1 seen here');
  t.equal(watch.observeStored('h1', 2, ['sshd']), null, '2 in the store: still below');
  t.match(roundTrip(watch), { streaks: { h1: { reports: 2, processes: ['sshd'] } } }, 'the longer count kept');
  t.match(watch.observeReport('h1', ['sshd']), { hostIds: ['h1'], detail: /for 3 reports in a row/ }, 'the next report here counts on from it');
  t.match(watch.observeStored('h2', 3, ['cron']), { guardrail: 'criticalLoss', hostIds: ['h2'], processes: ['cron'], detail: /cron on h2 for 3 reports in a row/ }, 'a host never seen here');
  t.equal(watch.observeStored('h3', 5, []), null, 'a count without a loss is no loss');
  t.equal(watch.observeStored('h3', 0, ['cron']), null);
});

t.test('K = 1 trips on the first loss', async (t) => {
  const watch = new GuardrailWatch(guardrails(1));
  t.strictSame(watch.observeReport('h1', ['etcd']), {
    guardrail: 'criticalLoss',
    hostIds: ['h1'],
    processes: ['etcd'],
    detail: 'the candidate lost etcd on h1 for 1 report in a row (the guardrail allows 0)',
  });
});

t.test('a report without a loss resets the streak', async (t) => {
  const watch = new GuardrailWatch(guardrails(3));
  watch.observeReport('h1', ['sshd']);
  watch.observeReport('h1', ['sshd']);
  t.equal(watch.observeReport('h1', []), null);
  t.strictSame(watch.toJSON().streaks, {}, 'no streak is kept for the host');
  t.equal(watch.observeReport('h1', ['sshd']), null, 'counting from 1 again');
  t.equal(watch.observeReport('h1', ['sshd']), null);
  t.match(watch.observeReport('h1', ['sshd']), { guardrail: 'criticalLoss', hostIds: ['h1'] });
});

t.test('each host has its own streak', async (t) => {
  const watch = new GuardrailWatch(guardrails(2));
  t.equal(watch.observeReport('h1', ['sshd']), null);
  t.equal(watch.observeReport('h2', ['cron']), null, "h1's loss does not count on h2");
  t.equal(watch.observeReport('h2', []), null);
  t.strictSame(watch.observeReport('h1', ['sshd'])?.hostIds, ['h1'], "h2's good report does not reset h1");
  t.equal(watch.observeReport('h2', ['cron']), null);
});

t.test("the trip and the state hold copies, not the caller's list", async (t) => {
  const watch = new GuardrailWatch(guardrails(1));
  const lostNow = ['sshd'];
  const trip = watch.observeReport('h1', lostNow)!;
  lostNow.push('later');
  t.strictSame(trip.processes, ['sshd']);
  t.strictSame(watch.toJSON().streaks, { h1: { reports: 1, processes: ['sshd'] } });
});

t.test('failures trip at F hosts, naming every host sorted', async (t) => {
  const watch = new GuardrailWatch(guardrails(3, 3));
  t.equal(watch.observeFailure('h-c', 'collector exited 1'), null);
  t.equal(watch.observeFailure('h-a', 'port taken'), null);
  t.equal(watch.observeFailure('h-a', 'port taken again'), null, 'the same host counts once');
  t.strictSame(watch.observeFailure('h-b', 'bad config'), {
    guardrail: 'failedHosts',
    hostIds: ['h-a', 'h-b', 'h-c'],
    processes: [],
    detail: 'the candidate failed to start on 3 hosts (the guardrail stops at 3): h-a, h-b, h-c',
  });
  t.strictSame(watch.toJSON().failed, { 'h-c': 'collector exited 1', 'h-a': 'port taken again', 'h-b': 'bad config' }, 'the last message of each host');
});

t.test('F = 1 trips on the first failure; the detail names at most five hosts', async (t) => {
  const one = new GuardrailWatch(guardrails(3, 1));
  t.strictSame(one.observeFailure('h1', 'boom'), { guardrail: 'failedHosts', hostIds: ['h1'], processes: [], detail: 'the candidate failed to start on 1 host (the guardrail stops at 1): h1' });

  const seven = new GuardrailWatch(guardrails(3, 7));
  for (const id of ['h7', 'h6', 'h5', 'h4', 'h3', 'h2']) t.equal(seven.observeFailure(id, 'boom'), null);
  const trip = seven.observeFailure('h1', 'boom')!;
  t.strictSame(trip.hostIds, ['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'h7']);
  t.equal(trip.detail, 'the candidate failed to start on 7 hosts (the guardrail stops at 7): h1, h2, h3, h4, h5');
});

t.test('losses and failures are counted apart', async (t) => {
  const watch = new GuardrailWatch(guardrails(2, 2));
  t.equal(watch.observeFailure('h1', 'boom'), null);
  t.equal(watch.observeReport('h1', ['sshd']), null, 'a failure is not a loss report');
  t.equal(watch.observeFailure('h1', 'boom'), null, 'a loss report is not a failure');
});

t.test('the state round-trips through toJSON and from', async (t) => {
  const before = new GuardrailWatch(guardrails(3, 2));
  before.observeReport('h1', ['sshd']);
  before.observeReport('h1', ['sshd', 'cron']);
  before.observeReport('h2', ['etcd']);
  before.observeFailure('h9', 'collector exited 1');
  const state = before.toJSON();
  t.strictSame(state, { streaks: { h1: { reports: 2, processes: ['sshd', 'cron'] }, h2: { reports: 1, processes: ['etcd'] } }, failed: { h9: 'collector exited 1' } });

  const after = GuardrailWatch.from(guardrails(3, 2), roundTrip(before));
  t.strictSame(after.toJSON(), state, 'the same state');
  t.match(after.observeReport('h1', ['sshd']), { guardrail: 'criticalLoss', hostIds: ['h1'], detail: /for 3 reports in a row/ }, 'the streak goes on where it was');
  t.equal(after.observeReport('h2', ['etcd']), null, '2 of 3 on h2');
  t.strictSame(after.observeFailure('h8', 'boom')?.hostIds, ['h8', 'h9'], 'the failed host counts');

  t.strictSame(GuardrailWatch.from(guardrails(), roundTrip(new GuardrailWatch(guardrails()))).toJSON(), { streaks: {}, failed: {} }, 'an empty state');
});

t.test('malformed state is dropped, not thrown: a guardrail counts again from 0', async (t) => {
  const g = guardrails(2, 2);
  const empty = { streaks: {}, failed: {} };
  for (const json of [null, undefined, 42, true, 'garbage', '{"streaks": ', [], [{ reports: 1, processes: [] }], {}, { streaks: null, failed: null }, { streaks: 'abc', failed: 'abc' }, { streaks: [{ reports: 1, processes: ['sshd'] }], failed: ['boom'] }, { streaks: 7, failed: 7 }]) {
    let watch: GuardrailWatch | undefined;
    t.doesNotThrow(() => {
      watch = GuardrailWatch.from(g, json);
    }, JSON.stringify(json) ?? String(json));
    t.strictSame(watch?.toJSON(), empty, `${JSON.stringify(json) ?? String(json)}: nothing kept`);
  }

  const mixed = GuardrailWatch.from(g, {
    streaks: {
      'no-reports': { processes: ['sshd'] },
      'text-reports': { reports: '1', processes: ['sshd'] },
      zero: { reports: 0, processes: ['sshd'] },
      negative: { reports: -1, processes: ['sshd'] },
      fraction: { reports: 1.5, processes: ['sshd'] },
      'no-list': { reports: 1, processes: 'sshd' },
      'null-entry': null,
      'number-entry': 3,
      good: { reports: 1, processes: ['sshd', 5, null, 'cron'] },
    },
    failed: { a: 5, b: 'boom', c: null, d: { message: 'x' } },
  });
  t.strictSame(mixed.toJSON(), { streaks: { good: { reports: 1, processes: ['sshd', 'cron'] } }, failed: { b: 'boom' } }, 'only the well-formed entries are kept; stray list items dropped');
  t.equal(mixed.observeReport('zero', ['sshd']), null, 'a dropped streak starts again from 1');
  t.match(mixed.observeReport('zero', ['sshd']), { guardrail: 'criticalLoss', hostIds: ['zero'] }, '... and trips at K');
  t.match(mixed.observeReport('good', ['sshd']), { guardrail: 'criticalLoss', hostIds: ['good'] }, 'a kept streak goes on');
  t.strictSame(mixed.observeFailure('a', 'now failed')?.hostIds, ['a', 'b'], 'a dropped failure was not counted');
});
