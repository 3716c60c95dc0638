// Samples each collector's CPU (% of one core since the previous sample) and RSS with pidusage.
import pidusage from 'pidusage';

export interface ResourceSample {
  cpuPercent: number;
  rssBytes: number;
}

/**
 * pidusage reports CPU since its previous call for the same pid, so the first call only primes it.
 * Calling rules: `sample` from one place per interval; `close()` once at the end (drops pidusage's history).
 */
export class ResourceSampler {
  readonly #maxAgeMs: number;
  #closed = false;

  /** `maxAgeMs`: how long pidusage keeps a pid's previous reading; must exceed the sampling interval. */
  constructor(maxAgeMs = 120_000) {
    this.#maxAgeMs = maxAgeMs;
  }

  /** Null for a pid that is gone. Never rejects. */
  async sample(pid: number): Promise<ResourceSample | null> {
    if (this.#closed) return null;
    try {
      const stat = await pidusage(pid, { maxage: this.#maxAgeMs });
      return { cpuPercent: Math.round(stat.cpu * 100) / 100, rssBytes: stat.memory };
    } catch {
      return null;
    }
  }

  close(): void {
    this.#closed = true;
    pidusage.clear();
  }
}
