// The fleet summary cards and the variant comparison tables with their verdicts.
// @ts-check
import { byId, card, el, fmt } from './dom.js';

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').ComparisonResponse} ComparisonResponse
 */

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
