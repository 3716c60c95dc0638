// The fleet summary cards, the variant comparison tables with their verdicts and what each variant loses beyond the
// critical processes (top-K coverage, conservation, flapping, counter resets, blind spots: the median host and the
// worst), and the fleet's breakdown per metric and per pipeline stage (every host's latest report, summed).
// @ts-check
import { barTable, flowTable } from './charts.js';
import { byId, card, el, fmt } from './dom.js';

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').ComparisonResponse} ComparisonResponse
 * @typedef {import('../http/types.js').FleetBreakdownResponse} FleetBreakdownResponse
 * @typedef {import('../http/types.js').LossSummary} LossSummary
 * @typedef {import('../http/types.js').CoverageSpread} CoverageSpread
 * @typedef {import('../http/types.js').LossSpread} LossSpread
 * @typedef {import('../http/types.js').BlindSpotSummary} BlindSpotSummary
 */

export const NOT_MEASURED = 'not measured';

/** @param {number} n */
const hostsText = (n) => `${n} host${n === 1 ? '' : 's'}`;
/** @param {{ visible: number, ranked: number }} c */
const coverage = (c) => `${c.visible} of ${c.ranked}`;

/** Top-K coverage: the median host's, then the worst host's and which. @param {CoverageSpread | null} c */
const coverageText = (c) => (c ? `${coverage(c.median)} / ${coverage(c.worst)} on ${c.worst.hostId}` : NOT_MEASURED);

/** A spread's median, then its worst and which host. @param {LossSpread | null} s @param {(x: number) => string} format */
const spreadText = (s, format) => (s ? `${format(s.median)} / ${format(s.worst)} on ${s.worstHost}` : NOT_MEASURED);

/** @param {number} x */
const perHour = (x) => `${x}/h`;

/** @param {LossSummary['counterResets']} r */
const resetsText = (r) => (r ? `${r.total}${r.total ? ` on ${hostsText(r.hosts)}` : ''}` : NOT_MEASURED);

/** @param {BlindSpotSummary | null} b */
const blindSpotsText = (b) => (b ? `${b.total} on ${b.hosts} of ${hostsText(b.knownHosts)}` : NOT_MEASURED);

/** The comparison rows of what each variant loses, as [key, label, baseline, candidate]. @param {LossSummary} a @param {LossSummary} b @returns {[string, string, string, string][]} */
const lossRows = (a, b) => [
  ['topCpu', 'top-K CPU shown by name: median / worst host', coverageText(a.topCpu), coverageText(b.topCpu)],
  ['topRss', 'top-K RSS shown by name: median / worst host', coverageText(a.topRss), coverageText(b.topRss)],
  ['cpuConservation', 'CPU accounted for: median / worst host', spreadText(a.cpuConservation, fmt.pct), spreadText(b.cpuConservation, fmt.pct)],
  ['rssConservation', 'RSS accounted for: median / worst host', spreadText(a.rssConservation, fmt.pct), spreadText(b.rssConservation, fmt.pct)],
  ['flapping', 'series appearing or vanishing: median / worst host', spreadText(a.flappingPerHour, perHour), spreadText(b.flappingPerHour, perHour)],
  ['switches', 'names switching to or from a roll-up: median / worst host', spreadText(a.switchesPerHour, perHour), spreadText(b.switchesPerHour, perHour)],
  ['counterResets', 'counter resets', resetsText(a.counterResets), resetsText(b.counterResets)],
];

/** @param {FleetResponse} fleet */
export function renderSummary(fleet) {
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
export function renderComparison(comparison) {
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
      /** @param {string} label @param {string} a @param {string} b @param {string} [key] */
      const row = (label, a, b, key) =>
        el(
          'tr',
          { 'data-row': key },
          el('th', { text: label }),
          el('td', { class: `num${a === NOT_MEASURED ? ' not-measured' : ''}`, text: a }),
          el('td', { class: `num${b === NOT_MEASURED ? ' not-measured' : ''}`, text: b }),
        );
      parts.push(
        el(
          'table',
          { class: 'comparison', 'data-pair': `${pair.baseline}/${pair.candidate}`, 'data-group': group.key },
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
            el('tr', { class: 'subhead' }, el('th', { colspan: '3', text: 'What each loses beyond the critical processes' })),
            ...lossRows(pair.a.loss, pair.b.loss).map(([key, label, a, b]) => row(label, a, b, key)),
            row('blind spots (shown by neither): total on hosts with any, of those measured', '', blindSpotsText(pair.blindSpots), 'blindSpots'),
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

/** @param {0 | 1} side */
const sideName = (side) => (side === 0 ? 'A' : 'B');

/**
 * Per group, series per metric for each variant side by side, and each variant's pipeline flow: every host's latest
 * report, summed.
 * @param {FleetBreakdownResponse} breakdown
 */
export function renderBreakdown(breakdown) {
  const root = byId('breakdown');
  if (breakdown.groups.length === 0) {
    root.replaceChildren(el('p', { class: 'empty', text: 'No reports yet.' }));
    return;
  }
  const parts = [];
  for (const group of breakdown.groups) {
    const section = el('div', { class: 'breakdown-group', 'data-group': group.key });
    if (breakdown.groupBy !== 'none') section.append(el('h3', { class: 'group-title', text: `${group.key} (${hostsText(group.hosts)})` }));
    const columns = group.variants.map((v) => `${v.variant} (${sideName(v.side)}, ${hostsText(v.hosts)})`);
    const names = [...new Set(group.variants.flatMap((v) => Object.keys(v.seriesByMetric)))];
    /** @param {string} name */
    const values = (name) => group.variants.map((v) => (Object.hasOwn(v.seriesByMetric, name) ? v.seriesByMetric[name] : null));
    const largest = (/** @type {string} */ name) => Math.max(0, ...values(name).map((x) => x ?? 0));
    const rows = names.sort((x, y) => largest(y) - largest(x) || (x < y ? -1 : x > y ? 1 : 0)).map((name) => ({ name, values: values(name) }));
    rows.push({ name: 'all metrics', values: group.variants.map((v) => v.totalSeries) });
    section.append(
      el('p', { class: 'hint', text: `Series per metric over ${hostsText(group.hosts)}, each host’s latest report summed:` }),
      barTable('fleet-series-by-metric', 'metric', columns, rows),
      el('p', { class: 'hint', text: 'Each variant’s pipeline, stage by stage (the collectors’ own counters since each started, summed):' }),
      el(
        'div',
        { class: 'flows' },
        ...group.variants.map((v, i) =>
          flowTable(columns[i], v.telemetryHosts === 0 ? null : { accepted: v.acceptedPoints, processors: v.processors, sent: v.sentPoints }),
        ),
      ),
    );
    parts.push(section);
  }
  root.replaceChildren(...parts);
}
