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
  /** The update() that last saw it: one that did not is dropped at the end of the round. */
  round: number;
  /** It stopped advancing while the collection went on (a process that exited or moved to a roll-up): its mass was offered once. */
  departed: boolean;
}

export interface CpuRateRound {
  /** Summed over every CPU-time series (roll-ups included); null on the first scrape. */
  cores: number | null;
  /** Series whose value fell and no series that appeared explains it: a roll-up lost a member, or a process restarted. */
  resets: number;
  /** Jumps and falls explained by a series that departed or appeared in the same round (a process changing series). */
  moves: number;
}

/** When a variant's samples count: the CPU rate and the RSS total read them alike. */
export interface SampleTiming {
  /** A sample older than this (an exited process's, kept on the endpoint by metric_expiration) adds nothing. */
  staleAfterMs: number;
  /** The collector's: samples within half of it of the newest belong to the newest collection. */
  collectionIntervalMs: number;
}

/** A series that advanced this round: its increase, adjusted for what moved in or out of it. */
interface Advanced {
  last: Last;
  increase: number;
  elapsedMs: number;
  /** What its last rate predicts over elapsedMs: a jump is the increase beyond it. */
  expected: number;
}

/**
 * A mass (CPU-seconds) offered to the series whose change it best explains: a departed series' last value to a jump of
 * at least that much (a process joining a roll-up brings its whole CPU time), an appeared series' first value to a
 * fall it covers (a process leaving one takes it away). The mass explains the change when it is at least half of it and
 * at most all of it: a short-lived process's exit (a small mass) is not taken from a busy series' ordinary increase.
 */
function absorb(mass: number, into: Advanced[], direction: 1 | -1): boolean {
  let best: Advanced | null = null;
  let bestChange = 0;
  for (const a of into) {
    // The change to explain: a jump beyond the series' own rate, or a fall below zero.
    const change = direction === 1 ? a.increase - a.expected : -a.increase;
    if (change > bestChange) {
      best = a;
      bestChange = change;
    }
  }
  if (best === null) return false;
  const limit = direction === 1 ? best.increase : bestChange * 2;
  if (mass > limit || mass < bestChange / 2) return false;
  best.increase -= direction * mass;
  return true;
}

/**
 * The CPU-time rate of a variant's output as PromQL's sum(rate()) would see it: per series, the increase between its
 * two newest samples over their timestamps' distance (the exporter's `send_timestamps`; without them, the scrapes'
 * distance, which is off by up to a collection interval), summed over the series of the newest collection.
 * Unlike rate(), it follows processes between series. A roll-up such as `_other` sums its members' counters, so a
 * process joining it makes it jump by the process's whole CPU time, and one leaving it makes it fall. With timestamps,
 * a series that stopped advancing while the collection went on has departed (its process exited, or moved): its last
 * value is taken from a jump it explains; a series seen for the first time has no rate yet, and its first value is
 * given back to a fall it explains. A fall nothing explains is counted as a reset, as rate() reads it, but keeps the
 * series' previous rate for that round: a roll-up that lost a member still accounts for the rest, where rate() would
 * read the whole new value as the increase.
 * A departed series adds nothing. When no series advanced (the agent read faster than the collector), each keeps its
 * last rate while fresh; one older than `staleAfterMs` adds nothing.
 * Calling rules: one per variant and pair; update() once per successful scrape, in order.
 * Each series' entry is updated in place: a baseline at 1,000 processes has thousands of CPU series every round.
 */
export class CpuRate {
  readonly #last = new Map<number, Last>();
  #round = 0;
  readonly #staleAfterMs: number;
  readonly #sameCollectionMs: number;

  constructor(timing: SampleTiming) {
    this.#staleAfterMs = timing.staleAfterMs;
    this.#sameCollectionMs = timing.collectionIntervalMs / 2;
  }

  update(values: Record<string, Map<number, SeriesValue>>, readAt: number): CpuRateRound {
    const first = this.#round === 0;
    const round = ++this.#round;
    const known = this.#last;
    const advanced: Advanced[] = [];
    const still: Last[] = [];
    const appeared: number[] = [];
    let newest = -Infinity;
    for (const [metric, series] of Object.entries(values)) {
      if (!CPU_METRICS.has(metric)) continue;
      for (const [key, current] of series) {
        if (current.timestampMs !== null && current.timestampMs > newest) newest = current.timestampMs;
        const last = known.get(key);
        if (last === undefined) {
          known.set(key, { value: current.value, timestampMs: current.timestampMs, readAt, rate: 0, round, departed: false });
          if (!first) appeared.push(current.value);
          continue;
        }
        last.round = round;
        const elapsedMs = current.timestampMs !== null && last.timestampMs !== null ? current.timestampMs - last.timestampMs : readAt - last.readAt;
        if (elapsedMs <= 0) {
          still.push(last);
          continue;
        }
        advanced.push({ last, increase: current.value - last.value, elapsedMs, expected: (last.rate * elapsedMs) / 1000 });
        last.value = current.value;
        last.timestampMs = current.timestampMs;
        last.readAt = readAt;
        last.departed = false;
      }
    }
    const departed: number[] = [];
    for (const [key, last] of known) {
      if (last.round === round) continue;
      // Gone from the endpoint: departed now, unless its timestamps already said so. Deleting while visiting is safe.
      if (!last.departed) departed.push(last.value);
      known.delete(key);
    }
    let cores = 0;
    for (const last of still) {
      const behind = last.timestampMs !== null && last.timestampMs < newest - this.#sameCollectionMs;
      if (behind) {
        if (!last.departed) departed.push(last.value);
        last.departed = true;
      } else if (last.timestampMs === null || readAt - last.timestampMs <= this.#staleAfterMs) {
        cores += last.rate;
      }
    }
    let moves = 0;
    // The largest masses first: a process that moved carries more than one that merely exited.
    for (const mass of departed.sort((x, y) => y - x)) if (mass > 0 && absorb(mass, advanced, 1)) moves++;
    for (const mass of appeared.sort((x, y) => y - x)) if (mass > 0 && absorb(mass, advanced, -1)) moves++;
    let resets = 0;
    for (const a of advanced) {
      // An unexplained fall: the series keeps its last rate for this round.
      if (a.increase < 0) resets++;
      else a.last.rate = a.increase / (a.elapsedMs / 1000);
      const fresh = a.last.timestampMs === null || readAt - a.last.timestampMs <= this.#staleAfterMs;
      if (fresh) cores += a.last.rate;
    }
    return { cores: first ? null : cores, resets, moves };
  }
}

/**
 * Total RSS over the variant's memory series of the newest collection: where timestamps tell, a series behind it by
 * more than half a collection interval (a process that exited, or whose RSS moved to a roll-up, kept on the endpoint
 * by metric_expiration) is left out, as is one older than `staleAfterMs`.
 */
export function rssTotal(values: Record<string, Map<number, SeriesValue>>, readAt: number, timing: SampleTiming): number | null {
  let newest = -Infinity;
  let seen = false;
  for (const [metric, series] of Object.entries(values)) {
    if (!RSS_METRICS.has(metric)) continue;
    seen = true;
    for (const { timestampMs } of series.values()) if (timestampMs !== null && timestampMs > newest) newest = timestampMs;
  }
  if (!seen) return null;
  const from = Math.max(newest - timing.collectionIntervalMs / 2, readAt - timing.staleAfterMs);
  let total = 0;
  for (const [metric, series] of Object.entries(values)) {
    if (!RSS_METRICS.has(metric)) continue;
    for (const { value, timestampMs } of series.values()) if (timestampMs === null || timestampMs >= from) total += value;
  }
  return total;
}
