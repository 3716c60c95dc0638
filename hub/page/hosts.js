// The hosts table (filtered by kind and label, sorted by any column) and the drill-down of the host clicked: its
// variants, what each loses, series per metric and the pipelines' flow (host-loss.js), and its history's charts.
// @ts-check
import { api } from './api.js';
import { clearCharts, drawCharts } from './charts.js';
import { byId, el, fmt } from './dom.js';
import { flowTables, lossBlock, seriesByMetricTable } from './host-loss.js';

/**
 * @typedef {import('../http/types.js').FleetHost} FleetHost
 * @typedef {keyof typeof sortValue} SortKey
 */

/** @type {{ hosts: FleetHost[], sort: { key: SortKey, dir: 1 | -1 }, selected: string | null, window: () => string }} */
const state = { hosts: [], sort: { key: 'hostId', dir: 1 }, selected: null, window: () => '1h' };

/** @param {FleetHost} host */
function hostRow(host) {
  const [a, b] = host.variants;
  const lost = b ? b.criticalMissing : [];
  const labels = el('td', {});
  for (const [k, v] of Object.entries(host.labels)) labels.append(el('span', { class: 'label-chip', text: `${k}=${v}` }));
  const tr = el(
    'tr',
    { class: lost.length ? 'lost' : '', 'data-host': host.hostId },
    el(
      'td',
      {},
      el('span', { text: host.hostId }),
      // A connected agent the hub cannot run experiments on says so, and why (hover).
      host.experiments && !host.experiments.manageable ? el('span', { class: 'label-chip unmanaged', title: host.experiments.reason ?? '', text: 'not manageable' }) : null,
    ),
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

/** Shows these hosts (the latest fleet), or the last ones shown again (a filter or the sort changed). @param {FleetHost[]} [hosts] */
export function showHosts(hosts = state.hosts) {
  state.hosts = hosts;
  const kind = byId('filter-kind', HTMLSelectElement).value;
  const labelFilter = byId('filter-label', HTMLInputElement).value.trim();
  const [labelName, labelValue] = labelFilter.includes('=') ? labelFilter.split('=', 2) : [labelFilter, null];
  const { key, dir } = state.sort;
  const shown = hosts
    .filter((h) => !kind || h.kind === kind)
    .filter((h) => !labelName || (Object.hasOwn(h.labels, labelName) && (labelValue === null || h.labels[labelName] === labelValue)))
    .sort((x, y) => {
      const a = sortValue[key](x);
      const b = sortValue[key](y);
      return (a < b ? -1 : a > b ? 1 : 0) * dir;
    });
  byId('hosts', HTMLTableElement).tBodies[0].replaceChildren(...shown.map(hostRow));
  for (const th of sortHeads()) {
    th.classList.toggle('sorted-asc', th.dataset.sort === key && dir === 1);
    th.classList.toggle('sorted-desc', th.dataset.sort === key && dir === -1);
  }
}

/** @param {string} hostId */
async function selectHost(hostId) {
  state.selected = hostId;
  const section = byId('host-detail');
  section.hidden = false;
  const window = state.window();
  const detail = await api.host(hostId, window === '15m' || window === '1h' ? window : '24h');
  if (state.selected !== hostId) return; // cleared (signed out) or another host clicked meanwhile
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
  byId('detail-loss').replaceChildren(
    ...(report ? [
      lossBlock(report),
      el('h3', { text: 'Series per metric (latest report)' }),
      seriesByMetricTable(report),
      el('h3', { text: 'Pipeline flow (the collectors’ own counters since each started)' }),
      flowTables(report),
    ] : []),
  );
  const charts = byId('detail-charts');
  clearCharts(charts);
  drawCharts(charts, detail.history);
}

/** The drill-down of the host shown, read again (new reports, another window). */
export async function refreshSelected() {
  if (state.selected) await selectHost(state.selected);
}

/** Forgets the hosts and the host selected; the table and the drill-down are emptied. */
export function clearHosts() {
  Object.assign(state, { hosts: [], selected: null });
  byId('hosts', HTMLTableElement).tBodies[0].replaceChildren();
  byId('host-detail').hidden = true;
  byId('detail-body').replaceChildren();
  byId('detail-loss').replaceChildren();
  clearCharts(byId('detail-charts'));
}

/** Wires the filters and the sortable column heads. Calling rules: once, at load. @param {() => string} window the page's window */
export function initHosts(window) {
  state.window = window;
  byId('filter-kind').addEventListener('change', () => showHosts());
  byId('filter-label').addEventListener('input', () => showHosts());
  for (const th of sortHeads()) {
    th.addEventListener('click', () => {
      const key = th.dataset.sort;
      if (!isSortKey(key)) return;
      state.sort = { key, dir: state.sort.key === key ? /** @type {1 | -1} */ (-state.sort.dir) : 1 };
      showHosts();
    });
  }
}
