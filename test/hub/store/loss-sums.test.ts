// The loss figures as the store sums them: one report's sums (absent figures count nowhere), their addition, and the
// range's figures read back (means, sums, flapping over the hours it covers), unknown as null rather than 0.
import t from 'tap';
import { combineLoss, flappingPerHour, lossFigures, lossOf, LOSS_COLUMNS, NO_LOSS, ZERO_LOSS } from '../../../hub/store/loss-sums.js';
import { sampleLoss, sampleReport, sampleTruth } from '../../fixtures/report.js';

const variant = sampleReport().variants[1];

t.test('a report from an agent before issue 15 adds nothing but its count of reports elsewhere', async (t) => {
  t.same(lossOf(variant, undefined), ZERO_LOSS);
  t.same(lossFigures(ZERO_LOSS), { reports: 0, topCpu: null, topRss: null, cpuConservation: null, rssConservation: null, counterResets: null, flapping: null, blindSpots: null });
  t.same(NO_LOSS, lossFigures(ZERO_LOSS));
  t.equal(new Set(LOSS_COLUMNS.map(([, column]) => column)).size, LOSS_COLUMNS.length, 'one column per sum');
  t.same(Object.keys(ZERO_LOSS).sort(), LOSS_COLUMNS.map(([field]) => field).sort());
});

t.test("one report's sums: each figure counted only where it is known", async (t) => {
  t.same(lossOf({ ...variant, loss: sampleLoss() }, sampleTruth()), {
    ...ZERO_LOSS, topCpuVisible: 9, topCpuRanked: 10, topCpuN: 1, topRssVisible: 10, topRssRanked: 10, topRssN: 1, cpuConservation: 0.95, cpuConservationN: 1,
    rssConservation: 0.97, rssConservationN: 1, lossN: 1, counterResets: 0, appeared: 2, vanished: 1, switched: 1, flappingMs: 15_000, flappingN: 1, blindSpots: 1, blindSpotsN: 1,
  });
  // A pair's first round: no CPU ranking, no conservation of CPU, no flapping (and no interval for it).
  const first = lossOf({ ...variant, loss: sampleLoss({ topCpu: null, cpuConservation: null, flapping: null }) }, sampleTruth({ intervalMs: null, topCpu: null, cpuCores: null }));
  t.match(first, { topCpuN: 0, topCpuVisible: 0, cpuConservationN: 0, flappingN: 0, flappingMs: 0, topRssN: 1, lossN: 1, blindSpotsN: 1 });
  t.match(lossOf({ ...variant, loss: sampleLoss() }, sampleTruth({ intervalMs: null })), { flappingN: 0, appeared: 0, switched: 0 }, 'flapping without an interval is not counted: no rate can be made of it');
  t.match(lossOf({ ...variant, loss: sampleLoss() }, undefined), { flappingN: 0, lossN: 1, blindSpotsN: 0 }, 'nor without the truth');
  t.match(lossOf(variant, sampleTruth()), { lossN: 0, blindSpots: 1, blindSpotsN: 1 }, "the host's blind spots without the variant's figures");
});

t.test('sums add and subtract; the figures are means per report, sums, and flapping over its hours', async (t) => {
  const a = lossOf({ ...variant, loss: sampleLoss() }, sampleTruth());
  const b = lossOf({ ...variant, loss: sampleLoss({ topCpu: { ranked: 10, visible: 5, missing: [] }, cpuConservation: 0.55, counterResets: 3 }) }, sampleTruth({ intervalMs: 45_000, blindSpots: { count: 3, names: [] } }));
  const sum = combineLoss(a, b, 1);
  t.same(combineLoss(sum, b, -1), a, 'and subtract');
  t.match(sum, { topCpuVisible: 14, topCpuN: 2, counterResets: 3, flappingMs: 60_000, blindSpots: 4 });
  const figures = lossFigures(sum);
  t.same(figures.topCpu, { visible: 7, ranked: 10 });
  t.equal(figures.cpuConservation, 0.75);
  t.equal(figures.counterResets, 3);
  t.same(figures.flapping, { appeared: 4, vanished: 2, switched: 2, hours: 1 / 60 });
  t.equal(figures.blindSpots, 2);
  t.same(flappingPerHour(figures), { series: 6 * 60, switches: 2 * 60 }, 'per hour: (appeared + vanished) ÷ hours, switches ÷ hours');
  t.equal(flappingPerHour(NO_LOSS), null);
});
