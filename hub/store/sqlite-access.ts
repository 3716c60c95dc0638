// The access tables on SQLite: tokens, sessions and audit entries (access-sql.ts), each statement prepared once.
import type { Database } from 'better-sqlite3';
import type { SyncAccessStore } from '../access/access-store.js';
import { accessSql, REVISION_KEY, toAudit, toSession, toToken, type AuditRow, type SessionRow, type TokenRow } from './access-sql.js';
import { SQLITE } from './sql-dialect.js';

export function sqliteAccess(db: Database): SyncAccessStore {
  const q = accessSql(SQLITE);
  const s = {
    insertToken: db.prepare(q.insertToken),
    tokenByHash: db.prepare<[string], TokenRow>(q.tokenByHash),
    tokenByName: db.prepare<[string], TokenRow>(q.tokenByName),
    tokens: db.prepare<[], TokenRow>(q.tokens),
    setTokenHash: db.prepare<[string, string]>(q.setTokenHash),
    deleteToken: db.prepare<[string]>(q.deleteToken),
    deleteSessionsOf: db.prepare<[string]>(q.deleteSessionsOf),
    touchToken: db.prepare<[number, string]>(q.touchToken),
    insertSession: db.prepare(q.insertSession),
    sessionByHash: db.prepare<[string], SessionRow>(q.sessionByHash),
    touchSession: db.prepare<[number, string]>(q.touchSession),
    deleteSession: db.prepare<[string]>(q.deleteSession),
    deleteExpired: db.prepare<[number, number]>(q.deleteExpired),
    appendAudit: db.prepare(q.appendAudit),
    audit: db.prepare<{ limit: number; before: number; action: string | null }, AuditRow>(q.audit),
    pruneAudit: db.prepare<[number]>(q.pruneAudit),
    getRevision: db.prepare<[string], { value: number }>(q.getRevision),
    bumpRevision: db.prepare<[string]>(q.bumpRevision),
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
