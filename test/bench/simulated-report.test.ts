// The load tools' reports are what a current agent sends: valid against the protocol's schema, with the host's truth
// and both variants' loss figures (so the stores' rows carry loss sums and the hub validates them, as in a real fleet).
import t from 'tap';
import { agentReportSchema } from '../../protocol/report.js';
import { simulatedReport } from '../../bench/simulated-report.js';

t.test('simulated reports validate, and carry the truth and losses a current agent reports', async (t) => {
  let candidateLost = 0;
  for (const index of [0, 1, 7, 49, 50, 399]) {
    for (const seq of [1, 2, 3, 7, 1000]) {
      const report = simulatedReport(index, `host-${index}`, seq);
      const parsed = agentReportSchema.safeParse(report);
      t.ok(parsed.success, `host ${index} seq ${seq} validates${parsed.success ? '' : `: ${parsed.error.message}`}`);
      t.equal(report.truth?.topCpu?.length, report.truth?.k, 'the host ranks its top K');
      const [baseline, candidate] = report.variants;
      t.equal(baseline.loss?.topCpu?.visible, baseline.loss?.topCpu?.ranked, 'the baseline sees all of the top');
      candidateLost += candidate.loss!.topCpu!.ranked - candidate.loss!.topCpu!.visible;
    }
  }
  t.ok(candidateLost > 0, 'the candidate loses some of the top');
});
