// User API tokens: made with a name and a role, shown once, kept only as a hash, checked on every request.
import { HttpRequestError } from '../errors.js';
import type { AccessStore, TokenRecord } from './access-store.js';
import type { Role } from './roles.js';
import { hashSecret, newSecret } from './secrets.js';

/** A token's name: what `token list` and the audit log show, and what `token revoke` takes. */
export const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
/** Bounds on what is looked up: a token from a Secret may be any 16-512 characters without spaces. */
const PRESENTED = /^\S{16,512}$/;
/** The furthest expiry a token may have: 10 years (beyond, leave it unset: until revoked). */
export const MAX_EXPIRY_MS = 3650 * 86_400_000;
/** Last use is written at most this often per token, so reads do not become writes. */
const TOUCH_EVERY_MS = 60_000;

export interface NewToken {
  name: string;
  role: Role;
  /** How long it lasts (ms from now); undefined: until revoked. */
  expiresInMs?: number;
  createdBy: string;
}

export class TokenService {
  readonly #store: AccessStore;
  readonly #now: () => number;
  readonly #touched = new Map<string, number>();

  constructor(store: AccessStore, now: () => number) {
    this.#store = store;
    this.#now = now;
  }

  /** Makes a token (resolves once it is stored); its secret is in the result and nowhere else. Rejects with HttpRequestError (400, 409) naming the problem. */
  async create(request: NewToken, secret = newSecret('t')): Promise<{ secret: string; token: TokenRecord }> {
    checkName(request.name);
    if (request.expiresInMs !== undefined && !(request.expiresInMs > 0 && request.expiresInMs <= MAX_EXPIRY_MS)) {
      throw new HttpRequestError('bad_request', `a token's expiry must be in the future and at most 10 years away (3650d), got ${request.expiresInMs} ms`);
    }
    const now = this.#now();
    const token: TokenRecord = {
      name: request.name,
      role: request.role,
      createdAt: now,
      createdBy: request.createdBy,
      lastUsedAt: null,
      expiresAt: request.expiresInMs === undefined ? null : now + request.expiresInMs,
    };
    if (!(await this.#store.insertToken(token, hashSecret(secret)))) throw new HttpRequestError('conflict', `a token named '${request.name}' exists already; revoke it first or pick another name`);
    return { secret, token };
  }

  list(): Promise<TokenRecord[]> {
    return this.#store.tokens();
  }

  /** Deletes the token and ends the sessions opened with it (resolves once deleted). Rejects with HttpRequestError (404) when there is none. */
  async revoke(name: string): Promise<{ sessionsEnded: number }> {
    checkName(name);
    const { deleted, sessionsEnded } = await this.#store.deleteToken(name);
    this.#touched.delete(name);
    if (!deleted) throw new HttpRequestError('not_found', `no token named '${name}'`);
    return { sessionsEnded };
  }

  /** The valid, unexpired token `presented` is, or null. Records its use (at most once a minute). */
  async verify(presented: string): Promise<TokenRecord | null> {
    if (!PRESENTED.test(presented)) return null;
    const token = await this.#store.tokenByHash(hashSecret(presented));
    const now = this.#now();
    if (!token || (token.expiresAt !== null && token.expiresAt <= now)) return null;
    if (now - (this.#touched.get(token.name) ?? 0) >= TOUCH_EVERY_MS) {
      // Marked before the write is awaited, so requests verified meanwhile do not touch it again.
      this.#touched.set(token.name, now);
      await this.#store.touchToken(token.name, now);
      token.lastUsedAt = now;
    }
    return token;
  }

  /**
   * True while this very token exists and has not expired (an open live feed checks it): a token made again under the
   * same name is another token, and does not keep the old one's feeds open.
   */
  async holds(token: TokenRecord): Promise<boolean> {
    const current = await this.#store.tokenByName(token.name);
    return current !== null && current.createdAt === token.createdAt && current.createdBy === token.createdBy && (current.expiresAt === null || current.expiresAt > this.#now());
  }
}

function checkName(name: string): void {
  if (!TOKEN_NAME.test(name)) {
    throw new HttpRequestError('bad_request', `a token name is 1-64 letters, digits and . _ @ - (starting with a letter or digit), got '${name.slice(0, 80)}'`);
  }
}
