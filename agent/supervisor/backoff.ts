// Restart delays: exponential from 1 s, doubling to a 60 s cap, with ±20% jitter so hosts do not restart in step.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the delay randomised either way (0.2 = ±20%). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.#initialMs = options.initialMs ?? 1000;
    this.#maxMs = options.maxMs ?? 60_000;
    this.#factor = options.factor ?? 2;
    this.#jitter = options.jitter ?? 0.2;
    this.#random = options.random ?? Math.random;
  }

  /** How many delays have been handed out since the last reset. */
  get attempt(): number {
    return this.#attempt;
  }

  /** The next delay; never above the cap, jitter included. */
  next(): number {
    const base = Math.min(this.#maxMs, this.#initialMs * this.#factor ** this.#attempt);
    this.#attempt += 1;
    const jittered = base * (1 - this.#jitter + 2 * this.#jitter * this.#random());
    return Math.round(Math.min(this.#maxMs, jittered));
  }

  reset(): void {
    this.#attempt = 0;
  }
}
