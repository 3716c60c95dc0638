// Compares variant B against variant A: cardinality reduction, resource deltas, cost savings.
import type { Comparison, VariantReport } from '../../protocol/report.js';

const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;

export function compareVariants(a: VariantReport, b: VariantReport): Comparison {
  return {
    baseline: a.name,
    candidate: b.name,
    cardinalityReduction: a.series !== null && b.series !== null && a.series > 0 ? round(1 - b.series / a.series, 4) : null,
    cpuPercentDelta: a.cpuPercent !== null && b.cpuPercent !== null ? round(b.cpuPercent - a.cpuPercent, 2) : null,
    rssBytesDelta: a.rssBytes !== null && b.rssBytes !== null ? b.rssBytes - a.rssBytes : null,
    monthlyCostSavingsUsd:
      a.estimatedMonthlyCostUsd !== null && b.estimatedMonthlyCostUsd !== null
        ? round(a.estimatedMonthlyCostUsd - b.estimatedMonthlyCostUsd, 4)
        : null,
  };
}
