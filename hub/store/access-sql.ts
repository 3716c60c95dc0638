// The access tables' SQL (tokens, sessions, audit entries) in the dialect-neutral form of sql-dialect.ts, and their rows
// as records; sqlite-access.ts and postgres-access.ts run them.
import type { AuditEntry, SessionRecord, TokenRecord } from '../access/access-store.js';
import type { Role } from '../access/roles.js';
import type { Dialect } from './sql-dialect.js';

export interface TokenRow {
  name: string;
  role: Role;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  expires_at: number | null;
}
export interface SessionRow {
  id_hash: string;
  principal: string;
  role: Role;
  via: SessionRecord['via'];
  credential: string | null;
  csrf: string;
  remote: string | null;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
}
export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  role: Role | null;
  action: string;
  target: string | null;
  remote: string | null;
  outcome: AuditEntry['outcome'];
  detail: string;
}

export const REVISION_KEY = 'access_revision';
const TOKEN_COLUMNS = 'name, role, created_at, created_by, last_used_at, expires_at';

export const toToken = (r: TokenRow): TokenRecord => ({
  name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at, expiresAt: r.expires_at,
});
export const toSession = (r: SessionRow): SessionRecord => ({
  idHash: r.id_hash, principal: r.principal, role: r.role, via: r.via, credential: r.credential, csrf: r.csrf, remote: r.remote,
  createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at,
});
export const toAudit = (r: AuditRow): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, role: r.role, action: r.action, target: r.target, remote: r.remote, outcome: r.outcome,
  detail: JSON.parse(r.detail) as AuditEntry['detail'],
});

/** Every statement of the access tables, in dialect `d`. */
export function accessSql(d: Dialect) {
  return {
    insertToken: `INSERT INTO api_tokens (${TOKEN_COLUMNS}, hash) VALUES (@name, @role, @createdAt, @createdBy, @lastUsedAt, @expiresAt, @hash) ON CONFLICT (name) DO NOTHING`,
    tokenByHash: `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?`,
    tokenByName: `SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE name = ?`,
    tokens: `SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY name`,
    setTokenHash: `UPDATE api_tokens SET hash = ? WHERE name = ?`,
    deleteToken: `DELETE FROM api_tokens WHERE name = ?`,
    deleteSessionsOf: `DELETE FROM sessions WHERE credential = ?`,
    touchToken: `UPDATE api_tokens SET last_used_at = ? WHERE name = ?`,
    insertSession: `INSERT INTO sessions (id_hash, principal, role, via, credential, csrf, remote, created_at, last_seen_at, expires_at) VALUES (@idHash, @principal, @role, @via, @credential, @csrf, @remote, @createdAt, @lastSeenAt, @expiresAt)`,
    sessionByHash: `SELECT * FROM sessions WHERE id_hash = ?`,
    touchSession: `UPDATE sessions SET last_seen_at = ${d.greatest('last_seen_at', '?')} WHERE id_hash = ?`,
    deleteSession: `DELETE FROM sessions WHERE id_hash = ?`,
    deleteExpired: `DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?`,
    appendAudit: `INSERT INTO audit (at, actor, role, action, target, remote, outcome, detail) VALUES (@at, @actor, @role, @action, @target, @remote, @outcome, @detail)`,
    audit: `SELECT * FROM audit WHERE id < @before AND (CAST(@action AS TEXT) IS NULL OR action = @action) ORDER BY id DESC LIMIT @limit`,
    pruneAudit: `DELETE FROM audit WHERE at < ?`,
    getRevision: `SELECT value FROM meta WHERE key = ?`,
    bumpRevision: `INSERT INTO meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = meta.value + 1`,
  };
}
