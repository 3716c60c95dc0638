// The page's charts (uPlot, loaded by its own <script> tag): one chart per figure, one line per variant.
// @ts-check
import { el, fmt } from './dom.js';

/**
 * @typedef {import('../http/types.js').FleetHistoryResponse} FleetHistoryResponse
 * @typedef {Pick<FleetHistoryResponse['points'][number], 'at' | 'variant' | 'series' | 'cpuPercent' | 'rssBytes'>} ChartPoint
 *   what a chart reads of a fleet or host history point
 */

/** The charts drawn, with the container each is in. @type {{ plot: import('uplot'), container: HTMLElement }[]} */
let plots = [];

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
  plots.push({ plot, container });
}

/** One chart per figure, one line per variant. @param {HTMLElement} container @param {ChartPoint[]} points */
export function drawCharts(container, points) {
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
export function clearCharts(container) {
  for (const c of plots.filter((c) => c.container === container)) c.plot.destroy();
  plots = plots.filter((c) => c.container !== container);
  container.replaceChildren();
}

/**
 * A compact bar table: one row per item (a metric, say), one column per variant, each cell its number and a bar
 * (a <meter>, so no style is needed) scaled to the largest number in the table. Rows as given.
 * @param {string} kind names the table for styles and tests (data-bars)
 * @param {string} itemHead the first column's head, e.g. 'metric'
 * @param {string[]} columns the variants' heads
 * @param {{ name: string, values: (number | null)[] }[]} rows
 * @param {(v: number | null) => string} [format]
 */
export function barTable(kind, itemHead, columns, rows, format = (v) => (v === null ? '–' : fmt.int(v))) {
  const max = Math.max(1, ...rows.flatMap((r) => r.values.filter((v) => v !== null)));
  const cell = (/** @type {number | null} */ v, /** @type {number} */ i) =>
    el(
      'td',
      { class: 'num bar-cell', 'data-column': String(i) },
      el('span', { class: 'bar-value', text: format(v) }),
      v === null ? null : el('meter', { min: '0', max: String(max), value: String(v), 'aria-hidden': 'true' }),
    );
  return el(
    'table',
    { class: 'bars', 'data-bars': kind },
    el('thead', {}, el('tr', {}, el('th', { text: itemHead }), ...columns.map((c) => el('th', { class: 'num', text: c })))),
    el('tbody', {}, ...rows.map((r) => el('tr', { 'data-item': r.name }, el('th', { text: r.name }), ...r.values.map(cell)))),
  );
}

/**
 * A pipeline's flow, stage by stage: points the receiver accepted, each processor's items in and out (and the share
 * it passed on), points the exporter sent. `hosts`, when given, says over how many hosts each stage was summed.
 * @typedef {{ points: number, hosts?: number } | null} StagePoints
 * @typedef {{ processor: string, incoming: number, outgoing: number, hosts?: number }} StageFlow
 * @param {string} title the variant
 * @param {{ accepted: StagePoints, processors: StageFlow[], sent: StagePoints } | null} flow null: the collector's telemetry was not read
 */
export function flowTable(title, flow) {
  const hostsText = (/** @type {number | undefined} */ n) => (n === undefined ? null : el('span', { class: 'hint', text: ` (${n} host${n === 1 ? '' : 's'})` }));
  /** @param {string} stage @param {string} kind @param {number | null} incoming @param {number | null} outgoing @param {number | undefined} hosts */
  const row = (stage, kind, incoming, outgoing, hosts) =>
    el(
      'tr',
      { 'data-stage': stage, 'data-stage-kind': kind },
      el('th', {}, stage, hostsText(hosts)),
      el('td', { class: 'num', 'data-flow': 'in', text: fmt.int(incoming) }),
      el('td', { class: 'num', 'data-flow': 'out', text: fmt.int(outgoing) }),
      el('td', { class: 'num', 'data-flow': 'kept', text: incoming && outgoing !== null ? fmt.pct(outgoing / incoming) : '–' }),
    );
  const body = flow
    ? [
        row('accepted (receiver)', 'receiver', null, flow.accepted?.points ?? null, flow.accepted?.hosts),
        ...flow.processors.map((p) => row(p.processor, 'processor', p.incoming, p.outgoing, p.hosts)),
        row('sent (exporter)', 'exporter', flow.sent?.points ?? null, null, flow.sent?.hosts),
      ]
    : [el('tr', {}, el('td', { colspan: '4', class: 'empty', text: 'not measured: the collector’s own telemetry was not read' }))];
  return el(
    'table',
    { class: 'flow', 'data-flow-of': title },
    el('caption', { text: title }),
    el('thead', {}, el('tr', {}, ...['stage', 'in', 'out', 'passed on'].map((h, i) => el('th', { class: i ? 'num' : '', text: h })))),
    el('tbody', {}, ...body),
  );
}
