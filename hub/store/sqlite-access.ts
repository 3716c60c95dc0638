// The access tables on SQLite: tokens, sessions and audit entries, each statement prepared once.
import type { Database } from 'better-sqlite3';
import type { AccessStore, AuditEntry, SessionRecord, TokenRecord } from '../access/access-store.js';
import type { Role } from '../access/roles.js';

interface TokenRow {
  name: string;
  role: Role;
  created_at: number;
  created_by: string;
  last_used_at: number | null;
  expires_at: number | null;
}
interface SessionRow {
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
interface AuditRow {
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

const REVISION_KEY = 'access_revision';
const TOKEN_COLUMNS = 'name, role, created_at, created_by, last_used_at, expires_at';

const toToken = (r: TokenRow): TokenRecord => ({
  name: r.name, role: r.role, createdAt: r.created_at, createdBy: r.created_by, lastUsedAt: r.last_used_at, expiresAt: r.expires_at,
});
const toSession = (r: SessionRow): SessionRecord => ({
  idHash: r.id_hash, principal: r.principal, role: r.role, via: r.via, credential: r.credential, csrf: r.csrf, remote: r.remote,
  createdAt: r.created_at, lastSeenAt: r.last_seen_at, expiresAt: r.expires_at,
});
const toAudit = (r: AuditRow): AuditEntry => ({
  id: r.id, at: r.at, actor: r.actor, role: r.role, action: r.action, target: r.target, remote: r.remote, outcome: r.outcome,
  detail: JSON.parse(r.detail) as AuditEntry['detail'],
});

export function sqliteAccess(db: Database): AccessStore {
  const s = {
    insertToken: db.prepare(`INSERT INTO api_tokens (${TOKEN_COLUMNS}, hash) VALUES (@name, @role, @createdAt, @createdBy, @lastUsedAt, @expiresAt, @hash) ON CONFLICT (name) DO NOTHING`),
    tokenByHash: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE hash = ?`),
    tokenByName: db.prepare<[string], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens WHERE name = ?`),
    tokens: db.prepare<[], TokenRow>(`SELECT ${TOKEN_COLUMNS} FROM api_tokens ORDER BY name`),
    setTokenHash: db.prepare<[string, string]>('UPDATE api_tokens SET hash = ? WHERE name = ?'),
    deleteToken: db.prepare<[string]>('DELETE FROM api_tokens WHERE name = ?'),
    deleteSessionsOf: db.prepare<[string]>('DELETE FROM sessions WHERE credential = ?'),
    touchToken: db.prepare<[number, string]>('UPDATE api_tokens SET last_used_at = ? WHERE name = ?'),
    insertSession: db.prepare(
      'INSERT INTO sessions (id_hash, principal, role, via, credential, csrf, remote, created_at, last_seen_at, expires_at) VALUES (@idHash, @principal, @role, @via, @credential, @csrf, @remote, @createdAt, @lastSeenAt, @expiresAt)',
    ),
    sessionByHash: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id_hash = ?'),
    touchSession: db.prepare<[number, string]>('UPDATE sessions SET last_seen_at = max(last_seen_at, ?) WHERE id_hash = ?'),
    deleteSession: db.prepare<[string]>('DELETE FROM sessions WHERE id_hash = ?'),
    deleteExpired: db.prepare<[number, number]>('DELETE FROM sessions WHERE expires_at <= ? OR last_seen_at < ?'),
    appendAudit: db.prepare(
      'INSERT INTO audit (at, actor, role, action, target, remote, outcome, detail) VALUES (@at, @actor, @role, @action, @target, @remote, @outcome, @detail)',
    ),
    audit: db.prepare<{ limit: number; before: number; action: string | null }, AuditRow>(
      'SELECT * FROM audit WHERE id < @before AND (@action IS NULL OR action = @action) ORDER BY id DESC LIMIT @limit',
    ),
    pruneAudit: db.prepare<[number]>('DELETE FROM audit WHERE at < ?'),
    getRevision: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
    bumpRevision: db.prepare<[string]>('INSERT INTO meta (key, value) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET value = value + 1'),
  };
  const bump = () => s.bumpRevision.run(REVISION_KEY);
  const deleteToken = db.transaction((name: string) => {
    const deleted = s.deleteToken.run(name).changes > 0;
    const sessionsEnded = s.deleteSessionsOf.run(name).changes;
    if (deleted || sessionsEnded > 0) bump();
    return { deleted, sessionsEnded };
  });
  const setTokenHash = db.transaction((name: string, hash: string) => {
    const changed = s.setTokenHash.run(hash, name).changes > 0;
    // The old secret's sessions go with it.
    if (changed && s.deleteSessionsOf.run(name).changes > 0) bump();
    return changed;
  });
  const deleteOne = db.transaction((idHash: string) => {
    const deleted = s.deleteSession.run(idHash).changes > 0;
    if (deleted) bump();
    return deleted;
  });
  const deleteExpired = db.transaction((now: number, idleBefore: number) => {
    const n = s.deleteExpired.run(now, idleBefore).changes;
    if (n > 0) bump();
    return n;
  });

  return {
    insertToken: (record, hash) => s.insertToken.run({ ...record, hash }).changes > 0,
    tokenByHash: (hash) => {
      const row = s.tokenByHash.get(hash);
      return row ? toToken(row) : null;
    },
    tokenByName: (name) => {
      const row = s.tokenByName.get(name);
      return row ? toToken(row) : null;
    },
    tokens: () => s.tokens.all().map(toToken),
    setTokenHash,
    deleteToken,
    touchToken: (name, at) => void s.touchToken.run(at, name),
    insertSession: (record) => void s.insertSession.run(record),
    sessionByHash: (idHash) => {
      const row = s.sessionByHash.get(idHash);
      return row ? toSession(row) : null;
    },
    touchSession: (idHash, at) => void s.touchSession.run(at, idHash),
    deleteSession: deleteOne,
    deleteExpiredSessions: deleteExpired,
    appendAudit: (entry) => void s.appendAudit.run({ ...entry, detail: JSON.stringify(entry.detail) }),
    audit: (query) => s.audit.all({ limit: query.limit, before: query.beforeId ?? Number.MAX_SAFE_INTEGER, action: query.action ?? null }).map(toAudit),
    pruneAudit: (before) => s.pruneAudit.run(before).changes,
    revision: () => s.getRevision.get(REVISION_KEY)?.value ?? 0,
  };
}
