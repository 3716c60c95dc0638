// What the access model keeps, engine-neutral: API tokens (by their secret's hash), page sessions (by their id's
// hash) and the audit log. A store engine implements it; the hub, its token CLI and the API use only this.
import type { Promised } from '../../common/promised.js';
import type { Role } from './roles.js';

export interface TokenRecord {
  name: string;
  role: Role;
  createdAt: number;
  /** Who created it: a principal's name, or `cli:<user>` for the token command. */
  createdBy: string;
  lastUsedAt: number | null;
  expiresAt: number | null;
}

/** How a session was opened. */
export type SignInMethod = 'token' | 'oidc' | 'code';

export interface SessionRecord {
  /** sha256 of the session id (the cookie holds the id; the store never does). */
  idHash: string;
  principal: string;
  role: Role;
  via: SignInMethod;
  /** The API token it was opened with (its name), so revoking the token ends the session; null otherwise. */
  credential: string | null;
  /** The per-session CSRF token the page sends with each write. */
  csrf: string;
  remote: string | null;
  createdAt: number;
  lastSeenAt: number;
  /** The absolute expiry (the idle one is lastSeenAt + the idle timeout). */
  expiresAt: number;
}

export type AuditOutcome = 'ok' | 'refused';
export type AuditDetail = Record<string, string | number | boolean | null>;

export interface AuditEntry {
  id: number;
  at: number;
  /** Who: a principal's name, `cli:<user>`, `hub` for the hub itself, or `anonymous` for a failed sign-in. */
  actor: string;
  role: Role | null;
  /** What: e.g. `token.create`, `token.revoke`, `session.sign-in`, `session.sign-out`, `session.sign-in-failed`. */
  action: string;
  target: string | null;
  /** From where: the client's address, or `local` for the command line. */
  remote: string | null;
  outcome: AuditOutcome;
  detail: AuditDetail;
}

export interface AuditQuery {
  limit: number;
  /** Only entries with a smaller id (paging backwards). */
  beforeId?: number;
  action?: string;
}

/**
 * The access tables' operations, synchronous (SQLite's, and the shape of the engine-neutral AccessStore below).
 * Calling rules: every write commits before it returns; names are unique among tokens.
 */
export interface SyncAccessStore {
  /** False when a token of that name exists already. */
  insertToken(record: TokenRecord, hash: string): boolean;
  tokenByHash(hash: string): TokenRecord | null;
  tokenByName(name: string): TokenRecord | null;
  tokens(): TokenRecord[];
  /** Replaces the named token's secret (the hub's admin credential from a Secret); false when there is none. */
  setTokenHash(name: string, hash: string): boolean;
  /** Deletes the token and every session opened with it, in one transaction; false when there was none. */
  deleteToken(name: string): { deleted: boolean; sessionsEnded: number };
  touchToken(name: string, at: number): void;

  insertSession(record: SessionRecord): void;
  sessionByHash(idHash: string): SessionRecord | null;
  touchSession(idHash: string, at: number): void;
  deleteSession(idHash: string): boolean;
  /** Deletes the sessions past their absolute expiry or idle since before `idleBefore`; returns how many. */
  deleteExpiredSessions(now: number, idleBefore: number): number;

  appendAudit(entry: Omit<AuditEntry, 'id'>): void;
  audit(query: AuditQuery): AuditEntry[];
  /** Deletes audit entries older than `before`; returns how many. */
  pruneAudit(before: number): number;

  /** A number that changes whenever a token or session is deleted, by this process or another on the same store. */
  revision(): number;
}

/** What the hub uses: the same operations, each answered by a promise (a write's resolves once it is committed). */
export type AccessStore = Promised<SyncAccessStore>;
