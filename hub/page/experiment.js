// One experiment: its state and verdict, the criteria met or not with their values, each wave's results, each host's
// state (with the collector's message when it failed), the events, how it ended, and — on a pass — the exact
// candidate that passed, and the definition as accepted. Start (a draft) and Stop (running, asking first) only for
// roles that may; polled while it can change.
// @ts-check
import { api, ApiError } from './api.js';
import { byId, el, fmt } from './dom.js';
import { askFirst, attempt, badge, copyBlock, messageOf, poller, say, tableRows, when } from './view-kit.js';
import { hostStatesText } from './experiments.js';

/**
 * @typedef {import('../http/experiment-types.js').ExperimentDetail} ExperimentDetail
 * @typedef {import('../http/experiment-types.js').CriterionResult} CriterionResult
 * @typedef {import('../http/experiment-types.js').ExperimentWaveView} ExperimentWaveView
 * @typedef {import('../http/experiment-types.js').ExperimentHostView} ExperimentHostView
 * @typedef {import('../http/experiment-types.js').ExperimentEventView} ExperimentEventView
 */

const REFRESH_MS = 2000;
/** How long Stop waits for its confirming click. */
const CONFIRM_MS = 5000;
const MESSAGE = 'experiment-message';

/** `definition`: the one shown, as text (it never changes: drawn once, so a selection in it stays). @type {{ id: string | null, canWrite: boolean, definition: string | null }} */
const state = { id: null, canWrite: false, definition: null };
/** Stop's confirming step (set by initExperiment). @type {{ reset: () => void }} */
let stopAsk = { reset: () => {} };

/** A value from an outcome or an event's detail, as text: lists joined, anything else as JSON. @param {unknown} value */
function text(value) {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v !== 'object' || v === null)) return value.join(', ');
  return JSON.stringify(value);
}

/** @param {boolean | null} met */
const metText = (met) => (met === null ? '… not yet' : met ? '✓ met' : '✗ not met');

/** What each criterion is called on the page (its definition field beside it). @type {Record<CriterionResult['name'], string>} */
const CRITERION_LABELS = {
  reduction: 'series reduction',
  retention: 'hosts with full critical retention',
  cpuRatio: 'candidate CPU ÷ baseline',
  restarts: 'candidate restarts',
  topCpuCoverage: 'top-K CPU shown by name',
  topRssCoverage: 'top-K RSS shown by name',
  cpuConservation: 'CPU accounted for',
  rssConservation: 'RSS accounted for',
  flapping: 'series appearing or vanishing',
  switches: 'names switching to or from a roll-up',
};

/** @param {CriterionResult} c */
const criterionRow = (c) =>
  el(
    'tr',
    { 'data-criterion': c.name, 'data-met': String(c.met) },
    el('td', {}, el('span', { text: CRITERION_LABELS[c.name] ?? c.name }), ' ', el('code', { class: 'hint', text: c.name })),
    el('td', { text: c.wanted }),
    el('td', { class: 'num', text: c.shown }),
    el('td', { class: `met-${c.met}`, text: metText(c.met) }),
  );

/** @param {ExperimentWaveView} w */
const waveRow = (w) =>
  el(
    'tr',
    { 'data-wave': String(w.wave) },
    el('td', { text: w.wave === 0 ? 'canary' : `wave ${w.wave}` }),
    el('td', { class: 'num', text: String(w.size) }),
    el('td', { text: when(w.startedAt) }),
    el('td', {}, w.results ? badge(w.results.verdict) : null),
    el('td', { text: w.results ? w.results.summary : 'not started' }),
  );

/** @param {ExperimentHostView} h */
const hostRow = (h) =>
  el(
    'tr',
    { 'data-host': h.hostId, 'data-state': h.state, class: h.state === 'failed' ? 'lost' : '' },
    el('td', { text: h.hostId }),
    el('td', { text: h.wave === null ? '–' : h.wave === 0 ? 'canary' : String(h.wave) }),
    el('td', {}, badge(h.state)),
    el('td', { class: 'message', text: h.message ?? '' }),
    el('td', { text: when(h.updatedAt) }),
    el('td', { text: h.connected ? 'yes' : 'no' }),
  );

/** The criteria are in the criteria table: an event that ended the experiment shows the rest. @param {ExperimentEventView} e */
const eventRow = (e) =>
  el(
    'tr',
    { 'data-event': e.kind },
    el('td', { text: when(e.at) }),
    el('td', { text: e.kind }),
    el('td', { text: e.hostId ?? '' }),
    el('td', { text: e.actor ?? '' }),
    el('td', { text: Object.entries(e.detail).filter(([key]) => key !== 'criteria').map(([key, value]) => `${key}=${text(value)}`).join(' ') }),
  );

/** What each outcome field is called on the page; the criteria have their table. */
const OUTCOME_LABELS = /** @type {Record<string, string>} */ ({ verdict: 'verdict', stoppedBy: 'stopped by', guardrail: 'guardrail', hostIds: 'hosts', processes: 'processes', detail: 'detail', summary: 'summary' });

/** @param {ExperimentDetail} x */
function renderOutcome(x) {
  byId('experiment-outcome-section').hidden = x.outcome === null;
  const entries = Object.entries(x.outcome ?? {}).filter(([key]) => key !== 'criteria');
  byId('experiment-outcome').replaceChildren(
    ...entries.flatMap(([key, value]) => [el('dt', { text: OUTCOME_LABELS[key] ?? key }), el('dd', { 'data-outcome': key, text: text(value) })]),
  );
}

/** @param {ExperimentDetail} x */
function renderPassed(x) {
  const passed = x.passed;
  byId('experiment-passed').hidden = passed === null;
  if (passed === null) return byId('experiment-passed-body').replaceChildren();
  byId('experiment-passed-body').replaceChildren(
    el('p', {}, 'Template ', el('strong', { text: passed.pipeline }), ' sha256 ', el('code', { 'data-passed': 'sha256', text: passed.sha256 })),
    copyBlock(passed.content, `${passed.pipeline}-${passed.sha256.slice(0, 12)}.yaml`, 'template'),
    el('p', { text: 'Parameters' }),
    copyBlock(JSON.stringify(passed.parameters, null, 2), `${passed.pipeline}-${passed.sha256.slice(0, 12)}-parameters.json`, 'parameters'),
  );
}

/** The definition as the hub accepted it, defaults filled in: what the experiment runs. @param {ExperimentDetail} x */
function renderDefinition(x) {
  const definition = JSON.stringify(x.definition, null, 2);
  if (definition === state.definition) return;
  state.definition = definition;
  byId('experiment-spec').replaceChildren(copyBlock(definition, `${x.name}.json`, 'definition'));
  byId('experiment-spec-section').hidden = false;
}

/** @param {ExperimentDetail} x */
function render(x) {
  byId('experiment-title').textContent = `Experiment ${x.name}`;
  const r = x.results;
  const head = byId('experiment-head');
  head.dataset.state = x.state;
  head.dataset.verdict = x.verdict;
  head.replaceChildren(
    // A stopped or aborted experiment's verdict is its state: said once.
    el('p', {}, 'state ', badge(x.state), ...(x.verdict === x.state ? [] : [' verdict ', badge(x.verdict)]), ' ', el('span', { class: 'hint', text: x.id })),
    ...(x.description ? [el('p', { text: x.description })] : []),
    el(
      'dl',
      { class: 'facts' },
      ...[
        ['candidate', `${x.candidate.pipeline} (${x.candidate.sha256.slice(0, 12)})`],
        ['baseline', `${x.baseline.pipeline} (${x.baseline.sha256.slice(0, 12)})`],
        ['target', x.target],
        ['hosts', `${x.hosts}: ${hostStatesText(x.hostStates)}`],
        ['waves', `${x.waves.started}/${x.waves.total} started`],
        ['created', `${when(x.createdAt)} by ${x.createdBy}`],
        ['started', when(x.startedAt)],
        [x.endedAt ? 'ended' : 'ends', x.endedAt ? when(x.endedAt) : x.endsAt ? when(x.endsAt) : 'when stopped'],
        ['series', `${fmt.int(r.baselineSeries)} → ${fmt.int(r.candidateSeries)} (reduction ${fmt.pct(r.reduction)}) over ${r.hosts} host${r.hosts === 1 ? '' : 's'}`],
      ].flatMap(([label, value]) => [el('dt', { text: label }), el('dd', { 'data-fact': label, text: value })]),
    ),
  );
  byId('experiment-start').hidden = !(state.canWrite && x.state === 'draft');
  const stop = byId('experiment-stop');
  stop.hidden = !(state.canWrite && x.state === 'running');
  if (stop.hidden) stopAsk.reset();
  byId('experiment-summary').textContent = r.summary;
  tableRows('experiment-criteria').replaceChildren(...r.criteria.map(criterionRow));
  tableRows('experiment-waves').replaceChildren(...x.waves.list.map(waveRow));
  tableRows('experiment-hosts').replaceChildren(...x.hostList.map(hostRow));
  tableRows('experiment-events').replaceChildren(...x.events.slice().reverse().map(eventRow));
  renderOutcome(x);
  renderPassed(x);
  renderDefinition(x);
  document.body.dataset.experimentUpdated = String(Date.now());
}

/** Each answer is numbered when asked: one asked before the answer shown (a poll crossing a Stop) is dropped. */
let asked = 0;
let shownAnswer = 0;

/**
 * Asks `call` about experiment `id` and shows the answer, unless another experiment is shown by now or a later answer
 * is; an ended experiment is not polled again.
 * @param {string} id @param {(id: string) => Promise<{ experiment: ExperimentDetail }>} call
 */
function ask(id, call) {
  const mine = ++asked;
  return attempt(
    MESSAGE,
    async () => {
      const x = (await call(id)).experiment;
      if (state.id !== id || mine < shownAnswer) return;
      shownAnswer = mine;
      render(x);
      if (x.state !== 'draft' && x.state !== 'running') refresh.stop();
    },
    (error) => {
      if (state.id !== id) return;
      say(MESSAGE, messageOf(error));
      if (error instanceof ApiError && error.status === 404) refresh.stop();
    },
  );
}

const refresh = poller(async () => {
  if (state.id !== null) await ask(state.id, api.experiment);
}, REFRESH_MS);

/** Start or Stop, its answer shown at once. @param {(id: string) => Promise<{ experiment: ExperimentDetail }>} call */
function act(call) {
  const id = state.id;
  if (id === null) return;
  const buttons = ['experiment-start', 'experiment-stop', 'experiment-stop-cancel'].map((b) => byId(b, HTMLButtonElement));
  for (const b of buttons) b.disabled = true;
  void ask(id, call).finally(() => {
    for (const b of buttons) b.disabled = false;
  });
}

/** Wires Start, and Stop, which asks first. Calling rules: once, at load. */
export function initExperiment() {
  byId('experiment-start').addEventListener('click', () => act(api.startExperiment));
  const [stop, cancel] = ['experiment-stop', 'experiment-stop-cancel'].map((b) => byId(b, HTMLButtonElement));
  stopAsk = askFirst(stop, cancel, 'Stop: confirm', CONFIRM_MS, () => act(api.stopExperiment));
}

export const experimentView = {
  /** @param {string | null} id @param {boolean} canWrite the role may start and stop experiments */
  show(id, canWrite) {
    state.id = id;
    state.canWrite = canWrite;
    refresh.start();
  },
  hide() {
    state.id = null;
    state.definition = null;
    refresh.stop();
    stopAsk.reset();
    say(MESSAGE, null);
    byId('experiment-title').textContent = 'Experiment';
    for (const key of ['state', 'verdict']) delete byId('experiment-head').dataset[key];
    for (const id of ['experiment-head', 'experiment-outcome', 'experiment-passed-body', 'experiment-spec']) byId(id).replaceChildren();
    for (const id of ['experiment-criteria', 'experiment-waves', 'experiment-hosts', 'experiment-events']) tableRows(id).replaceChildren();
    byId('experiment-summary').textContent = '';
    for (const id of ['experiment-start', 'experiment-stop', 'experiment-outcome-section', 'experiment-passed', 'experiment-spec-section']) byId(id).hidden = true;
  },
};
