// Page sessions: a random id in an HttpOnly cookie, only its hash at the hub, an idle and an absolute expiry.
import type { AccessStore, SessionRecord, SignInMethod } from './access-store.js';
import type { Role } from './roles.js';
import { hashSecret, looksLike, newSecret } from './secrets.js';

export interface SessionTimes {
  /** A session unused for this long ends (default 30 minutes). */
  idleMs: number;
  /** A session ends this long after sign-in, however much it is used (default 12 hours). */
  absoluteMs: number;
}

export const DEFAULT_SESSION_TIMES: SessionTimes = { idleMs: 30 * 60_000, absoluteMs: 12 * 3_600_000 };
/** Use is written at most this often per session: idle expiry is exact to this much. */
const TOUCH_EVERY_MS = 5_000;

export interface NewSession {
  principal: string;
  role: Role;
  via: SignInMethod;
  credential: string | null;
  remote: string | null;
  /** An end sooner than the absolute expiry (the token it was opened with expires then). */
  endsBy?: number | null;
}

export class SessionService {
  readonly #store: AccessStore;
  readonly #now: () => number;
  readonly times: SessionTimes;

  constructor(store: AccessStore, times: SessionTimes, now: () => number) {
    this.#store = store;
    this.times = times;
    this.#now = now;
  }

  /** Opens a session (resolves once it is stored); `id` is what the cookie carries (and the only place it exists). */
  async open(request: NewSession): Promise<{ id: string; session: SessionRecord }> {
    const id = newSecret('s');
    const now = this.#now();
    const absolute = now + this.times.absoluteMs;
    const session: SessionRecord = {
      idHash: hashSecret(id),
      principal: request.principal,
      role: request.role,
      via: request.via,
      credential: request.credential,
      csrf: newSecret('x'),
      remote: request.remote,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: request.endsBy ? Math.min(absolute, request.endsBy) : absolute,
    };
    await this.#store.insertSession(session);
    return { id, session };
  }

  /** The live session a cookie names, marked as used; null (and deleted, when expired) otherwise. */
  async use(id: string): Promise<SessionRecord | null> {
    if (!looksLike('s', id)) return null;
    const session = await this.#current(hashSecret(id));
    if (!session) return null;
    const now = this.#now();
    if (now - session.lastSeenAt >= TOUCH_EVERY_MS) {
      await this.#store.touchSession(session.idHash, now);
      session.lastSeenAt = now;
    }
    return session;
  }

  /** The session while it exists and has not expired (a live feed's periodic check; does not count as use). */
  current(idHash: string): Promise<SessionRecord | null> {
    return this.#current(idHash);
  }

  /** Whether a session as last read may have expired by now (its absolute end, or idle since its last use read). */
  mayHaveExpired(session: SessionRecord): boolean {
    const now = this.#now();
    return session.expiresAt <= now || now - session.lastSeenAt >= this.times.idleMs;
  }

  /** Ends a session; false when it had ended already. */
  end(idHash: string): Promise<boolean> {
    return this.#store.deleteSession(idHash);
  }

  /** Deletes every expired session; returns how many. */
  sweep(): Promise<number> {
    const now = this.#now();
    return this.#store.deleteExpiredSessions(now, now - this.times.idleMs);
  }

  async #current(idHash: string): Promise<SessionRecord | null> {
    const session = await this.#store.sessionByHash(idHash);
    if (!session) return null;
    const now = this.#now();
    if (session.expiresAt <= now || now - session.lastSeenAt >= this.times.idleMs) {
      await this.#store.deleteSession(idHash);
      return null;
    }
    return session;
  }
}
