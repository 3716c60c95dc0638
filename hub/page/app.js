// Phoenix hub page: fleet summary, variant comparison, charts, hosts, drill-down; refreshed live. Shown only signed
// in (session.js); the admin's sections only to admins (admin.js). The address picks the view (nav.js): the fleet,
// the experiments (experiments.js, experiment.js, experiment-form.js) or the pipeline catalog (catalog.js); a view
// opened signed out is kept across the sign-in (deep-link.js).
// Everything agents and users send is put on the page with textContent, never as HTML.
// Checked by `npm run typecheck` (tsconfig.page.json) against the API's types in hub/http/types.ts and
// experiment-types.ts; served as is, as ES modules (the files beside it, listed in hub/http/static.ts).
// @ts-check
import { initAdmin, showAdmin } from './admin.js';
import { api } from './api.js';
import { clearCharts, drawCharts } from './charts.js';
import { initCatalog, catalogView } from './catalog.js';
import { byId, el } from './dom.js';
import { experimentView, initExperiment } from './experiment.js';
import { experimentFormView, initExperimentForm } from './experiment-form.js';
import { experimentsView } from './experiments.js';
import { renderBreakdown, renderComparison, renderSummary } from './fleet.js';
import { clearHosts, initHosts, refreshSelected, showHosts } from './hosts.js';
import { liveFeed } from './live.js';
import { currentRoute, showView } from './nav.js';
import { forgetRoute, rememberRoute, restoreRoute } from './deep-link.js';
import { initSession, sessionMessage, showSignIn, showSignedIn, takeRedirectReason } from './session.js';

/**
 * @typedef {import('../http/types.js').SessionResponse} SessionResponse
 * @typedef {import('./nav.js').ViewName} ViewName
 * @typedef {{ show: (param: string | null, canWrite: boolean) => void, hide: (reset?: boolean) => void }} View
 */

/** `session` while signed in; `view`: the one shown. @type {{ signedIn: boolean, session: SessionResponse | null, view: ViewName | null, window: string, groupBy: string }} */
const state = { signedIn: false, session: null, view: null, window: '1h', groupBy: 'none' };

/** The views besides the fleet (which is kept fresh by the live feed while signed in, shown or not). @type {Partial<Record<ViewName, View>>} */
const VIEWS = { experiments: experimentsView, 'experiment-form': experimentFormView, experiment: experimentView, catalog: catalogView };

/** Shows the view the address names: the one shown before goes first (its timers with it). */
function route() {
  if (!state.session) return;
  const { view, param } = currentRoute();
  if (state.view !== null) VIEWS[state.view]?.hide();
  state.view = view;
  showView(view);
  byId('fleet-controls').hidden = view !== 'fleet';
  VIEWS[view]?.show(param, state.session.permissions.includes('experiment'));
}

async function renderFleetCharts() {
  const history = await api.fleetHistory(state.window);
  const container = byId('charts');
  clearCharts(container);
  if (history.points.length === 0) container.append(el('p', { class: 'empty', text: 'No history yet.' }));
  else drawCharts(container, history.points);
}

/** @type {Promise<void> | null} */
let refreshing = null;
let again = false;
async function refresh() {
  if (!state.signedIn) return;
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [fleet, comparison, breakdown] = await Promise.all([api.fleet(), api.comparison(state.window, state.groupBy), api.fleetBreakdown(state.groupBy)]);
      if (!state.signedIn) return;
      renderSummary(fleet);
      renderComparison(comparison);
      renderBreakdown(breakdown);
      showHosts(fleet.hosts);
      await renderFleetCharts();
      await refreshSelected();
      document.body.dataset.updated = String(Date.now());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      if (state.signedIn) byId('comparison').replaceChildren(el('p', { class: 'empty', text: `Cannot load: ${reason}` }));
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    await refresh();
  }
}

const live = liveFeed({ reports: () => void refresh(), ended: () => leave('ended'), stillSignedIn: async () => (await api.session()) !== null });

/** Signed in: the fleet, the sections the role allows, the live feed. @param {SessionResponse} session */
function enter(session) {
  state.signedIn = true;
  state.session = session;
  api.useSession(session);
  showSignedIn(session);
  route();
  showAdmin(session.permissions.includes('admin'));
  void refresh();
  live.start();
}

/** Back to the sign-in view: the live feed closed for good, nothing the session could read left on the page. @param {string} reason */
function leave(reason) {
  if (!state.signedIn) return;
  state.signedIn = false;
  state.session = null;
  live.stop();
  api.useSession(null);
  for (const view of Object.values(VIEWS)) view.hide(true);
  state.view = null;
  showView(null);
  byId('fleet-controls').hidden = true;
  showAdmin(false);
  clearHosts();
  for (const id of ['summary', 'comparison', 'breakdown']) byId(id).replaceChildren();
  clearCharts(byId('charts'));
  rememberRoute();
  showSignIn(reason);
}

/** The sign-out button: the live feed stops first, so no update arrives after it. */
async function signOut() {
  live.stop();
  try {
    await api.signOut();
    leave('signed_out');
  } catch (error) {
    if (!state.signedIn) return; // a 401: the session had ended anyway
    sessionMessage(`Sign-out failed: ${error instanceof Error ? error.message : String(error)}`);
    live.start();
  }
}

const windowSelect = byId('window', HTMLSelectElement);
windowSelect.addEventListener('change', () => {
  state.window = windowSelect.value;
  void refresh();
});
const groupBySelect = byId('group-by', HTMLSelectElement);
groupBySelect.addEventListener('change', () => {
  state.groupBy = groupBySelect.value;
  void refresh();
});
initHosts(() => state.window);

api.onSessionEnded(() => leave('ended'));
// Signed in with the form, the page keeps its address: nothing kept is needed.
initSession({
  signedIn: (session) => {
    forgetRoute();
    enter(session);
  },
  signOut,
});
initAdmin();
initExperiment();
initExperimentForm();
initCatalog();
window.addEventListener('hashchange', () => (state.session ? route() : rememberRoute()));
const redirectReason = takeRedirectReason();
api.session().then(
  (session) => {
    if (session) {
      restoreRoute(); // back from a sign-in elsewhere: the view the page was opened at
      enter(session);
      return;
    }
    // The view asked for is kept for the sign-in, unless this load is a failed sign-in's way back (it names none).
    if (redirectReason === null) rememberRoute();
    showSignIn(redirectReason);
  },
  () => showSignIn('unreachable'),
);
