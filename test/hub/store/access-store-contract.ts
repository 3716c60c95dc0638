// The AccessStore contract, the same assertions for every engine (issue 16: SQLite and PostgreSQL): tokens unique by
// name, a token's deletion taking its sessions in one transaction (and bumping the revision other processes watch),
// session expiry, audit paging and pruning (by maintenance, with the coarse history). An engine's test file calls
// accessStoreContract() with how to open its store.
import type { Test } from 'tap';
import type { AuditEntry, SessionRecord, TokenRecord } from '../../../hub/access/access-store.js';
import type { StoreEngine } from './store-contract.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

export const token = (name: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
  name, role: 'viewer', createdAt: NOW, createdBy: 'test', lastUsedAt: null, expiresAt: null, ...extra,
});
export const session = (idHash: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash, principal: 'p', role: 'viewer', via: 'token', credential: null, csrf: `csrf-${idHash}`, remote: '127.0.0.1',
  createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW + DAY, ...extra,
});
const entry = (at: number, action: string, detail: AuditEntry['detail'] = {}): Omit<AuditEntry, 'id'> => ({
  at, actor: 'admin', role: 'admin', action, target: null, remote: '127.0.0.1', outcome: 'ok', detail,
});

/** The contract's tests, under `t`, on stores `engine` opens. */
export function accessStoreContract(t: Test, engine: StoreEngine): void {
  t.test('tokens: unique by name, found by hash or name, listed by name; a new hash ends the old one\'s sessions', async (t) => {
    const { store } = await engine.open(t);
    const a = store.access;
    t.equal(await a.insertToken(token('bob'), 'hash-bob'), true);
    t.equal(await a.insertToken(token('alice', { role: 'admin' }), 'hash-alice'), true);
    t.equal(await a.insertToken(token('bob', { role: 'admin' }), 'hash-other'), false, 'a second token named bob is refused');
    t.same(await a.tokenByName('bob'), token('bob'), 'the first one is kept as it was');
    t.equal(await a.tokenByHash('hash-other'), null);
    t.same(await a.tokenByHash('hash-alice'), token('alice', { role: 'admin' }));
    t.same((await a.tokens()).map((x) => x.name), ['alice', 'bob']);
    await a.touchToken('bob', NOW + 5);
    t.equal((await a.tokenByName('bob'))!.lastUsedAt, NOW + 5);

    await a.insertSession(session('s-bob', { credential: 'bob' }));
    const before = await a.revision();
    t.equal(await a.setTokenHash('bob', 'hash-bob-2'), true);
    t.equal(await a.tokenByHash('hash-bob'), null, 'the old secret finds nothing');
    t.equal((await a.tokenByHash('hash-bob-2'))!.name, 'bob');
    t.equal(await a.sessionByHash('s-bob'), null, "the old secret's session is gone");
    t.equal(await a.revision(), before + 1, 'and the revision moved');
    t.equal(await a.setTokenHash('nobody', 'x'), false);
  });

  t.test('deleteToken takes the token and its sessions in one transaction and bumps the revision once', async (t) => {
    const { store } = await engine.open(t);
    const a = store.access;
    await a.insertToken(token('bob'), 'hash-bob');
    await a.insertToken(token('carol'), 'hash-carol');
    for (const [id, credential] of [['s1', 'bob'], ['s2', 'bob'], ['s3', 'carol'], ['s4', null]] as const) await a.insertSession(session(id, { credential }));
    const before = await a.revision();
    t.same(await a.deleteToken('bob'), { deleted: true, sessionsEnded: 2 });
    t.equal(await a.revision(), before + 1);
    t.same(await Promise.all(['s1', 's2', 's3', 's4'].map(async (id) => (await a.sessionByHash(id)) !== null)), [false, false, true, true], "only bob's sessions went");
    t.same(await a.deleteToken('bob'), { deleted: false, sessionsEnded: 0 });
    t.equal(await a.revision(), before + 1, 'nothing deleted: the revision stays');

  });

  t.test('sessions: touched forward only; deleteExpiredSessions takes those past absolute or idle expiry', async (t) => {
    const { store } = await engine.open(t);
    const a = store.access;
    await a.insertSession(session('fresh', { lastSeenAt: NOW }));
    await a.insertSession(session('idle', { lastSeenAt: NOW - 31 * 60_000 }));
    await a.insertSession(session('ended', { expiresAt: NOW }));
    await a.touchSession('fresh', NOW - 1000);
    t.equal((await a.sessionByHash('fresh'))!.lastSeenAt, NOW, 'a touch never moves last use back');
    await a.touchSession('fresh', NOW + 1000);
    t.equal((await a.sessionByHash('fresh'))!.lastSeenAt, NOW + 1000);
    t.same(await a.sessionByHash('idle'), session('idle', { lastSeenAt: NOW - 31 * 60_000 }), 'a session reads back as stored');
    const before = await a.revision();
    t.equal(await a.deleteExpiredSessions(NOW, NOW - 30 * 60_000), 2);
    t.same(await Promise.all(['fresh', 'idle', 'ended'].map(async (id) => (await a.sessionByHash(id)) !== null)), [true, false, false]);
    t.equal(await a.revision(), before + 1);
    t.equal(await a.deleteExpiredSessions(NOW, NOW - 30 * 60_000), 0);
    t.equal(await a.revision(), before + 1, 'nothing expired: the revision stays');
    t.equal(await a.deleteSession('fresh'), true);
    t.equal(await a.deleteSession('fresh'), false);
    t.equal(await a.revision(), before + 2);
  });

  t.test('audit: newest first, paged with beforeId, filtered by action; pruned by time', async (t) => {
    const { store } = await engine.open(t);
    const a = store.access;
    const actions = ['token.create', 'session.sign-in', 'session.sign-in', 'token.revoke', 'session.sign-in', 'token.create', 'session.sign-out'];
    for (const [i, action] of actions.entries()) await a.appendAudit(entry(NOW + i * 1000, action, { n: i, ok: true, none: null, via: 'token' }));
    const ids = (entries: AuditEntry[]) => entries.map((e) => e.id);
    const page1 = await a.audit({ limit: 3 });
    t.same(ids(page1), [7, 6, 5]);
    t.same(page1[0], { id: 7, ...entry(NOW + 6000, 'session.sign-out', { n: 6, ok: true, none: null, via: 'token' }) }, 'an entry reads back as written');
    t.same(ids(await a.audit({ limit: 3, beforeId: 5 })), [4, 3, 2]);
    t.same(ids(await a.audit({ limit: 3, beforeId: 2 })), [1]);
    t.same(ids(await a.audit({ limit: 10, action: 'session.sign-in' })), [5, 3, 2]);
    t.same(ids(await a.audit({ limit: 1, action: 'session.sign-in', beforeId: 5 })), [3]);
    t.same(await a.audit({ limit: 10, action: 'no.such' }), []);
    t.equal(await a.pruneAudit(NOW + 3000), 3, 'the three before the cut');
    t.same(ids(await a.audit({ limit: 10 })), [7, 6, 5, 4]);
    t.equal(await a.pruneAudit(NOW + 3000), 0);
  });

  t.test('maintenance prunes audit entries older than the coarse history, keeps the rest', async (t) => {
    const { store } = await engine.open(t, { rawRetentionMs: DAY, rollupRetentionMs: 2 * DAY, coarseRetentionMs: 10 * DAY });
    const a = store.access;
    for (const ageDays of [30, 11, 9, 1]) await a.appendAudit(entry(NOW - ageDays * DAY, 'token.create'));
    await store.maintain(NOW);
    t.same((await a.audit({ limit: 10 })).map((e) => Math.round((NOW - e.at) / DAY)), [1, 9], 'the entries of 30 and 11 days are gone');
  });
}
