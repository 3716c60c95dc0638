// What each variant loses beyond the critical processes, over a pair's hosts, on hand-made points: top-K coverage,
// conservation and flapping per hour (median and worst host), counter resets, blind spots, and the verdict's clause.
import t from 'tap';
import { lossClause, summarizeBlindSpots, summarizeLoss, type HostLossFigures } from '../../hub/compare-loss.js';
import { compareFleet } from '../../hub/compare.js';
import { NO_LOSS, type LossFigures } from '../../hub/store/loss-sums.js';
import { fullLoss } from '../fixtures/loss-figures.js';
import type { VariantPoint } from '../../hub/store/types.js';

/** A host's figures: every figure known unless overridden (flapping over one hour). */
function host(hostId: string, over: Partial<LossFigures> = {}): HostLossFigures {
  return { hostId, loss: fullLoss(over) };
}
const unreported = (hostId: string): HostLossFigures => ({ hostId, loss: NO_LOSS });

/** Five hosts: h1..h5, h6 from an agent without the figures. */
const HOSTS = [
  host('h1', { topCpu: { visible: 9, ranked: 10 }, cpuConservation: 0.71, flapping: { appeared: 4, vanished: 2, switched: 3, hours: 1 }, counterResets: 2, blindSpots: 1.5 }),
  host('h2', { topCpu: { visible: 6, ranked: 10 }, cpuConservation: 0.52, flapping: { appeared: 10, vanished: 14, switched: 24, hours: 2 }, blindSpots: 2 }),
  host('h3', { topCpu: { visible: 9.25, ranked: 10 }, cpuConservation: 0.8, flapping: { appeared: 1, vanished: 1, switched: 1, hours: 0.5 }, counterResets: 1 }),
  host('h4', { topCpu: { visible: 4, ranked: 4 }, cpuConservation: 1.3, flapping: null }),
  host('h5', { topCpu: null, topRss: { visible: 8, ranked: 10 }, cpuConservation: null }),
  unreported('h6'),
];

t.test('summarizeLoss: median and worst host of each figure, over the hosts that reported it', async (t) => {
  const s = summarizeLoss(HOSTS);
  t.equal(s.hosts, 5, 'h6 reported none');
  // Shares 0.9, 0.6, 0.925, 1 (h4 shows all 4 it ranks): sorted h2 h1 h3 h4, median rank ⌈2⌉ = h1.
  t.same(s.topCpu, { hosts: 4, median: { visible: 9, ranked: 10 }, worst: { visible: 6, ranked: 10, hostId: 'h2' } });
  t.same(s.topRss, { hosts: 5, median: { visible: 10, ranked: 10 }, worst: { visible: 8, ranked: 10, hostId: 'h5' } });
  // 0.52 0.71 0.8 1.3: median 0.71; worst the farthest from 1.0 (0.52 is 0.48 away, 1.3 only 0.3).
  t.same(s.cpuConservation, { hosts: 4, median: 0.71, worst: 0.52, worstHost: 'h2' });
  t.same(s.rssConservation, { hosts: 5, median: 1, worst: 1, worstHost: 'h1' }, 'a tie goes to the first host id');
  t.same(s.counterResets, { total: 3, hosts: 2 });
  // Series per hour: h1 6, h2 12, h3 4, h5 0; switches: h1 3, h2 12, h3 2, h5 0.
  t.same(s.flappingPerHour, { hosts: 4, median: 4, worst: 12, worstHost: 'h2' });
  t.same(s.switchesPerHour, { hosts: 4, median: 2, worst: 12, worstHost: 'h2' });
});

t.test('summarizeLoss: hosts without the figures make every figure null, not 0', async (t) => {
  t.same(summarizeLoss([unreported('a'), unreported('b')]), {
    hosts: 0, topCpu: null, topRss: null, cpuConservation: null, rssConservation: null, counterResets: null, flappingPerHour: null, switchesPerHour: null,
  });
  t.same(summarizeLoss([]).topCpu, null);
});

t.test('summarizeBlindSpots: hosts that reported their truth, those with any, the total of their means', async (t) => {
  t.same(summarizeBlindSpots(HOSTS), { knownHosts: 5, hosts: 2, total: 4 }, '1.5 + 2 rounds to 4');
  t.equal(summarizeBlindSpots([unreported('a')]), null);
});

t.test('lossClause: each part only when known; the worst only when it differs from the median', async (t) => {
  t.equal(lossClause(summarizeLoss(HOSTS)), 'top-10 CPU: 9 of 10 on the median host (worst 6); CPU accounted for 71% (worst 52%); 2 switches/h (worst 12)');
  t.equal(lossClause(summarizeLoss([host('one', { topCpu: { visible: 8.75, ranked: 10 }, cpuConservation: 0.9, flapping: { appeared: 0, vanished: 0, switched: 3, hours: 1 } })])), 'top-10 CPU: 8.8 of 10 on the median host; CPU accounted for 90%; 3 switches/h', 'one host: no worst');
  t.equal(lossClause(summarizeLoss([host('a'), host('b', { topCpu: { visible: 3, ranked: 4 } }), host('c')])), 'top-10 CPU: 10 of 10 on the median host (worst 3 of 4); CPU accounted for 100%; 0 switches/h', 'a worst host that ranks fewer says so');
  t.equal(lossClause(summarizeLoss([host('a', { topCpu: null, flapping: null })])), 'CPU accounted for 100%');
  t.equal(lossClause(summarizeLoss([unreported('a')])), '');
});

/** A host's pair of points with these loss figures on the candidate (B) side; the baseline's are all known and full. */
function pair(hostId: string, loss: LossFigures): VariantPoint[] {
  const point = (side: 0 | 1): VariantPoint => ({
    agentId: `agent-${hostId}`, hostId, hostKind: 'vm', labels: {}, side, variant: side === 0 ? 'baseline' : 'optimized-a', pairedWith: 'baseline',
    reports: 2, series: side === 0 ? 100 : 10, retentionMin: 1, lossyReports: 0, missing: [], cpuPercent: 1, rssBytes: 1, monthlyCostUsd: 1, lastAt: 1,
    loss: side === 0 ? host(hostId, { blindSpots: loss.blindSpots }).loss : loss,
  });
  return [point(0), point(1)];
}

t.test('compareFleet: the loss figures per variant and the blind spots per pair, and the verdict with them', async (t) => {
  const points = HOSTS.slice(0, 3).flatMap((h) => pair(h.hostId, h.loss));
  const [group] = compareFleet(points, { kind: 'none' });
  const p = group!.pairs[0]!;
  t.same(p.a.loss.topCpu, { hosts: 3, median: { visible: 10, ranked: 10 }, worst: { visible: 10, ranked: 10, hostId: 'h1' } });
  t.same(p.b.loss.cpuConservation, { hosts: 3, median: 0.71, worst: 0.52, worstHost: 'h2' });
  t.same(p.blindSpots, { knownHosts: 3, hosts: 2, total: 4 });
  t.equal(
    p.verdict,
    'optimized-a cuts series 90% (p5–p95 over 3 hosts: 90%–90%) with full critical retention on 3 of 3 hosts; top-10 CPU: 9 of 10 on the median host (worst 6); CPU accounted for 71% (worst 52%); 3 switches/h (worst 12)',
  );
});

t.test('compareFleet: without loss figures the verdict is as before and the figures are null', async (t) => {
  const [group] = compareFleet(pair('old', NO_LOSS).map((p) => ({ ...p, loss: NO_LOSS })), { kind: 'none' });
  const p = group!.pairs[0]!;
  t.equal(p.verdict, 'optimized-a cuts series 90% (p5–p95 over 1 host: 90%–90%) with full critical retention on 1 of 1 host');
  t.equal(p.blindSpots, null);
  t.equal(p.b.loss.hosts, 0);
});
