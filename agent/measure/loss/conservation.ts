// A variant's own account of the host: its total process CPU-time rate and RSS, from its series' values.
import type { SeriesValue } from '../exposition.js';

/** The metrics summed, as the Prometheus exporter names them (with and without its unit suffixes). */
export const CPU_METRICS: ReadonlySet<string> = new Set(['process_cpu_time_seconds_total', 'process_cpu_time_total', 'process_cpu_time']);
export const RSS_METRICS: ReadonlySet<string> = new Set(['process_memory_usage_bytes', 'process_memory_usage']);

/** Which values a variant's scrape keeps (the scanner's `values` option). */
export const wantsLossValue = (metricName: string): boolean => CPU_METRICS.has(metricName) || RSS_METRICS.has(metricName);

interface Last {
  value: number;
  timestampMs: number | null;
  /** The scrape that read it (agent's clock, ms since the epoch). */
  readAt: number;
  /** Its rate over the previous two distinct samples (cores); 0 until there are two. */
  rate: number;
}

export interface CpuRateRound {
  /** Summed over every CPU-time series (roll-ups included); null on the first scrape. */
  cores: number | null;
  /** Series whose value fell: a roll-up lost a member, or a process restarted under the same labels. */
  resets: number;
}

/**
 * The CPU-time rate of a variant's output as PromQL's sum(rate()) would see it: per series, the increase between its
 * two newest samples over their timestamps' distance (the exporter's `send_timestamps`; without them, the scrapes'
 * distance, which is off by up to a collection interval). A fall is counted as a reset, as rate() reads it, but the
 * series keeps its previous rate for that round: a roll-up that lost a member still accounts for the rest, where
 * rate() would read the whole new value as the increase.
 * A series with no newer sample keeps its last rate while fresh; one older than `staleAfterMs` (an exited process
 * that metric_expiration keeps on the endpoint) adds nothing. A series seen for the first time has no rate yet.
 * Calling rules: one per variant and pair; update() once per successful scrape, in order.
 */
export class CpuRate {
  #last: Map<number, Last> | null = null;
  readonly #staleAfterMs: number;

  constructor(staleAfterMs: number) {
    this.#staleAfterMs = staleAfterMs;
  }

  update(values: Record<string, Map<number, SeriesValue>>, readAt: number): CpuRateRound {
    const previous = this.#last;
    const next = new Map<number, Last>();
    let cores = 0;
    let resets = 0;
    for (const [metric, series] of Object.entries(values)) {
      if (!CPU_METRICS.has(metric)) continue;
      for (const [key, current] of series) {
        const last = previous?.get(key);
        if (last === undefined) {
          next.set(key, { ...current, readAt, rate: 0 });
          continue;
        }
        const fresh = current.timestampMs === null || readAt - current.timestampMs <= this.#staleAfterMs;
        const elapsedMs = current.timestampMs !== null && last.timestampMs !== null ? current.timestampMs - last.timestampMs : readAt - last.readAt;
        if (elapsedMs <= 0) {
          next.set(key, last);
          if (fresh) cores += last.rate;
          continue;
        }
        const increase = current.value - last.value;
        if (increase < 0) resets++;
        // A fall: what the sum lost with its departed member is unknown, so the series keeps its last rate for this
        // round (rate() would read the whole new value as the increase: the spike `resets` warns of).
        const rate = increase < 0 ? last.rate : increase / (elapsedMs / 1000);
        next.set(key, { ...current, readAt, rate });
        if (fresh) cores += rate;
      }
    }
    this.#last = next;
    return { cores: previous === null ? null : cores, resets };
  }
}

/** Total RSS over the variant's memory series, the stale ones left out where timestamps tell them. */
export function rssTotal(values: Record<string, Map<number, SeriesValue>>, readAt: number, staleAfterMs: number): number | null {
  let total = 0;
  let seen = false;
  for (const [metric, series] of Object.entries(values)) {
    if (!RSS_METRICS.has(metric)) continue;
    for (const { value, timestampMs } of series.values()) {
      seen = true;
      if (timestampMs === null || readAt - timestampMs <= staleAfterMs) total += value;
    }
  }
  return seen ? total : null;
}
