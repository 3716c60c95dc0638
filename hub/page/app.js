// Phoenix hub page: fleet summary, variant comparison, charts, hosts, drill-down; refreshed live.
// Everything agents send is put on the page with textContent, never as HTML.
// Checked by `npm run typecheck` (tsconfig.page.json) against the API's types in hub/http/types.ts; served as is.
// @ts-check
'use strict';

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').FleetHost} FleetHost
 * @typedef {import('../http/types.js').ComparisonResponse} ComparisonResponse
 * @typedef {import('../http/types.js').FleetHistoryResponse} FleetHistoryResponse
 * @typedef {import('../http/types.js').HostResponse} HostResponse
 * @typedef {import('../http/types.js').ErrorResponse} ErrorResponse
 * @typedef {import('../http/types.js').LiveMessage} LiveMessage
 * @typedef {Pick<FleetHistoryResponse['points'][number], 'at' | 'variant' | 'series' | 'cpuPercent' | 'rssBytes'>} ChartPoint
 *   what a chart reads of a fleet or host history point
 * @typedef {keyof typeof sortValue} SortKey
 * @typedef {{ class?: string, text?: string, [attribute: string]: string | undefined }} ElementProps
 *   class and text are set as such; anything else (data-*, an option's value) as an attribute
 */

/** @type {{ window: string, groupBy: string, fleet: FleetResponse | null, sort: { key: SortKey, dir: 1 | -1 }, selected: string | null, charts: { plot: import('uplot'), container: HTMLElement }[] }} */
const state = { window: '1h', groupBy: 'none', fleet: null, sort: { key: 'hostId', dir: 1 }, selected: null, charts: [] };

/**
 * @template {keyof HTMLElementTagNameMap} K
 * @param {K} tag
 * @param {ElementProps} [props]
 * @param {...(Node | string | null | undefined)} children
 * @returns {HTMLElementTagNameMap[K]}
 */
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/**
 * The page's elements, by id; a missing one is a broken page, said at once.
 * @template {HTMLElement} [T=HTMLElement]
 * @param {string} id
 * @param {{ new (): T, prototype: T }} [kind] the element's class, checked
 * @returns {T}
 */
function byId(id, kind) {
  const node = document.getElementById(id);
  if (!(node instanceof (kind ?? HTMLElement))) throw new Error(`the page has no ${kind?.name ?? 'element'} #${id}`);
  return /** @type {T} */ (node);
}

/** @typedef {(x: number | null | undefined) => string} Format */
/** @type {{ int: Format, pct: Format, cpu: Format, mib: Format, usd: Format, time: (iso: string | null | undefined) => string }} */
const fmt = {
  int: (x) => (x === null || x === undefined ? '–' : Math.round(x).toLocaleString('en-US')),
  pct: (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)}%`),
  cpu: (x) => (x === null || x === undefined ? '–' : `${x.toFixed(2)}%`),
  mib: (x) => (x === null || x === undefined ? '–' : `${(x / 1048576).toFixed(1)} MiB`),
  usd: (x) => (x === null || x === undefined ? '–' : `$${x.toFixed(2)}`),
  time: (iso) => (iso ? new Date(iso).toLocaleTimeString() : '–'),
};

/**
 * The one place the hub's answers are taken to be what hub/http/types.ts says; everything after is checked.
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(/** @type {ErrorResponse} */ (body).message || `HTTP ${res.status}`);
  return body;
}

const api = {
  /** @returns {Promise<FleetResponse>} */
  fleet: () => /** @type {Promise<FleetResponse>} */ (getJson('/api/v1/fleet')),
  /** @param {string} window @param {string} groupBy @returns {Promise<ComparisonResponse>} */
  comparison: (window, groupBy) =>
    /** @type {Promise<ComparisonResponse>} */ (getJson(`/api/v1/comparison?window=${encodeURIComponent(window)}&groupBy=${encodeURIComponent(groupBy)}`)),
  /** @param {string} window @returns {Promise<FleetHistoryResponse>} */
  fleetHistory: (window) => /** @type {Promise<FleetHistoryResponse>} */ (getJson(`/api/v1/fleet/history?window=${encodeURIComponent(window)}`)),
  /** @param {string} hostId @param {string} window @returns {Promise<HostResponse>} */
  host: (hostId, window) => /** @type {Promise<HostResponse>} */ (getJson(`/api/v1/hosts/${encodeURIComponent(hostId)}?window=${encodeURIComponent(window)}`)),
};

/** @param {string} label @param {number} value @param {string} id */
function card(label, value, id) {
  return el('div', { class: 'card', 'data-card': id }, el('div', { class: 'value', text: String(value) }), el('div', { class: 'label', text: label }));
}

/** @param {FleetResponse} fleet */
function renderSummary(fleet) {
  const t = fleet.totals;
  byId('summary').replaceChildren(
    card('hosts reporting', t.hosts, 'hosts'),
    card('connected now', t.connected, 'connected'),
    card('VMs', t.vm, 'vm'),
    card('Kubernetes nodes', t.k8sNode, 'k8s'),
    card('hosts with lost critical processes', t.withLosses, 'losses'),
  );
  // Offer every label name seen as a grouping.
  const select = byId('group-by', HTMLSelectElement);
  const names = new Set(fleet.hosts.flatMap((h) => Object.keys(h.labels)));
  const have = new Set([...select.options].map((o) => o.value));
  for (const name of [...names].sort()) {
    const value = `label:${name}`;
    if (!have.has(value)) select.append(el('option', { value, text: `label ${name}` }));
  }
}

/** @param {ComparisonResponse} comparison */
function renderComparison(comparison) {
  const root = byId('comparison');
  if (comparison.groups.length === 0) {
    root.replaceChildren(el('p', { class: 'empty', text: `No reports in the last ${comparison.window}.` }));
    return;
  }
  const parts = [];
  for (const group of comparison.groups) {
    if (comparison.groupBy !== 'none') parts.push(el('h3', { class: 'group-title', text: group.key }));
    for (const pair of group.pairs) {
      parts.push(el('p', { class: 'verdict', 'data-verdict': '', text: pair.verdict }));
      /** @param {string} label @param {string} a @param {string} b */
      const row = (label, a, b) => el('tr', {}, el('th', { text: label }), el('td', { class: 'num', text: a }), el('td', { class: 'num', text: b }));
      parts.push(
        el(
          'table',
          { class: 'comparison' },
          el('thead', {}, el('tr', {}, el('th', { text: `${pair.hosts} host${pair.hosts === 1 ? '' : 's'}` }), el('th', { class: 'num', text: pair.baseline }), el('th', { class: 'num', text: pair.candidate }))),
          el(
            'tbody',
            {},
            row('total series', fmt.int(pair.a.totalSeries), fmt.int(pair.b.totalSeries)),
            row('series per host: median / p95', `${fmt.int(pair.a.medianSeries)} / ${fmt.int(pair.a.p95Series)}`, `${fmt.int(pair.b.medianSeries)} / ${fmt.int(pair.b.p95Series)}`),
            row('cardinality reduction (fleet; p5–p95 per host)', '', `${fmt.pct(pair.reduction.total)} (${fmt.pct(pair.reduction.p5)}–${fmt.pct(pair.reduction.p95)})`),
            row('full critical retention', `${pair.a.fullRetentionHosts} of ${pair.a.retentionKnownHosts}`, `${pair.b.fullRetentionHosts} of ${pair.b.retentionKnownHosts}`),
            row('collector CPU: mean / p95', `${fmt.cpu(pair.a.cpuPercentMean)} / ${fmt.cpu(pair.a.cpuPercentP95)}`, `${fmt.cpu(pair.b.cpuPercentMean)} / ${fmt.cpu(pair.b.cpuPercentP95)}`),
            row('collector RSS: mean / p95', `${fmt.mib(pair.a.rssBytesMean)} / ${fmt.mib(pair.a.rssBytesP95)}`, `${fmt.mib(pair.b.rssBytesMean)} / ${fmt.mib(pair.b.rssBytesP95)}`),
            row('estimated monthly cost', fmt.usd(pair.a.monthlyCostUsd), fmt.usd(pair.b.monthlyCostUsd)),
            row('estimated monthly savings', '', fmt.usd(pair.monthlySavingsUsd)),
          ),
        ),
      );
      if (pair.candidateLosses.length > 0) {
        const list = el('ul', { class: 'losses' });
        for (const loss of pair.candidateLosses) list.append(el('li', {}, el('span', { text: `${loss.hostId}: ` }), el('span', { class: 'missing', text: loss.missing.join(', ') })));
        parts.push(el('p', { text: `Hosts where ${pair.candidate} lost critical processes:` }), list);
      }
    }
  }
  root.replaceChildren(...parts);
}

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

/**
 * @param {HTMLElement} container
 * @param {string} title
 * @param {[variant: string, points: [at: number, value: number][]][]} seriesByVariant
 * @param {(v: number | null) => string} format
 */
function chart(container, title, seriesByVariant, format) {
  if (typeof uPlot === 'undefined') return;
  const times = [...new Set(seriesByVariant.flatMap(([, pts]) => pts.map((p) => p[0])))].sort((a, b) => a - b);
  /** @type {import('uplot').AlignedData} */
  const data = [
    times.map((t) => t / 1000),
    ...seriesByVariant.map(([, pts]) => {
      const byTime = new Map(pts);
      return times.map((t) => byTime.get(t) ?? null);
    }),
  ];
  const colors = ['#475467', '#c4320a', '#1570ef', '#067647'];
  const box = el('div', { class: 'chart' });
  container.append(box);
  const plot = new uPlot(
    {
      title,
      width: 420,
      height: 200,
      series: [{}, ...seriesByVariant.map(([name], i) => /** @satisfies {import('uplot').Series} */ ({ label: name, stroke: colors[i % colors.length], width: 2, value: (_u, v) => format(v) }))],
      axes: [{}, { values: (_u, ticks) => ticks.map(format), size: 70 }],
    },
    data,
    box,
  );
  state.charts.push({ plot, container });
}

/** One chart per figure, one line per variant. @param {HTMLElement} container @param {ChartPoint[]} points */
function drawCharts(container, points) {
  const variants = [...new Set(points.map((p) => p.variant))];
  /** @param {'series' | 'cpuPercent' | 'rssBytes'} field @returns {[string, [number, number][]][]} */
  const pick = (field) =>
    variants.map((name) => [
      name,
      points.flatMap((p) => {
        const value = p[field];
        return p.variant === name && value !== null ? [/** @satisfies {[number, number]} */ ([p.at, value])] : [];
      }),
    ]);
  chart(container, 'series', pick('series'), (v) => (v === null ? '–' : fmt.int(v)));
  chart(container, 'collector CPU (% of a core)', pick('cpuPercent'), (v) => (v === null ? '–' : `${v.toFixed(1)}%`));
  chart(container, 'collector RSS', pick('rssBytes'), (v) => (v === null ? '–' : fmt.mib(v)));
}

// uPlot keeps listeners and a resize observer per chart: destroy the old ones before drawing new ones.
/** @param {HTMLElement} container */
function clearCharts(container) {
  for (const c of state.charts.filter((c) => c.container === container)) c.plot.destroy();
  state.charts = state.charts.filter((c) => c.container !== container);
  container.replaceChildren();
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
