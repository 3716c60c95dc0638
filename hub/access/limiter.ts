// Slows failed sign-ins per client address: a bucket of attempts that refills steadily; each failure takes one,
// and an address with an empty bucket is refused before its credential is even looked at.

export interface LimiterOptions {
  /** Failures allowed at once from one address (default 5). */
  burst?: number;
  /** Failures allowed per second from one address once the burst is spent (default 1). */
  perSecond?: number;
  /** Addresses remembered; the least recently failed are forgotten first (default 10,000). */
  maxAddresses?: number;
  now?: () => number;
}

export class FailureLimiter {
  readonly burst: number;
  readonly perSecond: number;
  readonly #max: number;
  readonly #now: () => number;
  /** Per address: attempts left and when that was computed. Map order = least recently failed first. */
  readonly #buckets = new Map<string, { left: number; at: number }>();

  constructor(options: LimiterOptions = {}) {
    this.burst = options.burst ?? 5;
    this.perSecond = options.perSecond ?? 1;
    this.#max = options.maxAddresses ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  /** 0 when `address` may try now, else the seconds until it may (for retry-after). */
  waitFor(address: string): number {
    const left = this.#left(address);
    return left >= 1 ? 0 : Math.ceil((1 - left) / this.perSecond);
  }

  /** Counts a failed attempt from `address`. */
  failed(address: string): void {
    const left = this.#left(address);
    this.#buckets.delete(address);
    this.#buckets.set(address, { left: Math.max(0, left - 1), at: this.#now() });
    if (this.#buckets.size > this.#max) this.#buckets.delete(this.#buckets.keys().next().value!);
  }

  #left(address: string): number {
    const bucket = this.#buckets.get(address);
    if (!bucket) return this.burst;
    return Math.min(this.burst, bucket.left + ((this.#now() - bucket.at) / 1000) * this.perSecond);
  }
}
