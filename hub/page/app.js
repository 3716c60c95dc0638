// Phoenix hub page: fleet summary, variant comparison, charts, hosts, drill-down; refreshed live.
// Everything agents send is put on the page with textContent, never as HTML.
// Checked by `npm run typecheck` (tsconfig.page.json) against the API's types in hub/http/types.ts; served as is,
// as ES modules (dom.js, api.js, charts.js, fleet.js beside it).
// @ts-check
import { api } from './api.js';
import { clearCharts, drawCharts } from './charts.js';
import { byId, el, fmt } from './dom.js';
import { renderComparison, renderSummary } from './fleet.js';

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').FleetHost} FleetHost
 * @typedef {import('../http/types.js').LiveMessage} LiveMessage
 * @typedef {keyof typeof sortValue} SortKey
 */

/** @type {{ window: string, groupBy: string, fleet: FleetResponse | null, sort: { key: SortKey, dir: 1 | -1 }, selected: string | null }} */
const state = { window: '1h', groupBy: 'none', fleet: null, sort: { key: 'hostId', dir: 1 }, selected: null };

/** @param {FleetHost} host */
function hostRow(host) {
  const [a, b] = host.variants;
  const lost = b ? b.criticalMissing : [];
  const labels = el('td', {});
  for (const [k, v] of Object.entries(host.labels)) labels.append(el('span', { class: 'label-chip', text: `${k}=${v}` }));
  const tr = el(
    'tr',
    { class: lost.length ? 'lost' : '', 'data-host': host.hostId },
    el('td', { text: host.hostId }),
    el('td', { text: host.kind }),
    labels,
    el('td', { class: 'num', text: fmt.int(a?.series) }),
    el('td', { class: 'num', text: fmt.int(b?.series) }),
    el('td', { class: 'num', text: fmt.pct(host.cardinalityReduction) }),
    el('td', { class: 'num', text: fmt.pct(b?.criticalRetention) }),
    el('td', { class: 'lost-names', text: lost.join(', ') }),
    el('td', { text: `${fmt.time(host.lastSeen)}${host.connected ? '' : ' (disconnected)'}` }),
  );
  tr.addEventListener('click', () => selectHost(host.hostId));
  return tr;
}

/** Sort keys, as the host table's th[data-sort] name them. @satisfies {Record<string, (h: FleetHost) => string | number>} */
const sortValue = {
  hostId: (/** @type {FleetHost} */ h) => h.hostId,
  kind: (/** @type {FleetHost} */ h) => h.kind,
  seriesA: (/** @type {FleetHost} */ h) => h.variants[0]?.series ?? -1,
  seriesB: (/** @type {FleetHost} */ h) => h.variants[1]?.series ?? -1,
  reduction: (/** @type {FleetHost} */ h) => h.cardinalityReduction ?? -1,
  retention: (/** @type {FleetHost} */ h) => h.variants[1]?.criticalRetention ?? 2,
  lastSeen: (/** @type {FleetHost} */ h) => h.lastSeen,
};

/** @param {string | undefined} key @returns {key is SortKey} */
const isSortKey = (key) => key !== undefined && Object.hasOwn(sortValue, key);

/** The host table's sortable column heads. */
const sortHeads = () => [...document.querySelectorAll('#hosts th[data-sort]')].filter((th) => th instanceof HTMLElement);

function renderHosts() {
  if (!state.fleet) return;
  const kind = byId('filter-kind', HTMLSelectElement).value;
  const labelFilter = byId('filter-label', HTMLInputElement).value.trim();
  const [labelName, labelValue] = labelFilter.includes('=') ? labelFilter.split('=', 2) : [labelFilter, null];
  const { key, dir } = state.sort;
  const hosts = state.fleet.hosts
    .filter((h) => !kind || h.kind === kind)
    .filter((h) => !labelName || (Object.hasOwn(h.labels, labelName) && (labelValue === null || h.labels[labelName] === labelValue)))
    .sort((x, y) => {
      const a = sortValue[key](x);
      const b = sortValue[key](y);
      return (a < b ? -1 : a > b ? 1 : 0) * dir;
    });
  byId('hosts', HTMLTableElement).tBodies[0].replaceChildren(...hosts.map(hostRow));
  for (const th of sortHeads()) {
    th.classList.toggle('sorted-asc', th.dataset.sort === key && dir === 1);
    th.classList.toggle('sorted-desc', th.dataset.sort === key && dir === -1);
  }
}

async function renderFleetCharts() {
  const history = await api.fleetHistory(state.window);
  const container = byId('charts');
  clearCharts(container);
  if (history.points.length === 0) container.append(el('p', { class: 'empty', text: 'No history yet.' }));
  else drawCharts(container, history.points);
}

/** @param {string} hostId */
async function selectHost(hostId) {
  state.selected = hostId;
  const section = byId('host-detail');
  section.hidden = false;
  const detail = await api.host(hostId, state.window === '15m' || state.window === '1h' ? state.window : '24h');
  byId('detail-title').textContent = `Host ${detail.hostId}`;
  const body = byId('detail-body');
  const report = detail.latest?.report;
  const parts = [];
  if (report) {
    parts.push(el('p', { text: `${report.host.kind}, ${report.host.processCount} processes; critical running: ${report.critical.running.join(', ') || '(none)'}` }));
    const table = el('table', {}, el('thead', {}, el('tr', {}, ...['variant', 'state', 'restarts', 'series', 'retention', 'missing', 'CPU', 'RSS', 'est. / month'].map((h) => el('th', { text: h })))));
    const tbody = el('tbody');
    for (const v of report.variants) {
      tbody.append(
        el('tr', { class: v.criticalMissing.length ? 'lost' : '' },
          el('td', { text: v.name }), el('td', { text: v.state }), el('td', { class: 'num', text: String(v.restarts) }),
          el('td', { class: 'num', text: fmt.int(v.series) }), el('td', { class: 'num', text: fmt.pct(v.criticalRetention) }),
          el('td', { class: 'lost-names', text: v.criticalMissing.join(', ') }), el('td', { class: 'num', text: fmt.cpu(v.cpuPercent) }),
          el('td', { class: 'num', text: fmt.mib(v.rssBytes) }), el('td', { class: 'num', text: fmt.usd(v.estimatedMonthlyCostUsd) })),
      );
    }
    table.append(tbody);
    parts.push(table);
  }
  body.replaceChildren(...parts);
  const charts = byId('detail-charts');
  clearCharts(charts);
  drawCharts(charts, detail.history);
}

/** @type {Promise<void> | null} */
let refreshing = null;
let again = false;
async function refresh() {
  if (refreshing) {
    again = true;
    return refreshing;
  }
  refreshing = (async () => {
    try {
      const [fleet, comparison] = await Promise.all([api.fleet(), api.comparison(state.window, state.groupBy)]);
      state.fleet = fleet;
      renderSummary(fleet);
      renderComparison(comparison);
      renderHosts();
      await renderFleetCharts();
      if (state.selected) await selectHost(state.selected);
      document.body.dataset.updated = String(Date.now());
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      byId('comparison').replaceChildren(el('p', { class: 'empty', text: `Cannot load: ${reason}` }));
    }
  })();
  await refreshing;
  refreshing = null;
  if (again) {
    again = false;
    await refresh();
  }
}

function connectLive(attempt = 0) {
  const status = byId('live-status');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/live`);
  ws.addEventListener('open', () => {
    attempt = 0;
    status.textContent = 'live';
    status.className = 'live on';
  });
  ws.addEventListener('message', (event) => {
    const message = /** @type {LiveMessage} */ (JSON.parse(event.data));
    if (message.type === 'reports') void refresh();
  });
  ws.addEventListener('close', () => {
    status.textContent = 'offline';
    status.className = 'live off';
    setTimeout(() => connectLive(attempt + 1), Math.min(30000, 1000 * 2 ** attempt));
  });
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
byId('filter-kind').addEventListener('change', renderHosts);
byId('filter-label').addEventListener('input', renderHosts);
for (const th of sortHeads()) {
  th.addEventListener('click', () => {
    const key = th.dataset.sort;
    if (!isSortKey(key)) return;
    state.sort = { key, dir: state.sort.key === key ? /** @type {1 | -1} */ (-state.sort.dir) : 1 };
    renderHosts();
  });
}

void refresh();
connectLive();
