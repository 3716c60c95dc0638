// The hub's access model in one place: who a request is (an API token or a page session), whether that still holds,
// and every change to credentials and sessions, each recorded in the audit log and told to whoever must drop it.
import type { Logger } from '../../common/logger.js';
import { Notifier, type Listener } from '../../common/notifier.js';
import type { AccessStore, AuditDetail, AuditEntry, AuditOutcome, AuditQuery, SessionRecord, SignInMethod, TokenRecord } from './access-store.js';
import { FailureLimiter, type LimiterOptions } from './limiter.js';
import { OneTimeCodes } from './one-time-codes.js';
import type { Role } from './roles.js';
import { hashSecret } from './secrets.js';
import { DEFAULT_SESSION_TIMES, SessionService, type SessionTimes } from './sessions.js';
import { TokenService, type NewToken } from './tokens.js';

/** Who a request is. A token is checked on each request; a session is the page's, opened by a sign-in. */
export type Principal =
  | { kind: 'token'; name: string; role: Role; token: TokenRecord }
  | { kind: 'session'; name: string; role: Role; session: SessionRecord };

/** Who did something, for the audit log: a principal, the command line (`cli:<user>`), the hub, or `anonymous`. */
export interface Actor {
  name: string;
  role: Role | null;
  /** The client's address, or `local` for the command line. */
  remote: string | null;
}

export interface AccessEvents {
  /** Sessions or a token ended (sign-out, revocation, expiry): live feeds opened with them must close. */
  ended: [which: { sessionIdHash?: string; token?: string }];
}

export interface AccessOptions {
  store: AccessStore;
  logger: Logger;
  sessions?: Partial<SessionTimes>;
  limiter?: LimiterOptions;
  now?: () => number;
}

export const actorOf = (principal: Principal, remote: string | null): Actor => ({ name: principal.name, role: principal.role, remote });

/**
 * Calling rules: every method that reads or writes the store returns a promise, and a write's resolves once it (and
 * its audit entry) is stored; `mayHaveExpired`, the limiters, `codes`, `on` and `close` need no store and answer at
 * once. 'ended' is emitted once the deletion is stored, so a listener reading the store finds the credential gone.
 * `close()` once, when the hub closes.
 */
export class Access {
  readonly tokens: TokenService;
  readonly sessions: SessionService;
  readonly codes: OneTimeCodes;
  /** Failed bearer tokens and token sign-ins, per address. */
  readonly limiter: FailureLimiter;
  /** Failed one-time codes and single sign-on callbacks (plain GETs any page can provoke), per address, apart. */
  readonly navigationLimiter: FailureLimiter;
  /** Single sign-ons started, per address (each holds a place among those under way). */
  readonly startLimiter: FailureLimiter;
  readonly #store: AccessStore;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #events: Notifier<AccessEvents>;

  constructor(options: AccessOptions) {
    this.#store = options.store;
    this.#now = options.now ?? Date.now;
    this.#logger = options.logger.child({ component: 'access' });
    this.#events = new Notifier<AccessEvents>('access', this.#logger);
    this.tokens = new TokenService(options.store, this.#now);
    this.sessions = new SessionService(options.store, { ...DEFAULT_SESSION_TIMES, ...options.sessions }, this.#now);
    this.codes = new OneTimeCodes(this.#now);
    this.limiter = new FailureLimiter({ now: this.#now, ...options.limiter });
    this.navigationLimiter = new FailureLimiter({ now: this.#now, ...options.limiter });
    this.startLimiter = new FailureLimiter({ now: this.#now, burst: 10, perSecond: 1 });
  }

  on<K extends keyof AccessEvents>(event: K, listener: Listener<AccessEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /** The principal an `Authorization: Bearer` secret is, or null. */
  async bearer(secret: string): Promise<Principal | null> {
    const token = await this.tokens.verify(secret);
    return token ? { kind: 'token', name: token.name, role: token.role, token } : null;
  }

  /** The principal a session cookie's id is (the use is recorded), or null. */
  async cookie(id: string): Promise<Principal | null> {
    const session = await this.sessions.use(id);
    return session ? { kind: 'session', name: session.principal, role: session.role, session } : null;
  }

  /**
   * Whether a principal found earlier still holds (its token not revoked or expired, its session not ended). A
   * session's last use is read anew, so `mayHaveExpired` goes by the page's latest request.
   */
  async stillValid(principal: Principal): Promise<boolean> {
    if (principal.kind === 'token') return this.tokens.holds(principal.token);
    const current = await this.sessions.current(principal.session.idHash);
    if (current) principal.session.lastSeenAt = current.lastSeenAt;
    return current !== null;
  }

  /** Whether a principal may have expired by time (no store read): a session past its end or idle timeout as last read. */
  mayHaveExpired(principal: Principal): boolean {
    if (principal.kind === 'token') return principal.token.expiresAt !== null && principal.token.expiresAt <= this.#now();
    return this.sessions.mayHaveExpired(principal.session);
  }

  async createToken(actor: Actor, request: Omit<NewToken, 'createdBy'>, secret?: string): Promise<{ secret: string; token: TokenRecord }> {
    const made = await this.tokens.create({ ...request, createdBy: actor.name }, secret);
    await this.record(actor, 'token.create', made.token.name, 'ok', { role: made.token.role, expiresAt: made.token.expiresAt });
    return made;
  }

  /** Deletes a token and ends its sessions and live feeds at once. Rejects with HttpRequestError 404 for an unknown name. */
  async revokeToken(actor: Actor, name: string): Promise<{ sessionsEnded: number }> {
    const result = await this.tokens.revoke(name);
    // Told before the audit entry is written: the feeds close even if writing it fails.
    this.#events.emit('ended', { token: name });
    await this.record(actor, 'token.revoke', name, 'ok', { sessionsEnded: result.sessionsEnded });
    return result;
  }

  /** Opens a session for someone who proved who they are (a token, single sign-on, a one-time code). */
  async signIn(
    via: SignInMethod,
    grant: { principal: string; role: Role; credential?: string; endsBy?: number | null },
    remote: string | null,
  ): Promise<{ id: string; session: SessionRecord }> {
    const opened = await this.sessions.open({ principal: grant.principal, role: grant.role, via, credential: grant.credential ?? null, remote, endsBy: grant.endsBy ?? null });
    await this.record({ name: grant.principal, role: grant.role, remote }, 'session.sign-in', grant.principal, 'ok', { via });
    this.#logger.info({ principal: grant.principal, role: grant.role, via, remote }, 'signed in');
    return opened;
  }

  async signOut(principal: Principal & { kind: 'session' }, remote: string | null): Promise<void> {
    await this.sessions.end(principal.session.idHash);
    this.#events.emit('ended', { sessionIdHash: principal.session.idHash });
    await this.record(actorOf(principal, remote), 'session.sign-out', principal.name, 'ok', { via: principal.session.via });
  }

  /**
   * A refused credential: slows its address (in `bucket`, at once, before anything is awaited), logs it and records
   * it (never what was presented).
   */
  async refused(remote: string, via: SignInMethod | 'bearer' | 'cookie', reason: string, bucket: FailureLimiter = this.limiter): Promise<void> {
    bucket.failed(remote);
    this.#logger.warn({ remote, via, reason }, 'sign-in refused');
    await this.record({ name: 'anonymous', role: null, remote }, 'session.sign-in-failed', null, 'refused', { via, reason });
  }

  /** Ends expired sessions (and their live feeds); resolves with how many. */
  async sweep(): Promise<number> {
    const n = await this.sessions.sweep();
    if (n > 0) this.#events.emit('ended', {});
    return n;
  }

  /** Appends an entry to the audit log; resolves once it is stored. */
  record(actor: Actor, action: string, target: string | null, outcome: AuditOutcome, detail: AuditDetail = {}): Promise<void> {
    return this.#store.appendAudit({ at: this.#now(), actor: actor.name, role: actor.role, remote: actor.remote, action, target, outcome, detail });
  }

  auditLog(query: AuditQuery): Promise<AuditEntry[]> {
    return this.#store.audit(query);
  }

  /** Changes whenever a token or session is deleted here or by another process (the token command) on the store. */
  revision(): Promise<number> {
    return this.#store.revision();
  }

  /** True when `secret` is the current secret of the named token. */
  async isSecretOf(name: string, secret: string): Promise<boolean> {
    const token = await this.#store.tokenByHash(hashSecret(secret));
    return token?.name === name;
  }

  close(): void {
    this.#events.clear();
  }
}
