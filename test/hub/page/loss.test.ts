// What a candidate loses, on the page (issue 15), in a real headless Chromium against a real hub fed reports over the
// agent protocol: the host drill-down's loss figures and names, series per metric and pipeline flow, exactly as
// reported, and "not measured" for a report without them (an older agent) and for a pair's first round; the fleet's
// breakdown summed over two hosts; the comparison's loss columns and verdict; and the create form's loss criteria,
// refused beside their input and then sent in the definition the hub keeps. One hub, one browser.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { silentLogger } from '../../../common/logger.js';
import { TokenSet } from '../../../hub/auth.js';
import { hubRoutes } from '../../../hub/http/routes.js';
import { startHub, type Hub } from '../../../hub/server.js';
import type { AgentReport, HostTruth, VariantLoss } from '../../../protocol/report.js';
import { sampleLoss, sampleReport, sampleReportWithLoss, sampleTruth } from '../../fixtures/report.js';
import { openBrowser } from '../../helpers/browser.js';
import { apiToken, bearer, signInUrl } from '../../helpers/hub-api.js';
import { helloFor, openSocket, reportFor } from '../../helpers/ws-client.js';

const AGENT_TOKEN = 'loss-page-agent-token-0123456789';
/** The console errors the test provokes on purpose: the hub's 400 for a refused definition. */
const PROVOKED = /Failed to load resource: the server responded with a status of 400/;

const CPU = 'process_cpu_time_seconds_total';
const MEM = 'process_memory_usage_bytes';
const THREADS = 'process_threads';
const FDS = 'process_open_file_descriptors';

interface HostSpec {
  hostId: string;
  kind: 'vm' | 'k8s-node';
  labels: Record<string, string>;
  report: AgentReport;
}

const total = (m: Record<string, number>) => Object.values(m).reduce((x, y) => x + y, 0);

/**
 * A report with these series per metric: the baseline's pipeline passes everything through `batch`; the candidate's
 * `filter/top` takes in what the baseline accepted and passes on its own series.
 */
function withMetrics(report: AgentReport, a: Record<string, number>, b: Record<string, number>): AgentReport {
  const [va, vb] = report.variants;
  return {
    ...report,
    variants: [
      { ...va, series: total(a), seriesByMetric: a, telemetry: { acceptedPoints: total(a), sentPoints: total(a), processors: [{ processor: 'batch', incoming: total(a), outgoing: total(a) }] } },
      {
        ...vb,
        series: total(b),
        seriesByMetric: b,
        telemetry: {
          acceptedPoints: total(a),
          sentPoints: total(b),
          processors: [{ processor: 'filter/top', incoming: total(a), outgoing: total(b) }, { processor: 'batch', incoming: total(b), outgoing: total(b) }],
        },
      },
    ],
  };
}

/** sampleReportWithLoss() with the candidate's loss figures and the host's truth changed. */
function lossReport(hostId: string, candidate: Partial<VariantLoss>, truth: Partial<HostTruth> = {}, baseline: Partial<VariantLoss> = {}): AgentReport {
  const report = sampleReportWithLoss(hostId);
  const [a, b] = report.variants;
  return { ...report, variants: [{ ...a, loss: { ...a.loss!, ...baseline } }, { ...b, loss: sampleLoss(candidate) }], truth: sampleTruth(truth) };
}

/**
 * Candidate figures (baseline: all of the top 10, 99% of CPU, no flapping). Flapping over 15 s rounds: 1 per round is 240/h.
 *   loss-a (env=prod):    top CPU 9 of 10, CPU 95%, 2+1 flapping (720/h), 1 switch (240/h)
 *   loss-b (env=prod):    top CPU 7 of 10, CPU 80%, 4+2 flapping (1440/h), 3 switches (720/h), 2 counter resets, 3 blind spots
 *   loss-d (env=staging): top CPU 10 of 10, CPU 102%, no flapping
 *   first-e:              a pair's first round: no CPU interval, so no top CPU, CPU conservation or flapping
 *   old-c (k8s-node):     an agent before issue 15: no loss figures, no truth
 */
const HOSTS: HostSpec[] = [
  {
    hostId: 'loss-a', kind: 'vm', labels: { env: 'prod' },
    report: withMetrics(lossReport('loss-a', {}), { [CPU]: 1000, [MEM]: 800, [THREADS]: 200 }, { [CPU]: 40, [MEM]: 30 }),
  },
  {
    hostId: 'loss-b', kind: 'vm', labels: { env: 'prod' },
    report: withMetrics(
      lossReport(
        'loss-b',
        {
          topCpu: { ranked: 10, visible: 7, missing: ['phx-burn-07', 'phx-burn-08', 'phx-hog-01'] },
          cpuCores: 0.8, cpuConservation: 0.8, counterResets: 2,
          flapping: { appeared: 4, vanished: 2, switched: 3, switchedNames: ['phx-burn-07', 'phx-burn-08', 'phx-burn-09'] },
        },
        { blindSpots: { count: 3, names: ['phx-blind', 'phx-short'] } },
      ),
      { [CPU]: 1200, [MEM]: 900, [THREADS]: 100 },
      { [CPU]: 60, [MEM]: 20, [FDS]: 2 },
    ),
  },
  {
    hostId: 'loss-d', kind: 'vm', labels: { env: 'staging' },
    report: lossReport('loss-d', { topCpu: { ranked: 10, visible: 10, missing: [] }, cpuCores: 1.02, cpuConservation: 1.02, flapping: { appeared: 0, vanished: 0, switched: 0, switchedNames: [] } }),
  },
  {
    hostId: 'first-e', kind: 'vm', labels: {},
    report: lossReport(
      'first-e',
      { topCpu: null, cpuCores: null, cpuConservation: null, flapping: null },
      { intervalMs: null, cpuCores: null, topCpu: null },
      { topCpu: null, cpuCores: null, cpuConservation: null, flapping: null },
    ),
  },
  { hostId: 'old-c', kind: 'k8s-node', labels: {}, report: sampleReport('old-c') },
];

/** Says hello as each host's agent and sends its report; waits for the ack. */
async function feed(t: Test, hub: Hub, spec: HostSpec): Promise<void> {
  const s = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => s.ws.close());
  s.ws.send(JSON.stringify({ ...helloFor(`agent-${spec.hostId}`, spec.hostId, spec.labels), hostKind: spec.kind }));
  const report = { ...spec.report, host: { ...spec.report.host, kind: spec.kind, labels: spec.labels } };
  s.ws.send(JSON.stringify({ ...reportFor(spec.hostId, 1), report }));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
}

const texts = async (page: Page, selector: string) => (await page.locator(selector).allTextContents()).map((s) => s.trim());
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

/** The drill-down's loss figure `key` for each variant (then the host's blind spots), as shown. */
const lossCells = (page: Page, key: string) => texts(page, `#detail-loss tr[data-loss="${key}"] td`);

async function openHost(page: Page, hostId: string): Promise<void> {
  await page.locator(`#hosts tr[data-host="${hostId}"]`).click();
  await page.locator('#detail-title', { hasText: `Host ${hostId}` }).waitFor();
  await page.locator('#detail-loss [data-loss-table]').waitFor();
}

t.test('what a candidate loses: drill-down, fleet breakdown, comparison and the form', { timeout: 180_000 }, async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-loss-page-'));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([AGENT_TOKEN]), logger: silentLogger(), routes: hubRoutes, maintenanceMs: 3_600_000 });
  t.teardown(async () => {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  for (const spec of HOSTS) await feed(t, hub, spec);

  const { page, errors } = await openBrowser(t);
  await page.goto(signInUrl(hub, 'experimenter'));
  await page.locator('#hosts tr[data-host="old-c"]').waitFor();
  await page.locator('#comparison table.comparison').waitFor();

  await t.test('the drill-down shows each variant\'s losses, exactly as reported', async (t) => {
    await openHost(page, 'loss-b');
    t.same(await texts(page, '#detail-loss [data-loss-table] thead th'), ['', 'baseline', 'optimized-a'], 'both variants side by side');
    t.same(await lossCells(page, 'topCpu'), ['10 of 10', '7 of 10 — missing: phx-burn-07, phx-burn-08, phx-hog-01'], 'top-10 CPU, with the names missing');
    t.same(await lossCells(page, 'topRss'), ['10 of 10', '10 of 10']);
    t.equal(await text(page, '#detail-loss tr[data-loss="topCpu"] th'), 'top-10 CPU shown by name', 'K from the host\'s truth');
    t.same(await lossCells(page, 'cpuConservation'), ['99.0% (0.95 of 1.00 cores)', '80.0% (0.80 of 1.00 cores)'], 'as %, with the totals');
    t.same(await lossCells(page, 'rssConservation'), ['97.0% (3891.2 MiB of 4096.0 MiB)', '97.0% (3891.2 MiB of 4096.0 MiB)']);
    t.same(await lossCells(page, 'counterResets'), ['0', '2']);
    t.same(await lossCells(page, 'flapping'), ['0 appeared, 0 vanished, 0 switched', '4 appeared, 2 vanished, 3 switched: phx-burn-07, phx-burn-08, phx-burn-09']);
    t.same(await lossCells(page, 'blindSpots'), ['3: phx-blind, phx-short and 1 more'], 'blind spots: the count and the first names');
    t.match(await text(page, '#detail-loss [data-truth]'), /290 processes, 1\.00 cores, 4096\.0 MiB; top 10; CPU over 15 s/);

    // Series per metric, both variants side by side, the largest first; the flow stage by stage.
    const metrics = page.locator('#detail-loss table[data-bars="series-by-metric"]');
    t.same(await texts(page, '#detail-loss table[data-bars="series-by-metric"] thead th'), ['metric', 'baseline', 'optimized-a']);
    t.same(await metrics.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-item'))), [CPU, MEM, THREADS, FDS]);
    t.same(await texts(page, `#detail-loss table[data-bars="series-by-metric"] tr[data-item="${CPU}"] .bar-value`), ['1,200', '60']);
    t.same(await texts(page, `#detail-loss table[data-bars="series-by-metric"] tr[data-item="${FDS}"] .bar-value`), ['–', '2'], 'a metric one variant lacks');
    t.equal(await metrics.locator('meter').count(), 6, 'a bar per known value');
    const flow = (variant: string, stage: string) => texts(page, `#detail-loss table[data-flow-of="${variant}"] tr[data-stage="${stage}"] td`);
    t.same(await flow('optimized-a', 'accepted (receiver)'), ['–', '2,200', '–']);
    t.same(await flow('optimized-a', 'filter/top'), ['2,200', '82', '3.7%'], 'in, out and the share passed on');
    t.same(await flow('optimized-a', 'batch'), ['82', '82', '100.0%']);
    t.same(await flow('optimized-a', 'sent (exporter)'), ['82', '–', '–']);
    t.same(await flow('baseline', 'batch'), ['2,200', '2,200', '100.0%']);
  });

  await t.test('"not measured" for a report without the figures and for a pair\'s first round', async (t) => {
    await openHost(page, 'old-c');
    for (const key of ['topCpu', 'topRss', 'cpuConservation', 'rssConservation', 'counterResets', 'flapping']) {
      t.same(await lossCells(page, key), ['not measured', 'not measured'], `old agent: ${key}`);
    }
    t.same(await lossCells(page, 'blindSpots'), ['not measured']);
    t.match(await text(page, '#detail-loss [data-truth]'), /does not measure/);
    t.same(await texts(page, '#detail-loss table[data-flow-of="optimized-a"] tr[data-stage] td[data-flow="out"]'), ['35', '–'], 'its flow (no processors) is shown all the same');

    await openHost(page, 'first-e');
    t.same(await lossCells(page, 'topCpu'), ['not measured', 'not measured'], 'first round: no top CPU yet');
    t.same(await lossCells(page, 'cpuConservation'), ['not measured', 'not measured']);
    t.same(await lossCells(page, 'flapping'), ['not measured', 'not measured']);
    t.same(await lossCells(page, 'topRss'), ['10 of 10', '10 of 10'], 'what the first round measures is shown');
    t.same(await lossCells(page, 'blindSpots'), ['1: phx-blind']);
    t.match(await text(page, '#detail-loss [data-truth]'), /no interval yet/);
  });

  await t.test('the comparison table shows what each variant loses, and the verdict says it', async (t) => {
    const row = (key: string) => texts(page, `#comparison table.comparison tr[data-row="${key}"] td`);
    // Candidate top CPU by share: b 0.7, a 0.9, d 1.0 (first-e and old-c ranked none): median a, worst b.
    t.same(await row('topCpu'), ['10 of 10 / 10 of 10 on loss-a', '9 of 10 / 7 of 10 on loss-b']);
    t.same(await row('topRss'), ['10 of 10 / 10 of 10 on first-e', '10 of 10 / 10 of 10 on first-e'], 'a tie: the first host id');
    // Candidate CPU 0.8 0.95 1.02: median 0.95, worst (farthest from 1) b.
    t.same(await row('cpuConservation'), ['99.0% / 99.0% on loss-a', '95.0% / 80.0% on loss-b']);
    t.same(await row('rssConservation'), ['97.0% / 97.0% on first-e', '97.0% / 97.0% on first-e']);
    // Per hour over one 15 s round: d 0, a 3 × 240, b 6 × 240; switches d 0, a 240, b 720.
    t.same(await row('flapping'), ['0/h / 0/h on loss-a', '720/h / 1440/h on loss-b']);
    t.same(await row('switches'), ['0/h / 0/h on loss-a', '240/h / 720/h on loss-b']);
    t.same(await row('counterResets'), ['0', '2 on 1 host']);
    t.same(await row('blindSpots'), ['', '6 on 4 of 4 hosts'], 'a, d and first-e one each, b three; old-c does not know');
    t.match(await text(page, '#comparison [data-verdict]'), /top-10 CPU: 9 of 10 on the median host \(worst 7\); CPU accounted for 95% \(worst 80%\); 240 switches\/h \(worst 720\)/, 'the verdict line, with its loss clause');
  });

  await t.test('the fleet breakdown sums every host\'s latest report, per group', async (t) => {
    t.same(await texts(page, '#breakdown table[data-bars="fleet-series-by-metric"] thead th'), ['metric', 'baseline (A, 5 hosts)', 'optimized-a (B, 5 hosts)']);
    await page.locator('#group-by').selectOption('label:env');
    const prod = '#breakdown [data-group="env=prod"]';
    await page.locator(prod).waitFor();
    t.equal(await text(page, `${prod} h3`), 'env=prod (2 hosts)');
    const bars = `${prod} table[data-bars="fleet-series-by-metric"]`;
    t.same(await texts(page, `${bars} thead th`), ['metric', 'baseline (A, 2 hosts)', 'optimized-a (B, 2 hosts)']);
    const cells = (item: string) => texts(page, `${bars} tr[data-item="${item}"] .bar-value`);
    // loss-a + loss-b: baseline 1000+1200, 800+900, 200+100; candidate 40+60, 30+20, 0+2.
    t.same(await cells(CPU), ['2,200', '100']);
    t.same(await cells(MEM), ['1,700', '50']);
    t.same(await cells(THREADS), ['300', '–']);
    t.same(await cells(FDS), ['–', '2']);
    t.same(await cells('all metrics'), ['4,200', '152']);
    const flow = (stage: string) => texts(page, `${prod} table[data-flow-of="optimized-a (B, 2 hosts)"] tr[data-stage="${stage}"] td`);
    t.same(await flow('accepted (receiver)'), ['–', '4,200', '–']);
    t.same(await flow('filter/top'), ['4,200', '152', '3.6%']);
    t.same(await flow('sent (exporter)'), ['152', '–', '–']);
    t.match(await text(page, `${prod} table[data-flow-of="optimized-a (B, 2 hosts)"] tr[data-stage="filter/top"] th`), /\(2 hosts\)$/, 'over how many hosts');
    t.same((await texts(page, '#breakdown [data-group] h3')), ['env=(none) (2 hosts)', 'env=prod (2 hosts)', 'env=staging (1 host)']);
    await page.locator('#group-by').selectOption('none');
    await page.locator('#breakdown [data-group="all"]').waitFor();
  });

  await t.test('the create form sends the loss criteria; the experiment lists them', async (t) => {
    await page.locator('#nav a[data-nav="experiments"]').click();
    await page.locator('#experiment-new').click();
    await page.locator('#experiment-mode-fields').check();
    await page.locator('#xf-candidate option[value="optimized-b"]').waitFor({ state: 'attached' });
    const fill = async (values: Record<string, string>) => {
      for (const [id, value] of Object.entries(values)) await page.locator(`#${id}`).fill(value);
    };
    await fill({
      'xf-name': 'loss-criteria', 'xf-hosts': 'loss-a', 'xf-top-cpu': '0', 'xf-top-rss': '10', 'xf-cpu-conservation': '5%',
      'xf-rss-conservation': '0.1', 'xf-flapping': '30', 'xf-switches': '5',
    });
    await page.locator('#experiment-create').click();
    const error = page.locator('#xf-top-cpu-error');
    await error.waitFor();
    t.match(await error.textContent(), /^definition: criteria\.topCpuCoverage must be a whole number of processes from 1 to 100/, "the hub's message");
    t.equal(await page.locator('#xf-top-cpu').getAttribute('aria-invalid'), 'true', 'beside its input, marked invalid');
    t.equal(await page.evaluate('document.activeElement?.id ?? null'), 'xf-top-cpu', 'and focused');

    await fill({ 'xf-top-cpu': '9' });
    await page.locator('#experiment-create').click();
    await page.waitForURL(/#\/experiments\/loss-criteria-[0-9a-f]{8}$/);
    const id = decodeURIComponent(page.url().split('#/experiments/')[1]!);
    const res = await fetch(`${hub.url}/api/v1/experiments/${encodeURIComponent(id)}`, { headers: bearer(await apiToken(hub)) });
    const { experiment } = (await res.json()) as { experiment: { state: string; definition: { criteria: Record<string, number> } } };
    t.equal(experiment.state, 'draft');
    t.same(experiment.definition.criteria, { retention: 1, topCpuCoverage: 9, topRssCoverage: 10, cpuConservation: 0.05, rssConservation: 0.1, flapping: 30, switches: 5 }, 'the spec the hub keeps');

    await page.locator('#experiment-criteria tr[data-criterion="switches"]').waitFor();
    const criteria = await page.locator('#experiment-criteria tbody tr').evaluateAll((rows) => rows.map((r) => [r.getAttribute('data-criterion'), r.getAttribute('data-met')]));
    t.same(criteria, [['retention', 'null'], ['topCpuCoverage', 'null'], ['topRssCoverage', 'null'], ['cpuConservation', 'null'], ['rssConservation', 'null'], ['flapping', 'null'], ['switches', 'null']], 'each listed, not judged yet');
    t.same(await texts(page, '#experiment-criteria tr[data-criterion="topCpuCoverage"] td'), ['top-K CPU shown by name topCpuCoverage', ">= 9 of each host's top CPU consumers shown by name", 'no data', '… not yet']);
    t.same((await texts(page, '#experiment-criteria tr[data-criterion="cpuConservation"] td')).slice(1, 2), ["CPU accounted for within 5% of the host's own reading, on every host"]);
  });

  t.same(errors.filter((e) => !PROVOKED.test(e)), [], 'no other error in the browser console');
});
