// The create form's fields mode and the page's deep links, in a real headless Chromium against a real hub and a real
// v2 agent: an experimenter's bad values are shown beside the very input each is about (marked invalid, focused),
// what was entered carries across to the text and back (YAML is not read into the fields, and says so), the fixed
// definition is created and its view shows the values entered; a link to the experiment opened signed out comes back
// to it after a sign-in that leaves the page (a one-time code link), once.
import t, { type Test } from 'tap';
import type { Browser, Page } from 'playwright-core';
import type { Hub } from '../../../hub/server.js';
import { apiToken, signInUrl } from '../../helpers/hub-api.js';
import { openExperimentForm } from './experiment-page.js';

const HOST = 'page-fields-host';
/** The console errors the test provokes on purpose: the hub's 400s for refused definitions, the 401 of a page signed out. */
const PROVOKED = /Failed to load resource: the server responded with a status of (400|401)/;

/** The text selected in a textarea, as a browser-side expression (the tests have no DOM types). */
const SELECTED = (id: string) => `(() => { const a = document.getElementById(${JSON.stringify(id)}); return a.value.slice(a.selectionStart, a.selectionEnd); })()`;
/** The element after the <label> holding input `id`: where its error stands. */
const BESIDE = (id: string) => `document.getElementById(${JSON.stringify(id)}).closest('label').nextElementSibling?.id ?? null`;
const FOCUSED = 'document.activeElement?.id ?? null';
const text = async (page: Page, selector: string) => ((await page.locator(selector).first().textContent()) ?? '').trim();

/** Fills the fields mode's inputs by id (selects chosen by value). */
async function fill(page: Page, values: Record<string, string>): Promise<void> {
  for (const [id, value] of Object.entries(values)) {
    const input = page.locator(`#${id}`);
    if ((await input.evaluate((e) => e.tagName)) === 'SELECT') await input.selectOption(value);
    else await input.fill(value);
  }
}

/** The fields marked invalid, by id. */
const invalid = (page: Page) => page.locator('#experiment-fields [aria-invalid="true"]').evaluateAll((all) => all.map((e) => e.id));

/** A fresh browser context (nothing signed in, its own sessionStorage) whose page errors are kept. */
async function freshPage(t: Test, browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const context = await browser.newContext();
  t.teardown(() => context.close());
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('console', (m) => void (m.type() === 'error' && errors.push(m.text())));
  return { page, errors };
}

/** Opens the experiment's link signed out: the sign-in view, the link on the address. */
async function openSignedOut(t: Test, page: Page, hub: Hub, id: string): Promise<void> {
  await page.goto(`${hub.url}/#/experiments/${encodeURIComponent(id)}`);
  await page.locator('#signin').waitFor();
  t.ok(await page.locator('#experiment-view').isHidden(), 'signed out: no experiment shown');
}

t.test('the fields mode: errors beside their inputs, carried to the text and back, created with the values entered; deep links', { timeout: 180_000 }, async (t) => {
  const { hub, browser, page, errors } = await openExperimentForm(t, { id: HOST, kind: 'vm', labels: { env: 'test' } });
  await page.locator('#experiment-mode-fields').check();
  await page.locator('#experiment-fields').waitFor();
  t.ok(await page.locator('#experiment-text').isHidden(), 'the text is put away');
  t.ok(await page.locator('#experiment-mode-note').isHidden(), 'the untouched example asks for no note');
  await page.locator('#xf-candidate option[value="optimized-b"]').waitFor({ state: 'attached' });
  const options = await page.locator('#xf-baseline option').evaluateAll((all) => all.map((o) => (o as unknown as { value: string }).value));
  t.same(options, ['baseline', 'optimized-a', 'optimized-b', 'optimized-c'], "the pipelines are the hub's catalog");
  t.same([await page.locator('#xf-baseline').inputValue(), await page.locator('#xf-candidate').inputValue()], ['baseline', 'optimized-b'], 'chosen as in the example');

  // A canary of 0: the hub's message beside the canary's input, which is marked invalid and focused.
  await fill(page, {
    'xf-name': 'fields-trial', 'xf-description': 'from the fields', 'xf-candidate-cpu': '0.1', 'xf-interval': '1s', 'xf-expiration': '10s',
    'xf-kind': 'vm', 'xf-labels': 'env=test', 'xf-canary': '0', 'xf-hold': '30s', 'xf-reduction': '10%', 'xf-loss-reports': '5',
  });
  await page.locator('#experiment-create-start').click();
  const canaryError = page.locator('#xf-canary-error');
  await canaryError.waitFor();
  t.match(await canaryError.textContent(), /^definition: rollout\.canary must be a number of hosts \(1 or more\) .*got 0$/, "the hub's message");
  t.equal(await page.evaluate(BESIDE('xf-canary')), 'xf-canary-error', 'beside the canary input');
  t.same(await invalid(page), ['xf-canary'], 'that input alone is marked invalid');
  t.equal(await page.locator('#xf-canary').getAttribute('aria-describedby'), 'xf-canary-error', 'and described by the message');
  t.equal(await page.evaluate(FOCUSED), 'xf-canary', 'and focused');
  t.ok(await page.locator('#experiment-form-message').isHidden(), 'nothing above the form');
  t.match(page.url(), /#\/experiments\/new$/, 'still on the form');

  // Fixed; then a bad label matcher on the second line: beside the labels, that line selected.
  await fill(page, { 'xf-canary': '1', 'xf-labels': 'env=test\nenv~x' });
  await page.locator('#experiment-create-start').click();
  const labelsError = page.locator('#xf-labels-error');
  await labelsError.waitFor();
  t.match(await labelsError.textContent(), /^definition: target\.labels\.1 must be a matcher such as 'env=prod'.*got 'env~x'$/);
  t.equal(await page.evaluate(BESIDE('xf-labels')), 'xf-labels-error', 'beside the labels input');
  t.same(await invalid(page), ['xf-labels'], 'the canary is no longer marked');
  t.equal(await canaryError.count(), 0, 'and its message went');
  t.equal(await page.evaluate(FOCUSED), 'xf-labels', 'the labels are focused');
  t.equal(await page.evaluate(SELECTED('xf-labels')), 'env~x', 'with the bad line selected');

  // To the text: what was entered, as JSON, numbers as numbers, the empty fields left out.
  await page.locator('#experiment-mode-text').check();
  const entered = {
    name: 'fields-trial', description: 'from the fields', baseline: { pipeline: 'baseline' }, candidate: { pipeline: 'optimized-b', parameters: { cpuThreshold: 0.1 } },
    parameters: { collectionInterval: '1s', metricExpiration: '10s' }, target: { kind: 'vm', labels: ['env=test', 'env~x'] },
    rollout: { canary: 1, hold: '30s' }, criteria: { reduction: '10%' }, guardrails: { criticalLossReports: 5 },
  };
  const definition = page.locator('#experiment-definition');
  t.same(JSON.parse(await definition.inputValue()), entered, 'the fields, carried into the text');
  t.ok(await page.locator('#experiment-fields').isHidden(), 'the fields are put away');

  // YAML text is not read into the fields: they stay as they were, and the page says so; the text is kept.
  await definition.fill('name: yaml-only\n');
  await page.locator('#experiment-mode-fields').check();
  t.match(await text(page, '#experiment-mode-note'), /read JSON only/, 'the page says the YAML was not carried');
  t.equal(await page.locator('#xf-name').inputValue(), 'fields-trial', 'the fields are as they were');
  await page.locator('#experiment-mode-text').check();
  t.equal(await definition.inputValue(), 'name: yaml-only\n', 'the text as written');
  t.ok(await page.locator('#experiment-mode-note').isHidden());

  // JSON text goes into the fields; a field they have no input for is named, not carried.
  const fixed = { ...entered, target: { kind: 'vm', labels: ['env=test'] }, colour: 'red' };
  await definition.fill(JSON.stringify(fixed, null, 2));
  await page.locator('#experiment-mode-fields').check();
  t.equal(await page.locator('#xf-labels').inputValue(), 'env=test', 'the text, carried into the fields');
  t.equal(await page.locator('#xf-canary').inputValue(), '1');
  t.equal(await page.locator('#xf-waves').inputValue(), '', 'what the text leaves out is empty');
  t.match(await text(page, '#experiment-mode-note'), /Not carried .*: colour\.$/, 'the field without an input is named');

  // Created and started: its view shows the definition as accepted, the values entered and the hub's defaults.
  await page.locator('#experiment-create-start').click();
  await page.waitForURL(/#\/experiments\/fields-trial-[0-9a-f]{8}$/);
  const id = decodeURIComponent(page.url().split('#/experiments/')[1]!);
  t.equal((await hub.experiments.detail(id)).state, 'running', 'the hub runs it');
  const shown = page.locator('#experiment-spec [data-block="definition"] pre');
  await shown.waitFor();
  t.match(JSON.parse((await shown.textContent())!), {
    name: 'fields-trial', description: 'from the fields',
    baseline: { pipeline: 'baseline', parameters: { cpuThreshold: 0.05 } },
    candidate: { pipeline: 'optimized-b', parameters: { cpuThreshold: 0.1, memoryThresholdBytes: 268435456 } },
    parameters: { collectionInterval: 1000, metricExpiration: 10000 },
    target: { kind: 'vm', labels: [{ name: 'env', op: '=', values: ['test'] }] },
    rollout: { canary: { hosts: 1 }, waves: { percent: 100 }, hold: 30000 },
    duration: null,
    criteria: { reduction: 0.1, retention: 1 },
    guardrails: { criticalLossReports: 5, failedHosts: 1 },
  }, 'the values entered, the defaults filled in');
  await page.locator(`#experiment-hosts tr[data-host="${HOST}"]`).waitFor();

  await t.test('a link to the experiment opened signed out comes back to it after a one-time code sign-in, once', async (t) => {
    const { page: other, errors: otherErrors } = await freshPage(t, browser);
    await openSignedOut(t, other, hub, id);
    await other.goto(signInUrl(hub, 'viewer'));
    await other.waitForURL(`${hub.url}/#/experiments/${encodeURIComponent(id)}`);
    await other.locator(`#experiment-head[data-state="running"]`).waitFor();
    t.equal(await text(other, '#experiment-title'), 'Experiment fields-trial', 'the experiment the link named');
    t.ok(await other.locator('#nav a[data-nav="experiments"][aria-current="page"]').count(), 'under Experiments in the nav');
    await other.goto(`${hub.url}/`);
    await other.locator('#fleet').waitFor();
    t.equal(other.url(), `${hub.url}/`, 'taken once: the next load of the bare address is the fleet');
    t.same(otherErrors.filter((e) => !PROVOKED.test(e)), [], 'no script error');
  });

  await t.test('a sign-in with the form keeps the link on the address', async (t) => {
    const { page: other, errors: otherErrors } = await freshPage(t, browser);
    await openSignedOut(t, other, hub, id);
    await other.locator('#signin-token').fill(await apiToken(hub, 'viewer'));
    await other.locator('#signin-submit').click();
    await other.locator(`#experiment-head[data-state="running"]`).waitFor();
    t.equal(await other.evaluate('sessionStorage.length'), 0, 'nothing left kept');
    t.same(otherErrors.filter((e) => !PROVOKED.test(e)), [], 'no script error');
  });

  t.same(errors.filter((e) => !PROVOKED.test(e)), [], 'no other error in the browser console');
});
