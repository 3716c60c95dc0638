// The hub's experiment pages in a real headless Chromium, against a real hub and a real v2 agent running the real
// collectors: an experimenter's refused definition is shown naming its field, a good one is created, started,
// watched (the host applying then measuring, the criteria) and stopped (by whom; Stop asks first); a viewer sees
// neither Start nor Stop nor the form, and the API refuses the viewer's stop; the catalog lists the built-ins and
// takes uploads.
import t from 'tap';
import type { Page } from 'playwright-core';
import { builtinTemplate } from '../../helpers/assignment.js';
import { apiToken, bearer, signInUrl } from '../../helpers/hub-api.js';
import { openExperimentForm } from './experiment-page.js';

const HOST = 'page-exp-host';
const HOSTILE = '<img src=x onerror="window.__xss=1">';
/** The console errors the test provokes on purpose: the hub's 400 for a refused definition and a refused template. */
const PROVOKED = /Failed to load resource: the server responded with a status of 400/;

const BAD = `name: page-trial
baseline: {pipeline: baseline}
candidate: {pipeline: optimized-b}
target:
  hosts: [${HOST}]
rollout:
  canary: ten
`;
const GOOD = `name: page-trial
description: '${HOSTILE}'
baseline: {pipeline: baseline}
candidate: {pipeline: optimized-b}
parameters: {collectionInterval: 1s, metricExpiration: 10s}
target:
  hosts: [${HOST}]
criteria:
  reduction: 10%
`;

/** The text selected in a textarea, as a browser-side expression (the tests have no DOM types). */
const SELECTED = (id: string) => `(() => { const a = document.getElementById(${JSON.stringify(id)}); return a.value.slice(a.selectionStart, a.selectionEnd); })()`;
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

t.test('experiments from the page: create, watch and stop as an experimenter; a viewer may only look', { timeout: 180_000 }, async (t) => {
  const { hub, browser, page, errors } = await openExperimentForm(t, { id: HOST, labels: { env: 'test' } });
  const definition = page.locator('#experiment-definition');
  t.match(await definition.inputValue(), /pipeline: optimized-b/, 'the form starts with an example of the built-in pipelines');

  // A refused definition: the error names the field (and its line), beside the text, which is kept.
  await definition.fill(BAD);
  await page.locator('#experiment-create-start').click();
  const error = page.locator('#experiment-error');
  await error.locator('[data-field]').waitFor();
  t.equal(await text(page, '#experiment-error [data-field]'), 'rollout.canary', 'the field the hub named');
  t.equal(await text(page, '#experiment-error [data-line]'), 'line 7', 'and the line it is written on');
  t.match(await error.textContent(), /definition: rollout\.canary must be a number of hosts .*got 'ten'/, "the hub's message");
  t.equal(await definition.getAttribute('aria-invalid'), 'true');
  t.equal(await page.evaluate(SELECTED('experiment-definition')), '  canary: ten', 'the line is selected in the text');
  t.equal(await definition.inputValue(), BAD, 'the text is kept');
  t.match(page.url(), /#\/experiments\/new$/, 'still on the form');

  // A good one, created and started: the page opens it.
  await definition.fill(GOOD);
  await page.locator('#experiment-create-start').click();
  await page.waitForURL(/#\/experiments\/page-trial-[0-9a-f]{8}$/);
  t.ok(await error.isHidden(), 'the error went');
  const id = decodeURIComponent(page.url().split('#/experiments/')[1]!);
  t.equal((await hub.experiments.detail(id)).state, 'running', 'the hub runs it');

  // Watched: the host goes applying then measuring (both events in the timeline), the criteria get values.
  await page.locator(`#experiment-hosts tr[data-host="${HOST}"][data-state="measuring"]`).waitFor({ timeout: 90_000 });
  const hostCells = (await page.locator(`#experiment-hosts tr[data-host="${HOST}"] td`).allTextContents()).map((s) => s.trim());
  t.same([hostCells[0], hostCells[1], hostCells[2], hostCells[5]], [HOST, 'canary', 'measuring', 'yes'], 'host, wave, state, connected');
  await page.locator('#experiment-events tr[data-event="host.applying"]').waitFor();
  t.equal(await page.locator('#experiment-events tr[data-event="host.measuring"]').count(), 1, 'applying, then measuring: both in the events');
  const kinds = await page.locator('#experiment-events tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-event')));
  t.ok(kinds.indexOf('host.measuring') < kinds.indexOf('host.applying'), `newest first: ${kinds.join(', ')}`);
  await page.locator('#experiment-criteria tr[data-criterion="reduction"]:not([data-met="null"])').waitFor({ timeout: 60_000 });
  const reduction = (await page.locator('#experiment-criteria tr[data-criterion="reduction"] td').allTextContents()).map((s) => s.trim());
  t.equal(reduction[1], '>= 10%', 'wanted');
  t.match(reduction[2], /^-?\d+(\.\d)?%$/, `the value shown: ${reduction[2]}`);
  t.match(reduction[3], /^(✓ met|✗ not met)$/);
  t.ok(await page.locator('#experiment-criteria tr[data-criterion="retention"]').count(), 'retention is judged too');
  t.equal(await text(page, '#experiment-head [data-fact="target"]'), '1 named host');
  t.ok(await page.locator('#experiment-stop').isVisible(), 'an experimenter may stop it');
  t.ok(await page.locator('#experiment-start').isHidden(), 'and it is no draft to start');
  t.ok((await page.locator('#experiment-head').textContent())!.includes(HOSTILE), 'the hostile description is shown literally');

  await t.test('a viewer sees the running experiment, but no Stop, no Start, no form; the API refuses its stop', async (t) => {
    const context = await browser.newContext();
    t.teardown(() => context.close());
    const viewer = await context.newPage();
    const viewerErrors: string[] = [];
    viewer.on('pageerror', (e) => viewerErrors.push(String(e)));
    await viewer.goto(signInUrl(hub, 'viewer'));
    await viewer.locator('#nav a[data-nav="experiments"]').click();
    await viewer.locator(`#experiment-list tr[data-experiment="${id}"][data-state="running"]`).waitFor();
    t.ok(await viewer.locator('#experiment-new').isHidden(), 'no link to the form');
    await viewer.locator(`#experiment-list tr[data-experiment="${id}"] a`).click();
    await viewer.locator(`#experiment-head[data-state="running"]`).waitFor();
    await viewer.locator(`#experiment-hosts tr[data-host="${HOST}"]`).waitFor();
    t.ok(await viewer.locator('#experiment-stop').isHidden(), 'no Stop');
    t.ok(await viewer.locator('#experiment-start').isHidden(), 'no Start');
    await viewer.evaluate('location.hash = "#/experiments/new"');
    await viewer.locator('#experiment-form-denied').waitFor();
    t.ok(await viewer.locator('#experiment-form').isHidden(), 'no create form');
    const refused = await fetch(`${hub.url}/api/v1/experiments/${encodeURIComponent(id)}/stop`, { method: 'POST', headers: bearer(await apiToken(hub, 'viewer')) });
    t.equal(refused.status, 403, "the viewer's stop is refused");
    t.equal((await hub.experiments.detail(id)).state, 'running', 'and it runs on');
    t.same(viewerErrors, [], 'no script error on the viewer page');
  });

  // Stop asks first: one click only asks (Cancel, or the time running out, turns it back); the confirming click stops.
  const stop = page.locator('#experiment-stop');
  const cancel = page.locator('#experiment-stop-cancel');
  t.ok(await cancel.isHidden(), 'no Cancel before Stop is clicked');
  await stop.click();
  t.equal(await text(page, '#experiment-stop'), 'Stop: confirm', 'a first click only asks');
  t.ok(await cancel.isVisible(), 'beside a Cancel');
  await cancel.click();
  t.equal(await text(page, '#experiment-stop'), 'Stop', 'Cancel turns it back');
  t.ok(await cancel.isHidden());
  await stop.click();
  await page.locator('#experiment-stop:not([data-asking])').waitFor({ timeout: 15_000 });
  t.equal(await text(page, '#experiment-stop'), 'Stop', 'unconfirmed, it turns back by itself');
  t.ok(await cancel.isHidden());
  t.equal((await hub.experiments.detail(id)).state, 'running', 'and nothing was stopped');
  await stop.click();
  await stop.click();

  // Stopped from the page: the state, who stopped it, the event with its actor; no more Stop.
  await page.locator('#experiment-head[data-state="stopped"]').waitFor();
  t.ok(await cancel.isHidden(), 'nor Cancel');
  t.ok(await page.locator('#experiment-stop').isHidden(), 'no Stop once stopped');
  t.equal(await text(page, '#experiment-outcome [data-outcome="stoppedBy"]'), 'tester-experimenter', 'the outcome says by whom');
  const stopped = (await page.locator('#experiment-events tr[data-event="stopped"] td').allTextContents()).map((s) => s.trim());
  t.equal(stopped[3], 'tester-experimenter', 'the event names the actor');
  t.equal((await hub.experiments.detail(id)).state, 'stopped');
  await page.locator(`#experiment-hosts tr[data-host="${HOST}"][data-state="rolled-back"]`).waitFor();

  await t.test('the catalog lists the built-ins with their use; a refused upload names the line; an upload is deleted', async (t) => {
    await page.locator('#nav a[data-nav="catalog"]').click();
    for (const name of ['baseline', 'optimized-a', 'optimized-b', 'optimized-c']) {
      const row = page.locator(`#catalog-list tr[data-pipeline="${name}"]`);
      await row.waitFor();
      t.equal(await row.locator('td').nth(1).textContent(), 'built-in', `${name} is a built-in`);
      t.match(await row.locator('code.sha').textContent(), /^[0-9a-f]{64}$/, 'with its sha256');
    }
    t.equal(await text(page, '#catalog-list tr[data-pipeline="optimized-b"] [data-used-by]'), id, 'optimized-b is in use by the experiment');
    t.equal(await text(page, '#catalog-list tr[data-pipeline="optimized-a"] td:nth-child(6)'), 'not in use');
    t.ok(await page.locator('#catalog-list tr[data-pipeline="baseline"] button').isHidden(), 'a built-in has no Delete');

    await page.locator('#catalog-list tr[data-pipeline="optimized-b"] a').first().click();
    await page.locator('#pipeline-detail [data-block="template"] pre').waitFor();
    t.equal(await page.locator('#pipeline-detail pre').textContent(), builtinTemplate('optimized-b'), "the template's text, exactly");

    const evil = builtinTemplate('optimized-b').replace('exporters:\n', 'exporters:\n  otlp:\n    endpoint: 203.0.113.5:4317\n');
    const line = evil.split('\n').findIndex((l) => l.includes('otlp:')) + 1;
    await page.locator('#pipeline-name').fill('evil');
    await page.locator('#pipeline-content').fill(evil);
    await page.locator('#pipeline-submit').click();
    await page.locator('#pipeline-upload-error:not([hidden])').waitFor();
    t.match(await page.locator('#pipeline-upload-error').textContent(), new RegExp(`evil:${line}: .*otlp`), `the policy's refusal names line ${line}`);
    t.equal(await page.locator('#pipeline-content').inputValue(), evil, 'the text is kept');
    t.equal(await page.evaluate(SELECTED('pipeline-content')), '  otlp:', 'the line is selected in the text');

    const mine = `${builtinTemplate('optimized-b')}# mine\n`;
    await page.locator('#pipeline-name').fill('mine');
    await page.locator('#pipeline-content').fill(mine);
    await page.locator('#pipeline-submit').click();
    await page.locator('#pipeline-upload-done:not([hidden])').waitFor();
    const row = page.locator('#catalog-list tr[data-pipeline="mine"]');
    await row.waitFor();
    t.equal(await row.locator('td').nth(1).textContent(), 'uploaded');
    await row.locator('button', { hasText: 'Delete' }).click();
    await row.waitFor({ state: 'detached' });
    t.equal((await hub.catalog.list()).filter((p) => p.name === 'mine').length, 0, 'deleted at the hub');
  });

  await t.test("the form reads the field out of each kind of the hub's refusal, and finds its line in YAML or JSON", async (t) => {
    const yaml = 'name: x\ntarget:\n  labels:\n    - env=prod\n    - tier in [a\nrollout:\n  canary: 1\n';
    const json = JSON.stringify({ name: 'x', rollout: { canary: 'ten' } }, null, 2);
    const cases = [
      ["definition: unknown field 'rollout.speed'", yaml, { field: 'rollout.speed', line: null }, 6],
      ['definition: invalid YAML at line 3, column 5: Nested mappings are not allowed', yaml, { field: null, line: 3 }, null],
      ["definition: baseline.pipeline: no template 'nope' in the catalog (GET /api/v1/pipelines lists them)", yaml, { field: 'baseline.pipeline', line: null }, null],
      ['target: it matches none of the hosts this hub knows', yaml, { field: 'target', line: null }, 2],
      ["definition: target.labels.1 must be a matcher such as 'env=prod', got 'tier in [a'", yaml, { field: 'target.labels.1', line: null }, 5],
      ["definition: rollout.canary must be a number of hosts (1 or more) or a percentage such as '10%', got 'ten'", json, { field: 'rollout.canary', line: null }, 4],
      ["the target overlaps running experiment 'a-1' (a) on 1 host: h", yaml, { field: null, line: null }, null],
    ] as const;
    const read = `import('/experiment-form.js').then((m) => ${JSON.stringify(cases)}.map(([message, text]) => {
      const about = m.aboutWhat(message);
      return [about, about.field === null ? null : m.lineOf(text, about.field)];
    }))`;
    const answers = (await page.evaluate(read)) as [unknown, number | null][];
    cases.forEach(([message, , about, line], i) => {
      t.same(answers[i]![0], about, message);
      t.equal(answers[i]![1], line, `and its line: ${line}`);
    });
  });

  t.equal(await page.evaluate('window.__xss'), undefined, 'no user text ever ran');
  t.same(errors.filter((e) => !PROVOKED.test(e)), [], 'no other error in the browser console');
});
