// Single sign-ons under way: what `begin` made, kept at the hub (never in the browser) until the provider calls back,
// for at most PENDING_SIGN_IN_MAX_AGE_MS, and bounded in number so a flood of sign-in starts cannot grow it.
import { PENDING_SIGN_IN_MAX_AGE_MS, type PendingSignIn } from './oidc.js';

const MAX_PENDING = 1000;

export class PendingSignIns {
  readonly #byState = new Map<string, PendingSignIn>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  keep(pending: PendingSignIn): void {
    this.#byState.set(pending.state, pending);
    if (this.#byState.size > MAX_PENDING) this.#byState.delete(this.#byState.keys().next().value!);
  }

  /** The sign-in `state` names, used up by this call; null when unknown, used or too old. */
  take(state: string): PendingSignIn | null {
    const pending = this.#byState.get(state) ?? null;
    this.#byState.delete(state);
    if (!pending || this.#now() - pending.createdAt > PENDING_SIGN_IN_MAX_AGE_MS) return null;
    return pending;
  }
}
