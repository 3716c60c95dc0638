// An experiment's loss criteria (issue 15) judged over its hosts: each holds on every host, so each is judged on the
// candidate's worst host among those that reported the figure; unjudged (pending) while none has.
import type { HostLossFigures } from '../compare-loss.js';
import type { CriterionResult } from '../http/experiment-types.js';
import { flappingPerHour, type Coverage, type LossFigures } from '../store/loss-sums.js';
import type { ExperimentSpec } from './spec.js';

type Criteria = ExperimentSpec['criteria'];
type LossCriterion = 'topCpuCoverage' | 'topRssCoverage' | 'cpuConservation' | 'rssConservation' | 'flapping' | 'switches';

/** How one criterion reads a host's figure, how far past the bar a host is (> 0: not met), and what it shows. */
interface Rule<T> {
  name: LossCriterion;
  figure(loss: LossFigures): T | null;
  /** The host's excess over the bar: the worst host has the largest; met when it is at most 0. */
  excess(value: T, bar: number): number;
  wanted(bar: number): string;
  /** The value kept in the result and the text shown, for the worst host. */
  show(value: T, hostId: string): [number, string];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const pct = (x: number) => `${round(x * 100, 1)}%`;

const coverage = (name: 'topCpuCoverage' | 'topRssCoverage', resource: string, figure: (loss: LossFigures) => Coverage | null): Rule<Coverage> => ({
  name,
  figure,
  // A host that ranks fewer than the bar (few processes used any) must show all it ranks.
  excess: (c, bar) => Math.min(bar, c.ranked) - c.visible,
  wanted: (bar) => `>= ${bar} of each host's top ${resource} consumers shown by name`,
  show: (c, hostId) => [round(c.visible, 1), `${round(c.visible, 1)} of ${round(c.ranked, 1)} on ${hostId} (worst host)`],
});

const conservation = (name: 'cpuConservation' | 'rssConservation', resource: string, figure: (loss: LossFigures) => number | null): Rule<number> => ({
  name,
  figure,
  excess: (ratio, bar) => Math.abs(1 - ratio) - bar,
  wanted: (bar) => `${resource} accounted for within ${pct(bar)} of the host's own reading, on every host`,
  show: (ratio, hostId) => [round(ratio, 3), `${pct(ratio)} on ${hostId} (farthest from 100%)`],
});

const perHour = (name: 'flapping' | 'switches', what: string, figure: (loss: LossFigures) => number | null): Rule<number> => ({
  name,
  figure,
  excess: (rate, bar) => rate - bar,
  wanted: (bar) => `<= ${bar} ${what} per hour on every host`,
  show: (rate, hostId) => [round(rate, 1), `${round(rate, 1)}/h on ${hostId} (most on one host)`],
});

/** In the order they are judged and shown. */
const RULES = [
  coverage('topCpuCoverage', 'CPU', (l) => l.topCpu),
  coverage('topRssCoverage', 'RSS', (l) => l.topRss),
  conservation('cpuConservation', 'CPU', (l) => l.cpuConservation),
  conservation('rssConservation', 'RSS', (l) => l.rssConservation),
  perHour('flapping', 'series appearing or vanishing', (l) => flappingPerHour(l)?.series ?? null),
  perHour('switches', 'process names switching to or from a roll-up', (l) => flappingPerHour(l)?.switches ?? null),
] as Rule<unknown>[];

function judge<T>(rule: Rule<T>, bar: number, hosts: readonly HostLossFigures[]): CriterionResult {
  const wanted = rule.wanted(bar);
  let worst: { hostId: string; value: T; excess: number } | null = null;
  for (const host of hosts) {
    const value = rule.figure(host.loss);
    if (value === null) continue;
    const excess = rule.excess(value, bar);
    if (!worst || excess > worst.excess) worst = { hostId: host.hostId, value, excess };
  }
  if (!worst) return { name: rule.name, wanted, value: null, shown: hosts.length === 0 ? 'no data' : 'not reported by any host yet', met: null };
  const [value, shown] = rule.show(worst.value, worst.hostId);
  // Judged unrounded, with room for the float error of a mean (9 of 10 in every report is 9, not 8.999…).
  return { name: rule.name, wanted, value, shown, met: worst.excess <= 1e-9 };
}

/** The loss criteria asked for, judged over the candidate's figures on each host (sorted by host id: ties go to the first). */
export function lossCriteria(criteria: Criteria, hosts: readonly HostLossFigures[]): CriterionResult[] {
  return RULES.flatMap((rule) => {
    const bar = criteria[rule.name];
    return bar === undefined ? [] : [judge(rule, bar, hosts)];
  });
}
