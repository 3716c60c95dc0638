// The host drill-down's parts from its latest report (issue 15): series per metric for both variants side by side,
// each variant's flow through its pipeline, and what each variant loses beyond the critical processes — top-K CPU
// and RSS coverage with the names missing, CPU and RSS conservation, counter resets, flapping, the host's blind spots.
// "not measured" wherever the report does not say (an agent before issue 15, or a pair's first round).
// @ts-check
import { barTable, flowTable } from './charts.js';
import { el, fmt } from './dom.js';

/**
 * @typedef {import('../../protocol/report.js').AgentReport} AgentReport
 * @typedef {import('../../protocol/report.js').VariantReport} VariantReport
 * @typedef {import('../../protocol/report.js').VariantLoss} VariantLoss
 * @typedef {import('../../protocol/report.js').TopCoverage} TopCoverage
 * @typedef {import('../../protocol/report.js').HostTruth} HostTruth
 */

export const NOT_MEASURED = 'not measured';

/** The metric names of both variants, the largest first (by the larger of the two), then by name. @param {Record<string, number>[]} maps */
function metricRows(maps) {
  const names = [...new Set(maps.flatMap((m) => Object.keys(m)))];
  /** @param {string} name */
  const values = (name) => maps.map((m) => (Object.hasOwn(m, name) ? m[name] : null));
  const largest = (/** @type {string} */ name) => Math.max(0, ...values(name).map((v) => v ?? 0));
  return names
    .sort((x, y) => largest(y) - largest(x) || (x < y ? -1 : x > y ? 1 : 0))
    .map((name) => ({ name, values: values(name) }));
}

/** Series per metric of the report's variants, side by side. @param {AgentReport} report */
export function seriesByMetricTable(report) {
  return barTable('series-by-metric', 'metric', report.variants.map((v) => v.name), metricRows(report.variants.map((v) => v.seriesByMetric)));
}

/** Each variant's pipeline flow. @param {AgentReport} report */
export function flowTables(report) {
  return el(
    'div',
    { class: 'flows' },
    ...report.variants.map((v) =>
      flowTable(
        v.name,
        v.telemetry && {
          accepted: v.telemetry.acceptedPoints === null ? null : { points: v.telemetry.acceptedPoints },
          processors: v.telemetry.processors,
          sent: v.telemetry.sentPoints === null ? null : { points: v.telemetry.sentPoints },
        },
      ),
    ),
  );
}

/** @param {TopCoverage | null | undefined} c */
const coverageText = (c) => (c ? `${c.visible} of ${c.ranked}${c.missing.length ? ` — missing: ${c.missing.join(', ')}` : ''}` : NOT_MEASURED);

/** A ratio with the totals it is made of. @param {number | null | undefined} ratio @param {string | null} totals */
const ratioText = (ratio, totals) => (ratio === null || ratio === undefined ? NOT_MEASURED : `${fmt.pct(ratio)}${totals ? ` (${totals})` : ''}`);

/** @param {number | null | undefined} x */
const cores = (x) => (x === null || x === undefined ? null : x.toFixed(2));

/** @param {VariantLoss['flapping'] | undefined} f */
function flappingText(f) {
  if (!f) return NOT_MEASURED;
  const names = f.switchedNames.length ? `: ${f.switchedNames.join(', ')}${f.switched > f.switchedNames.length ? ` and ${f.switched - f.switchedNames.length} more` : ''}` : '';
  return `${f.appeared} appeared, ${f.vanished} vanished, ${f.switched} switched${names}`;
}

/** @param {HostTruth | undefined} truth */
function blindSpotsText(truth) {
  if (!truth) return NOT_MEASURED;
  const { count, names } = truth.blindSpots;
  if (count === 0) return 'none';
  const more = count > names.length ? ` and ${count - names.length} more` : '';
  return `${count}${names.length ? `: ${names.join(', ')}${more}` : ''}`;
}

/** @param {HostTruth | undefined} truth */
function truthText(truth) {
  if (!truth) return 'This host’s agent does not measure these figures (it predates them): each is not measured.';
  const interval = truth.intervalMs === null ? 'no interval yet (the pair’s first round)' : `CPU over ${Math.round(truth.intervalMs / 100) / 10} s`;
  return `Against the agent’s own reading of /proc: ${truth.processes} processes, ${cores(truth.cpuCores) ?? '–'} cores, ${fmt.mib(truth.rssBytes)}; top ${truth.k}; ${interval}.`;
}

/**
 * What each variant loses beyond the critical processes, from the report's loss figures and the host's truth.
 * @param {AgentReport} report
 */
export function lossBlock(report) {
  const truth = report.truth;
  const k = truth ? String(truth.k) : 'K';
  /** @typedef {(v: VariantReport, loss: VariantLoss) => string} Figure */
  /** @type {[key: string, label: string, figure: Figure][]} */
  const rows = [
    ['topCpu', `top-${k} CPU shown by name`, (_v, loss) => coverageText(loss.topCpu)],
    ['topRss', `top-${k} RSS shown by name`, (_v, loss) => coverageText(loss.topRss)],
    ['cpuConservation', 'CPU accounted for', (_v, loss) => ratioText(loss.cpuConservation, loss.cpuCores !== null && truth?.cpuCores != null ? `${cores(loss.cpuCores)} of ${cores(truth.cpuCores)} cores` : null)],
    ['rssConservation', 'RSS accounted for', (_v, loss) => ratioText(loss.rssConservation, loss.rssBytes !== null && truth ? `${fmt.mib(loss.rssBytes)} of ${fmt.mib(truth.rssBytes)}` : null)],
    ['counterResets', 'counter resets', (_v, loss) => String(loss.counterResets)],
    ['flapping', 'flapping since the last round', (_v, loss) => flappingText(loss.flapping)],
  ];
  const head = el('thead', {}, el('tr', {}, el('th', { text: '' }), ...report.variants.map((v) => el('th', { text: v.name }))));
  const body = el(
    'tbody',
    {},
    ...rows.map(([key, label, figure]) =>
      el(
        'tr',
        { 'data-loss': key },
        el('th', { text: label }),
        ...report.variants.map((v) => {
          const text = v.loss ? figure(v, v.loss) : NOT_MEASURED;
          return el('td', { 'data-variant': v.name, class: text === NOT_MEASURED ? 'not-measured' : '', text });
        }),
      ),
    ),
    el(
      'tr',
      { 'data-loss': 'blindSpots' },
      el('th', { text: 'blind spots (shown by neither)' }),
      el('td', { colspan: String(report.variants.length), class: truth ? '' : 'not-measured', text: blindSpotsText(truth) }),
    ),
  );
  return el(
    'section',
    { class: 'host-loss', 'aria-label': 'what the candidate loses' },
    el('h3', { text: 'What the candidate loses' }),
    el('p', { class: 'hint', 'data-truth': '', text: truthText(truth) }),
    el('table', { class: 'loss', 'data-loss-table': '' }, head, body),
  );
}
