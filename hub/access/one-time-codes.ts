// One-time sign-in codes, as notebook servers print them: a URL that opens a session once, within minutes.
// Kept in memory only (the process that printed the code is the one that takes it), as hashes.
import type { Role } from './roles.js';
import { hashSecret, looksLike, newSecret } from './secrets.js';

export interface CodeGrant {
  principal: string;
  role: Role;
}

/** Codes not yet used, at most; issuing more forgets the oldest. */
const MAX_CODES = 100;

export class OneTimeCodes {
  readonly #codes = new Map<string, CodeGrant & { expiresAt: number }>();
  readonly #now: () => number;

  constructor(now: () => number) {
    this.#now = now;
  }

  /** A new code granting `grant`, valid for `ttlMs` (default 10 minutes). */
  issue(grant: CodeGrant, ttlMs = 10 * 60_000): string {
    const code = newSecret('c');
    this.#codes.set(hashSecret(code), { ...grant, expiresAt: this.#now() + ttlMs });
    if (this.#codes.size > MAX_CODES) this.#codes.delete(this.#codes.keys().next().value!);
    return code;
  }

  /** The grant of a valid code, which is used up by this call; null for an unknown, used or expired code. */
  redeem(code: string): CodeGrant | null {
    if (!looksLike('c', code)) return null;
    const key = hashSecret(code);
    const entry = this.#codes.get(key);
    this.#codes.delete(key);
    if (!entry || entry.expiresAt <= this.#now()) return null;
    return { principal: entry.principal, role: entry.role };
  }
}
