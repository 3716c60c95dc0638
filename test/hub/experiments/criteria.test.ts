// An experiment's success criteria over its hosts' figures: each criterion met, not met or not yet known, with its
// value and the text shown, and the verdict and summary drawn from them.
import t from 'tap';
import { evaluateCriteria, type HostFigures } from '../../../hub/experiments/criteria.js';
import type { ExperimentSpec } from '../../../hub/experiments/spec.js';
import { NO_LOSS } from '../../../hub/store/loss-sums.js';

type Side = HostFigures['baseline'];
const side = (series: number | null, cpuPercent: number | null = null, restarts = 0): Side => ({ series, cpuPercent, restarts, loss: NO_LOSS });

/** A host where both variants measured, no critical process ran unless told. */
function host(hostId: string, over: Partial<HostFigures> = {}): HostFigures {
  return { hostId, baseline: side(1000, 2), candidate: side(500, 1), criticalRan: false, candidateFullRetention: true, missing: [], ...over };
}
const kept = (hostId: string, over: Partial<HostFigures> = {}) => host(hostId, { criticalRan: true, candidateFullRetention: true, ...over });
const lost = (hostId: string, missing: string[], over: Partial<HostFigures> = {}) => host(hostId, { criticalRan: true, candidateFullRetention: false, missing, ...over });

const criteria = (c: Partial<ExperimentSpec['criteria']> = {}): ExperimentSpec['criteria'] => ({ retention: 1, ...c });
const judge = (c: Partial<ExperimentSpec['criteria']>, hosts: HostFigures[]) => evaluateCriteria(criteria(c), hosts);
const find = (result: ReturnType<typeof evaluateCriteria>, name: string) => result.criteria.find((c) => c.name === name)!;

t.test('only the criteria asked for are judged, in a fixed order; retention always', async (t) => {
  t.strictSame(judge({}, [host('h1')]).criteria.map((c) => c.name), ['retention']);
  t.strictSame(judge({ restarts: 0, cpuRatio: 1, reduction: 0.5 }, [host('h1')]).criteria.map((c) => c.name), ['reduction', 'retention', 'cpuRatio', 'restarts']);
});

t.test('reduction: over the series of hosts that measured both, met, not met, no data', async (t) => {
  const hosts = [host('h1', { baseline: side(1000), candidate: side(400) }), host('h2', { baseline: side(1000), candidate: side(600) })];
  t.strictSame(find(judge({ reduction: 0.5 }, hosts), 'reduction'), { name: 'reduction', wanted: '>= 50%', value: 0.5, shown: '50%', met: true });
  t.strictSame(find(judge({ reduction: 0.6 }, hosts), 'reduction'), { name: 'reduction', wanted: '>= 60%', value: 0.5, shown: '50%', met: false });
  t.strictSame(find(judge({ reduction: 0.123 }, [host('h1', { baseline: side(3), candidate: side(2) })]), 'reduction'), { name: 'reduction', wanted: '>= 12.3%', value: 0.3333, shown: '33.3%', met: true }, 'rounded');
  t.equal(find(judge({ reduction: 0 }, [host('h1', { baseline: side(100), candidate: side(150) })]), 'reduction').value, -0.5, 'a candidate with more series is a negative reduction');
  t.equal(find(judge({ reduction: 0 }, [host('h1', { baseline: side(100), candidate: side(150) })]), 'reduction').met, false);

  // Hosts without both figures (or with a baseline of 0) are left out of the sums.
  const partial = [...hosts, host('h3', { baseline: side(null), candidate: side(10) }), host('h4', { baseline: side(0), candidate: side(10) }), host('h5', { baseline: side(1000), candidate: side(null) })];
  t.equal(find(judge({ reduction: 0.5 }, partial), 'reduction').value, 0.5);

  const none = [host('h3', { baseline: side(null), candidate: side(10) }), host('h4', { baseline: side(0), candidate: side(0) }), host('h5', { baseline: side(1000), candidate: side(null) })];
  t.strictSame(find(judge({ reduction: 0.5 }, none), 'reduction'), { name: 'reduction', wanted: '>= 50%', value: null, shown: 'no data', met: null });
  t.strictSame(find(judge({ reduction: 0.5 }, []), 'reduction'), { name: 'reduction', wanted: '>= 50%', value: null, shown: 'no data', met: null });
});

t.test('retention: every host where a critical process ran kept them all', async (t) => {
  t.strictSame(find(judge({}, [kept('h1'), kept('h2')]), 'retention'), { name: 'retention', wanted: 'every host where a critical process runs', value: 1, shown: '2 of 2 hosts', met: true });
  t.strictSame(find(judge({}, [kept('h1')]), 'retention').shown, '1 of 1 host');
  t.strictSame(find(judge({}, [kept('h1'), lost('h2', ['sshd', 'cron', 'etcd', 'nginx']), host('h3')]), 'retention'), {
    name: 'retention',
    wanted: 'every host where a critical process runs',
    value: 0.5,
    shown: '1 of 2 hosts; lost on h2 (sshd, cron, etcd)',
    met: false,
  });
  t.equal(find(judge({}, [lost('h1', [])]), 'retention').shown, '0 of 1 host; lost on h1 (a critical process)', 'nothing named: said so');
  const many = Array.from({ length: 7 }, (_, i) => lost(`h${i}`, ['sshd']));
  t.equal(find(judge({}, many), 'retention').shown, '0 of 7 hosts; lost on h0 (sshd), h1 (sshd), h2 (sshd), h3 (sshd), h4 (sshd)', 'at most five hosts named');
});

t.test('retention: no critical process ran is met, with no value; no hosts is not known', async (t) => {
  t.strictSame(find(judge({}, [host('h1'), host('h2')]), 'retention'), { name: 'retention', wanted: 'every host where a critical process runs', value: null, shown: 'no critical process ran', met: true });
  t.strictSame(find(judge({}, []), 'retention'), { name: 'retention', wanted: 'every host where a critical process runs', value: null, shown: 'no data', met: null });
});

t.test('retention below 100% is allowed when criteria.retention asks less', async (t) => {
  const fourOfFive = [kept('h1'), kept('h2'), kept('h3'), kept('h4'), lost('h5', ['sshd'])];
  t.strictSame(find(judge({ retention: 0.8 }, fourOfFive), 'retention'), {
    name: 'retention',
    wanted: '>= 80% of hosts where a critical process runs',
    value: 0.8,
    shown: '4 of 5 hosts; lost on h5 (sshd)',
    met: true,
  });
  t.equal(find(judge({}, fourOfFive), 'retention').met, false, 'not with the default of every host');
  t.equal(find(judge({ retention: 0.8 }, [kept('h1'), kept('h2'), kept('h3'), lost('h4', ['sshd'])]), 'retention').met, false, '75% < 80%');
  // 2/3 rounds to 0.6667: a bar written as a fraction of thirds still passes.
  t.equal(find(judge({ retention: 2 / 3 }, [kept('h1'), kept('h2'), lost('h3', ['sshd'])]), 'retention').met, true);
  t.equal(find(judge({ retention: 0 }, [lost('h1', ['sshd'])]), 'retention').met, true, 'a bar of 0 always holds');

  // One loss among 20,000 hosts shows as 100% but is not every host.
  const huge = [...Array.from({ length: 19_999 }, (_, i) => kept(`k${i}`)), lost('x', ['sshd'])];
  const retention = find(judge({}, huge), 'retention');
  t.equal(retention.value, 1, 'the value is rounded for display');
  t.equal(retention.shown, '19999 of 20000 hosts; lost on x (sshd)');
  t.equal(retention.met, false, 'judged on the exact share');
  t.equal(find(judge({ retention: 0.9999 }, huge), 'retention').met, true);
});

t.test('cpuRatio: the candidate CPU over the baseline CPU across hosts that measured both', async (t) => {
  const hosts = [host('h1', { baseline: side(1, 2), candidate: side(1, 1) }), host('h2', { baseline: side(1, 2), candidate: side(1, 2) }), host('h3', { baseline: side(1, null), candidate: side(1, 9) })];
  t.strictSame(find(judge({ cpuRatio: 1 }, hosts), 'cpuRatio'), { name: 'cpuRatio', wanted: '<= 1 x baseline', value: 0.75, shown: '0.75 x', met: true });
  t.strictSame(find(judge({ cpuRatio: 0.5 }, hosts), 'cpuRatio'), { name: 'cpuRatio', wanted: '<= 0.5 x baseline', value: 0.75, shown: '0.75 x', met: false });
  t.equal(find(judge({ cpuRatio: 1 }, [host('h1', { baseline: side(1, 3), candidate: side(1, 1) })]), 'cpuRatio').value, 0.333, 'three digits');
  t.strictSame(find(judge({ cpuRatio: 1 }, [host('h1', { baseline: side(1, 0), candidate: side(1, 1) })]), 'cpuRatio'), { name: 'cpuRatio', wanted: '<= 1 x baseline', value: null, shown: 'no data', met: null }, 'a baseline of 0');
  t.strictSame(find(judge({ cpuRatio: 1 }, [host('h1', { baseline: side(1, null), candidate: side(1, null) })]), 'cpuRatio').met, null);
});

t.test('restarts: the most any host reached', async (t) => {
  const hosts = [host('h1', { candidate: side(1, 1, 2) }), host('h2', { candidate: side(1, 1, 0) }), host('h3', { baseline: side(1, 1, 9) })];
  t.strictSame(find(judge({ restarts: 2 }, hosts), 'restarts'), { name: 'restarts', wanted: '<= 2', value: 2, shown: '2 (most on one host)', met: true });
  t.strictSame(find(judge({ restarts: 1 }, hosts), 'restarts'), { name: 'restarts', wanted: '<= 1', value: 2, shown: '2 (most on one host)', met: false });
  t.strictSame(find(judge({ restarts: 0 }, [host('h1')]), 'restarts'), { name: 'restarts', wanted: '<= 0', value: 0, shown: '0 (most on one host)', met: true }, "the baseline's restarts do not count");
  t.strictSame(find(judge({ restarts: 0 }, []), 'restarts'), { name: 'restarts', wanted: '<= 0', value: null, shown: 'no data', met: null });
});

t.test('verdict: failed if any is not met, pending if any is unknown, passed otherwise', async (t) => {
  const good = [kept('h1', { baseline: side(1000, 2), candidate: side(400, 1) }), kept('h2', { baseline: side(1000, 2), candidate: side(600, 1) })];
  const passed = judge({ reduction: 0.5, cpuRatio: 1, restarts: 0 }, good);
  t.equal(passed.verdict, 'passed');
  t.equal(passed.summary, 'passed over 2 hosts: reduction 50%; retention 2 of 2 hosts; cpuRatio 0.5 x; restarts 0 (most on one host)');

  const failed = judge({ reduction: 0.6, cpuRatio: 1 }, good);
  t.equal(failed.verdict, 'failed');
  t.equal(failed.summary, 'failed over 2 hosts: reduction 50% (wanted >= 60%); retention 2 of 2 hosts; cpuRatio 0.5 x');

  const unknownCpu = good.map((h) => ({ ...h, baseline: side(h.baseline.series, null) }));
  const pending = judge({ reduction: 0.5, cpuRatio: 1 }, unknownCpu);
  t.equal(pending.verdict, 'pending', 'one criterion without data');
  t.equal(pending.summary, 'pending over 2 hosts: reduction 50%; retention 2 of 2 hosts; cpuRatio no data');

  const failedAndUnknown = judge({ reduction: 0.6, cpuRatio: 1 }, unknownCpu);
  t.equal(failedAndUnknown.verdict, 'failed', 'a failure wins over missing data');

  const oneHost = judge({}, [lost('h1', ['sshd'])]);
  t.equal(oneHost.verdict, 'failed');
  t.equal(oneHost.summary, 'failed over 1 host: retention 0 of 1 host; lost on h1 (sshd) (wanted every host where a critical process runs)');

  t.equal(judge({}, [host('h1')]).verdict, 'passed', 'no critical process ran and nothing else asked');
});

t.test('no hosts: pending, whatever is asked', async (t) => {
  for (const c of [{}, { reduction: 0.5 }, { reduction: 0.5, retention: 0, cpuRatio: 2, restarts: 10 }]) {
    const result = judge(c, []);
    t.equal(result.verdict, 'pending', JSON.stringify(c));
    t.equal(result.summary, 'pending: no host has measured both variants yet');
    t.ok(result.criteria.every((x) => x.met === null && x.value === null && x.shown === 'no data'), 'every criterion unknown');
  }
});
