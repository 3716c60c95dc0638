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
