// The product's main promise end to end: a candidate pipeline that drops a running critical process is caught by
// the real agent (real collectors, simulated postgres and sshd), and the real hub's API and page name the loss.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { silentLogger } from '../../common/logger.js';
import { startSimulator } from '../../tools/simulator/simulator.js';
import { openBrowser } from '../helpers/browser.js';
import { startHubAndAgent } from '../helpers/hub-and-agent.js';
import { apiTarget, latestReport, onlyPair, signInUrl } from '../helpers/hub-api.js';
import { waitFor } from '../helpers/process.js';

const HOST = 'loss-host';
const CANDIDATE = 'mine';
/** Lists sshd (and two processes not running here) but not postgres. */
const ALLOWLIST = fileURLToPath(new URL('../fixtures/pipelines/allowlist-without-postgres.yaml', import.meta.url));

/** A snapshot of page state taken in one evaluation, so a live re-render cannot split it (the tests have no DOM types). */
const inPage = <T>(page: Page, expression: string) => page.evaluate(expression) as Promise<T>;
interface Row {
  lost: boolean;
  cells: string[];
}
const rows = (selector: string) =>
  `[...document.querySelectorAll(${JSON.stringify(selector)})].map((r) => ({ lost: r.classList.contains('lost'), cells: [...r.cells].map((c) => c.textContent.trim()) }))`;

t.test('a candidate that drops a running postgres: the agent measures the loss, the hub and the page name it', { timeout: 200_000 }, async (t) => {
  const simulator = await startSimulator({ count: 20, criticalNames: ['sshd', 'postgres'], namePrefix: 'phx-e2e', logger: silentLogger() });
  t.teardown(() => simulator.close());

  const { hub, agentStderr } = await startHubAndAgent(t, {
    host: { id: HOST, labels: { suite: 'e2e' } },
    interval: '2s',
    pipeline: { collectionInterval: '1s', metricExpiration: '10s' },
    // The ground truth is the whole host's /proc, where other tests may be running a simulated kubelet or
    // containerd: critical here means the two processes this test runs, so the expected ratio is exact.
    critical: { patterns: ['sshd', 'postgres'] },
    experiment: { variants: ['baseline', { name: CANDIDATE, pipeline: ALLOWLIST }] },
  });

  // The agent's own measurement, as the hub stored it: the first report that counts both processes as running
  // (a process younger than a collection interval is left out of the ground truth).
  const report = await waitFor(
    'a report with postgres and sshd running',
    async () => {
      const r = await latestReport(await apiTarget(hub), HOST);
      return r && r.critical.running.length === 2 ? r : null;
    },
    90_000,
    250,
  ).catch((error: Error) => Promise.reject(new Error(`${error.message}; agent stderr: ${agentStderr()}`)));
  t.same(report.critical.running, ['postgres', 'sshd'], 'ground truth: both simulated processes run');
  const [baseline, candidate] = report.variants;
  t.equal(baseline.name, 'baseline');
  t.equal(candidate.name, CANDIDATE);
  t.equal(baseline.criticalRetention, 1, 'the baseline keeps both');
  t.same(baseline.criticalMissing, []);
  t.equal(candidate.criticalRetention, 0.5, 'the candidate keeps one of the two: sshd');
  t.same(candidate.criticalMissing, ['postgres'], 'the candidate misses postgres, and only postgres');
  t.ok(candidate.series! > 0 && candidate.series! < baseline.series!, `the allowlist exports something, less than the baseline (${candidate.series} < ${baseline.series})`);

  // The fleet comparison lists the host as having lost postgres, and its verdict says so.
  const pair = await waitFor('a comparison with the loss', async () => {
    const p = await onlyPair(await apiTarget(hub));
    return p && p.candidateLosses.length > 0 ? p : null;
  }, 15_000, 250);
  t.equal(pair.baseline, 'baseline');
  t.equal(pair.candidate, CANDIDATE);
  t.same(pair.candidateLosses, [{ hostId: HOST, missing: ['postgres'] }], 'the host lost postgres, nothing else');
  t.same([pair.a.fullRetentionHosts, pair.a.retentionKnownHosts], [1, 1], 'baseline: full retention on the host');
  t.same([pair.b.fullRetentionHosts, pair.b.retentionKnownHosts], [0, 1], 'candidate: not on the host');
  const verdictLine = new RegExp(`^${CANDIDATE} cuts series \\d+%.* with full critical retention on 0 of 1 host; 1 host lost postgres(; (top-\\d+ CPU|CPU accounted for|[\\d.]+ switches\\/h).*)?$`);
  t.match(pair.verdict, verdictLine, 'the verdict names the loss');

  // The page, in Chromium: the summary counts the host, the comparison names it and the process, the host row
  // is highlighted, and the drill-down shows which variant lost what.
  const { page, errors } = await openBrowser(t);
  await page.goto(signInUrl(hub));
  await page.locator(`tr[data-host="${HOST}"].lost`).waitFor({ timeout: 20_000 });
  t.equal(await page.locator('[data-card="losses"] .value').textContent(), '1', 'summary: one host with lost critical processes');
  t.match(await page.locator('[data-verdict]').textContent(), verdictLine, 'the verdict on the page');
  t.same(
    await inPage<string[]>(page, `[...document.querySelectorAll('#comparison ul.losses li')].map((li) => li.textContent)`),
    [`${HOST}: postgres`],
    'the comparison lists the host and the process it lost',
  );
  const [hostRow] = await inPage<Row[]>(page, rows(`#hosts tr[data-host="${HOST}"]`));
  t.ok(hostRow?.lost, 'the host row is highlighted');
  t.ok(hostRow?.cells.includes('postgres'), `the host row names postgres (${hostRow?.cells.join(' | ')})`);
  t.ok(hostRow?.cells.includes('50.0%'), 'and shows the candidate keeping 50.0%');

  await page.locator(`tr[data-host="${HOST}"]`).click();
  await page.locator('#detail-title', { hasText: `Host ${HOST}` }).waitFor();
  await page.locator('#detail-body tbody tr.lost').waitFor();
  t.match(await page.locator('#detail-body p').first().textContent(), /critical running: postgres, sshd/);
  const detail = await inPage<Row[]>(page, rows('#detail-body tbody tr'));
  const byName = new Map(detail.map((r) => [r.cells[0], r]));
  t.same([...byName.keys()], ['baseline', CANDIDATE], 'both variants in the drill-down');
  t.notOk(byName.get('baseline')!.lost, 'baseline is not highlighted');
  t.ok(byName.get('baseline')!.cells.includes('100.0%'), 'baseline keeps 100.0%');
  t.ok(byName.get(CANDIDATE)!.lost, 'the candidate is highlighted');
  t.ok(byName.get(CANDIDATE)!.cells.includes('postgres'), 'and names postgres');
  t.ok(byName.get(CANDIDATE)!.cells.includes('50.0%'), 'and keeps 50.0%');
  t.same(errors, [], 'no errors in the browser console');
});
