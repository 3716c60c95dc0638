// One variant's loss figures each round: top-K coverage, conservation against the host, counter resets, flapping.
import type { ExpositionScannerOptions, ExpositionStats } from '../exposition.js';
import { VIEW_LABELS, type VariantView } from '../variant-view.js';
import type { VariantLoss } from '../../../protocol/report.js';
import { CpuRate, rssTotal, wantsLossValue, type SampleTiming } from './conservation.js';
import { topCoverage } from './coverage.js';
import { FlapTracker } from './flapping.js';
import { round6, type TruthRound } from './truth.js';

/**
 * Calling rules: one per variant and pair. Each round, scrape the variant's output with `scanOptions()`, then call
 * measure() with what the scrape gave (null when it failed); close() when the pair stops (it lets the kept series go).
 */
export class VariantLossMeter {
  readonly #cpu: CpuRate;
  readonly #flaps = new FlapTracker();
  readonly #timing: SampleTiming;

  /**
   * `collectionIntervalMs`: the collector's. A sample older than two of them and 2 s is an exited process's, kept on
   * the endpoint by metric_expiration.
   */
  constructor(collectionIntervalMs: number) {
    this.#timing = { collectionIntervalMs, staleAfterMs: 2 * collectionIntervalMs + 2000 };
    this.#cpu = new CpuRate(this.#timing);
  }

  scanOptions(): ExpositionScannerOptions {
    const previous = this.#flaps.previousSeries;
    return { collectLabels: VIEW_LABELS, keepSeries: true, values: wantsLossValue, ...(previous ? { previousSeries: previous } : {}) };
  }

  /** The figures, or undefined when the scrape failed (the kept series stay the ones to compare the next scrape with). */
  measure(stats: ExpositionStats | null, view: VariantView | null, round: TruthRound, readAt: number): VariantLoss | undefined {
    if (stats === null || view === null) return undefined;
    const cpu = this.#cpu.update(stats.values, readAt);
    const rss = rssTotal(stats.values, readAt, this.#timing);
    const ratio = (part: number | null, whole: number | null) => (part === null || whole === null || whole <= 0 ? null : round6(part / whole));
    return {
      topCpu: round.topCpu === null ? null : topCoverage(round.topCpu, view),
      topRss: topCoverage(round.topRss, view),
      cpuCores: cpu.cores === null ? null : round6(cpu.cores),
      rssBytes: rss,
      cpuConservation: ratio(cpu.cores, round.cpuCores),
      rssConservation: ratio(rss, round.rssBytes),
      counterResets: cpu.resets,
      flapping: this.#flaps.update(stats, round.population, view),
    };
  }

  close(): void {
    this.#flaps.close();
  }
}
