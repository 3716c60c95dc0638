// Phoenix hub page: fleet summary, variant comparison, charts, hosts, drill-down; refreshed live. Shown only signed
// in (session.js); the admin's sections only to admins (admin.js). Everything agents send is put on the page with
// textContent, never as HTML.
// Checked by `npm run typecheck` (tsconfig.page.json) against the API's types in hub/http/types.ts; served as is,
// as ES modules (dom.js, api.js, charts.js, fleet.js, hosts.js, session.js, admin.js, live.js beside it).
// @ts-check
import { initAdmin, showAdmin } from './admin.js';
import { api } from './api.js';
import { clearCharts, drawCharts } from './charts.js';
import { byId, el } from './dom.js';
import { renderComparison, renderSummary } from './fleet.js';
import { clearHosts, initHosts, refreshSelected, showHosts } from './hosts.js';
import { liveFeed } from './live.js';
import { initSession, sessionMessage, showSignIn, showSignedIn, takeRedirectReason } from './session.js';

/** @typedef {import('../http/types.js').SessionResponse} SessionResponse */

/** @type {{ signedIn: boolean, window: string, groupBy: string }} */
const state = { signedIn: false, window: '1h', groupBy: 'none' };

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
      const [fleet, comparison] = await Promise.all([api.fleet(), api.comparison(state.window, state.groupBy)]);
      if (!state.signedIn) return;
      renderSummary(fleet);
      renderComparison(comparison);
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
  api.useSession(session);
  showSignedIn(session);
  byId('fleet').hidden = false;
  byId('fleet-controls').hidden = false;
  showAdmin(session.permissions.includes('admin'));
  void refresh();
  live.start();
}

/** Back to the sign-in view: the live feed closed for good, nothing the session could read left on the page. @param {string} reason */
function leave(reason) {
  if (!state.signedIn) return;
  state.signedIn = false;
  live.stop();
  api.useSession(null);
  byId('fleet').hidden = true;
  byId('fleet-controls').hidden = true;
  showAdmin(false);
  clearHosts();
  for (const id of ['summary', 'comparison']) byId(id).replaceChildren();
  clearCharts(byId('charts'));
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
initSession({ signedIn: enter, signOut });
initAdmin();
const redirectReason = takeRedirectReason();
api.session().then(
  (session) => (session ? enter(session) : showSignIn(redirectReason)),
  () => showSignIn('unreachable'),
);
