// The estimated-cost model: explicit prices per 1,000 active series a month and per million samples.
import type { PricingModel } from '../../protocol/report.js';

const MONTH_MS = 30 * 24 * 3_600_000;
export const HOURS_PER_MONTH = 30 * 24;

export const PRICING_NOTE =
  'Estimates from the configured prices (pricing.*), not a bill: defaults are illustrative list prices; set your vendor\'s.';

export function pricingModel(perThousandSeriesMonth: number, perMillionSamples: number, collectionIntervalMs: number): PricingModel {
  return { currency: 'USD', perThousandSeriesMonth, perMillionSamples, collectionIntervalMs, note: PRICING_NOTE };
}

/** Monthly cost of keeping `series` active, each sampled once per collection interval. */
export function monthlyCost(series: number, model: PricingModel): number {
  const samplesPerMonth = series * (MONTH_MS / model.collectionIntervalMs);
  const cost = (series / 1000) * model.perThousandSeriesMonth + (samplesPerMonth / 1e6) * model.perMillionSamples;
  return Math.round(cost * 10_000) / 10_000;
}
