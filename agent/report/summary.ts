// A short human-readable summary of a report, for the terminal and log lines.
import type { AgentReport } from '../../protocol/report.js';

const pct = (x: number | null) => (x === null ? 'n/a' : `${(x * 100).toFixed(1)}%`);
const mib = (x: number | null) => (x === null ? 'n/a' : `${(x / 2 ** 20).toFixed(1)} MiB`);
const usd = (x: number | null) => (x === null ? 'n/a' : `$${x.toFixed(2)}`);

export function summarizeReport(report: AgentReport): string {
  const [a, b] = report.variants;
  const c = report.comparison;
  const lines = [
    `${c.candidate} vs ${c.baseline} on ${report.host.id}: series ${a.series ?? 'n/a'} -> ${b.series ?? 'n/a'} (reduction ${pct(c.cardinalityReduction)}), ` +
      `critical retention ${pct(a.criticalRetention)} / ${pct(b.criticalRetention)}`,
  ];
  for (const v of report.variants) {
    lines.push(
      `  ${v.name.padEnd(14)} ${v.state.padEnd(8)} restarts=${v.restarts} series=${v.series ?? 'n/a'} cpu=${v.cpuPercent ?? 'n/a'}% ` +
        `rss=${mib(v.rssBytes)} retention=${pct(v.criticalRetention)}${v.criticalMissing.length ? ` missing=${v.criticalMissing.join(',')}` : ''} ` +
        `est=${usd(v.estimatedMonthlyCostUsd)}/month`,
    );
  }
  lines.push(`  critical running: ${report.critical.running.join(', ') || '(none)'}; host processes: ${report.host.processCount}`);
  lines.push(`  estimated savings: ${usd(c.monthlyCostSavingsUsd)}/month (estimate: ${report.pricing.note})`);
  return lines.join('\n');
}
