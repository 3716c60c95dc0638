// An experiment's results from the figures its tagged reports added up to: hosts paired by agent (one side only is
// left out), means per report, the fleet's series and reduction, the verdict; and the list's short-lived memo.
import t from 'tap';
import type { HostFiguresRecord } from '../../../hub/experiments/experiment-store.js';
import { experimentResults, hostFigures, ResultsMemo } from '../../../hub/experiments/results.js';
import { parseExperimentSpec } from '../../../hub/experiments/spec.js';
import { NO_LOSS, ZERO_LOSS } from '../../../hub/store/loss-sums.js';

const NOW = Date.UTC(2026, 5, 1);

function figures(agentId: string, side: 0 | 1, over: Partial<HostFiguresRecord> = {}): HostFiguresRecord {
  return {
    experimentId: 'e1', agentId, hostId: `host-${agentId}`, side, variant: side === 0 ? 'baseline' : 'lean',
    reports: 4, seriesSum: 4000, seriesN: 4, cpuSum: 8, cpuN: 4, restartsMax: 0, retentionMin: 1, lossyReports: 0,
    criticalRanReports: 0, missing: [], lossStreak: 0, guardStreak: 0, guardLost: [], firstAt: NOW, lastAt: NOW + 30_000, loss: { ...ZERO_LOSS }, ...over,
  };
}

const spec = (criteria: Record<string, unknown> = {}) =>
  parseExperimentSpec({ name: 'lean-test', baseline: { pipeline: 'baseline' }, candidate: { pipeline: 'optimized-a' }, criteria }, 'definition');

t.test('hostFigures: both sides of an agent make a host, means per report, sorted by host id', async (t) => {
  const hosts = hostFigures([
    figures('b', 1, { seriesSum: 300, seriesN: 3, cpuSum: 3, cpuN: 3, restartsMax: 2, criticalRanReports: 3, lossyReports: 1, missing: ['sshd'] }),
    figures('b', 0, { seriesSum: 3000, seriesN: 3, cpuSum: 6, cpuN: 3 }),
    figures('a', 0),
    figures('a', 1, { seriesSum: 0, seriesN: 0, cpuSum: 0, cpuN: 0 }),
    figures('only-baseline', 0),
    figures('only-candidate', 1),
  ]);
  t.strictSame(hosts, [
    { hostId: 'host-a', baseline: { series: 1000, cpuPercent: 2, restarts: 0, loss: NO_LOSS }, candidate: { series: null, cpuPercent: null, restarts: 0, loss: NO_LOSS }, criticalRan: false, candidateFullRetention: true, missing: [] },
    { hostId: 'host-b', baseline: { series: 1000, cpuPercent: 2, restarts: 0, loss: NO_LOSS }, candidate: { series: 100, cpuPercent: 1, restarts: 2, loss: NO_LOSS }, criticalRan: true, candidateFullRetention: false, missing: ['sshd'] },
  ], 'a side with no counted report has no mean (null, not 0); a host with one side is left out');
  t.strictSame(hostFigures([]), []);
});

t.test('experimentResults: the fleet over the hosts that measured both, judged by the criteria', async (t) => {
  const records = [
    figures('a', 0), figures('a', 1, { seriesSum: 1000, seriesN: 4 }),
    figures('b', 0, { seriesSum: 2000, seriesN: 2 }), figures('b', 1, { seriesSum: 500, seriesN: 2 }),
  ];
  const results = experimentResults(records, spec({ reduction: 0.7 }));
  t.match(results, { hosts: 2, baselineSeries: 2000, candidateSeries: 500, reduction: 0.75, verdict: 'passed' });
  t.strictSame(results.criteria.map((c) => [c.name, c.met]), [['reduction', true], ['retention', true]]);
  t.match(results.summary, /^passed over 2 hosts: reduction 75%/);

  const failed = experimentResults(records, spec({ reduction: 0.8 }));
  t.match(failed, { verdict: 'failed', reduction: 0.75 });
  t.match(failed.summary, /reduction 75% \(wanted >= 80%\)/);

  const pending = experimentResults([figures('a', 0)], spec({ reduction: 0.5 }));
  t.match(pending, { hosts: 0, reduction: null, baselineSeries: 0, candidateSeries: 0, verdict: 'pending', summary: 'pending: no host has measured both variants yet' });
});

t.test('the reduction the criterion judges is the one the results show', async (t) => {
  const records = [figures('a', 0, { seriesSum: 3, seriesN: 1 }), figures('a', 1, { seriesSum: 2, seriesN: 1 })];
  const results = experimentResults(records, spec({ reduction: 0.3 }));
  t.equal(results.reduction, 0.3333);
  t.equal(results.criteria.find((c) => c.name === 'reduction')!.value, results.reduction);
});

t.test('ResultsMemo: computed once per experiment within its time, again after it or once forgotten', async (t) => {
  const memo = new ResultsMemo(5_000);
  const results = experimentResults([figures('a', 0), figures('a', 1)], spec());
  let computed = 0;
  const compute = async () => {
    computed += 1;
    return { ...results, hosts: computed };
  };
  t.equal((await memo.get('e1', NOW, compute)).hosts, 1);
  t.equal((await memo.get('e1', NOW + 4_999, compute)).hosts, 1, 'within the time: kept');
  t.equal((await memo.get('e2', NOW + 4_999, compute)).hosts, 2, 'another experiment is its own');
  t.equal((await memo.get('e1', NOW + 5_000, compute)).hosts, 3, 'once the time is up: computed again');
  memo.forget('e1');
  t.equal((await memo.get('e1', NOW + 5_001, compute)).hosts, 4, 'forgotten: computed again');
  t.equal(computed, 4);
});
