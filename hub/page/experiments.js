// The experiments list: each one's name, state, verdict, target, hosts by state, waves and times, linked to its own
// view; refreshed every few seconds while shown. The link to the create form only for roles that may create.
// @ts-check
import { api } from './api.js';
import { byId, el } from './dom.js';
import { href } from './nav.js';
import { attempt, badge, poller, tableRows, when } from './view-kit.js';

/** @typedef {import('../http/experiment-types.js').ExperimentSummary} ExperimentSummary */

const REFRESH_MS = 5000;
let shown = false;

/** "2 measuring, 1 pending". @param {ExperimentSummary['hostStates']} states */
export const hostStatesText = (states) =>
  Object.entries(states)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');

/** @param {ExperimentSummary} x */
function row(x) {
  return el(
    'tr',
    { 'data-experiment': x.id, 'data-state': x.state },
    el('td', {}, el('a', { href: href.experiment(x.id), text: x.name }), el('div', { class: 'hint', text: x.id })),
    el('td', {}, badge(x.state)),
    el('td', {}, badge(x.verdict)),
    el('td', { text: x.target }),
    el('td', { text: `${x.candidate.pipeline} vs ${x.baseline.pipeline}` }),
    el('td', {}, el('div', { text: String(x.hosts) }), el('div', { class: 'hint', text: hostStatesText(x.hostStates) })),
    el('td', { class: 'num', text: `${x.waves.started}/${x.waves.total}` }),
    el('td', {}, el('div', { text: when(x.createdAt) }), el('div', { class: 'hint', text: `by ${x.createdBy}` })),
    el('td', { text: when(x.startedAt) }),
    el('td', { text: x.endedAt ? when(x.endedAt) : x.endsAt ? `ends ${when(x.endsAt)}` : '–' }),
  );
}

const refresh = poller(
  () =>
    attempt('experiments-message', async () => {
      const { experiments } = await api.experiments();
      if (!shown) return;
      tableRows('experiment-list').replaceChildren(...experiments.map(row));
      byId('experiments-empty').hidden = experiments.length > 0;
    }).then(() => undefined),
  REFRESH_MS,
);

export const experimentsView = {
  /** @param {string | null} _param @param {boolean} canWrite the role may create and stop experiments */
  show(_param, canWrite) {
    shown = true;
    byId('experiment-new').hidden = !canWrite;
    refresh.start();
  },
  hide() {
    shown = false;
    refresh.stop();
    tableRows('experiment-list').replaceChildren();
  },
};
