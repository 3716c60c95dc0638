// The access tables on PostgreSQL: tokens, sessions and audit entries (access-sql.ts), each change that ends a
// credential in one transaction with the revision the replicas watch.
import type pg from 'pg';
import type { AccessStore } from '../access/access-store.js';
import { accessSql, REVISION_KEY, toAudit, toSession, toToken, type AuditRow, type SessionRow, type TokenRow } from './access-sql.js';
import { changes, compileAll, rows, transaction, type Queryable } from './postgres-statements.js';
import { POSTGRES } from './sql-dialect.js';

const s = compileAll('phx_access_', accessSql(POSTGRES));

/** The access store over `pool`; `onEnded` runs inside each transaction that ended a credential (the replicas' notice). */
export function postgresAccess(pool: pg.Pool, onEnded: (on: Queryable) => Promise<void> = async () => undefined): AccessStore {
  const ended = async (on: Queryable) => {
    await changes(on, s.bumpRevision, [REVISION_KEY]);
    await onEnded(on);
  };
  const one = async <R extends pg.QueryResultRow, T>(statement: (typeof s)[keyof typeof s], params: unknown[], to: (row: R) => T): Promise<T | null> => {
    const [row] = await rows<R>(pool, statement, params);
    return row ? to(row) : null;
  };
  return {
    insertToken: async (record, hash) => (await changes(pool, s.insertToken, { ...record, hash })) > 0,
    tokenByHash: (hash) => one<TokenRow, ReturnType<typeof toToken>>(s.tokenByHash, [hash], toToken),
    tokenByName: (name) => one<TokenRow, ReturnType<typeof toToken>>(s.tokenByName, [name], toToken),
    tokens: async () => (await rows<TokenRow>(pool, s.tokens)).map(toToken),
    setTokenHash: (name, hash) =>
      transaction(pool, async (client) => {
        const changed = (await changes(client, s.setTokenHash, [hash, name])) > 0;
        // The old secret's sessions go with it.
        if (changed && (await changes(client, s.deleteSessionsOf, [name])) > 0) await ended(client);
        return changed;
      }),
    deleteToken: (name) =>
      transaction(pool, async (client) => {
        const deleted = (await changes(client, s.deleteToken, [name])) > 0;
        const sessionsEnded = await changes(client, s.deleteSessionsOf, [name]);
        if (deleted || sessionsEnded > 0) await ended(client);
        return { deleted, sessionsEnded };
      }),
    touchToken: async (name, at) => void (await changes(pool, s.touchToken, [at, name])),
    insertSession: async (record) => void (await changes(pool, s.insertSession, { ...record })),
    sessionByHash: (idHash) => one<SessionRow, ReturnType<typeof toSession>>(s.sessionByHash, [idHash], toSession),
    touchSession: async (idHash, at) => void (await changes(pool, s.touchSession, [at, idHash])),
    deleteSession: (idHash) =>
      transaction(pool, async (client) => {
        const deleted = (await changes(client, s.deleteSession, [idHash])) > 0;
        if (deleted) await ended(client);
        return deleted;
      }),
    deleteExpiredSessions: (now, idleBefore) =>
      transaction(pool, async (client) => {
        const n = await changes(client, s.deleteExpired, [now, idleBefore]);
        if (n > 0) await ended(client);
        return n;
      }),
    appendAudit: async (entry) => void (await changes(pool, s.appendAudit, { ...entry, detail: JSON.stringify(entry.detail) })),
    audit: async (query) =>
      (await rows<AuditRow>(pool, s.audit, { limit: query.limit, before: query.beforeId ?? Number.MAX_SAFE_INTEGER, action: query.action ?? null })).map(toAudit),
    pruneAudit: (before) => changes(pool, s.pruneAudit, [before]),
    revision: async () => (await rows<{ value: number }>(pool, s.getRevision, [REVISION_KEY]))[0]?.value ?? 0,
  };
}
