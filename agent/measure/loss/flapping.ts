// Series that came and went between a variant's scrapes, and processes that moved between their own series and a roll-up.
import type { HostProcess } from '../host-processes.js';
import type { Flapping } from '../../../protocol/report.js';
import type { SeriesSet } from '../series-set.js';
import { showsName, type VariantView } from '../variant-view.js';

export const SWITCHED_NAMES = 50;

/**
 * Calling rules: one per variant and pair. Each successful scrape: pass `previousSeries` to the scanner, then
 * update() with what it gave (it takes ownership of the new series set and lets the old one go); close() at the end.
 */
export class FlapTracker {
  #series: SeriesSet | null = null;
  /** Per process name of the previous round: whether the variant showed it on its own. */
  #shown: Map<string, boolean> | null = null;

  get previousSeries(): SeriesSet | undefined {
    return this.#series ?? undefined;
  }

  update(scrape: { series: number; appeared: number; seriesSet: SeriesSet | null }, population: readonly HostProcess[], view: VariantView): Flapping | null {
    const shown = new Map<string, boolean>();
    for (const p of population) shown.set(p.name, (shown.get(p.name) ?? false) || showsName(view, p));
    const before = this.#series?.size ?? null;
    const wasShown = this.#shown;
    this.#series?.release();
    this.#series = scrape.seriesSet;
    this.#shown = shown;
    if (before === null || wasShown === null) return null;
    const switchedNames: string[] = [];
    for (const [name, now] of shown) {
      const then = wasShown.get(name);
      if (then !== undefined && then !== now) switchedNames.push(name);
    }
    switchedNames.sort();
    return {
      appeared: scrape.appeared,
      // Of the previous round's series, those still here are this round's minus the new ones.
      vanished: Math.max(0, before - (scrape.series - scrape.appeared)),
      switched: switchedNames.length,
      switchedNames: switchedNames.slice(0, SWITCHED_NAMES),
    };
  }

  close(): void {
    this.#series?.release();
    this.#series = null;
  }
}
