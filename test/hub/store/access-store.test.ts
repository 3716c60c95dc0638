// The SQLite AccessStore on a real file: tokens unique by name, a token's deletion taking its sessions in one
// transaction (and bumping the revision another process watches), session expiry, audit paging and pruning (by
// maintenance, with the coarse history); a schema-2 file upgraded in place, a file of a newer schema refused.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEntry, SessionRecord, TokenRecord } from '../../../hub/access/access-store.js';
import { StoreOpenError } from '../../../hub/errors.js';
import { SCHEMA_VERSION } from '../../../hub/store/sqlite-schema.js';
import { openSqliteAccessStore, openSqliteStore } from '../../../hub/store/sqlite.js';
import type { SyncStore as Store } from '../../../hub/store/types.js';
import { helloFor } from '../../helpers/ws-client.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);

async function storeFile(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-access-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'hub.db');
}

async function openStore(t: Test): Promise<{ store: Store; file: string }> {
  const file = await storeFile(t);
  const store = openSqliteStore({ file });
  t.teardown(() => store.close());
  return { store, file };
}

const token = (name: string, extra: Partial<TokenRecord> = {}): TokenRecord => ({
  name, role: 'viewer', createdAt: NOW, createdBy: 'test', lastUsedAt: null, expiresAt: null, ...extra,
});
const session = (idHash: string, extra: Partial<SessionRecord> = {}): SessionRecord => ({
  idHash, principal: 'p', role: 'viewer', via: 'token', credential: null, csrf: `csrf-${idHash}`, remote: '127.0.0.1',
  createdAt: NOW, lastSeenAt: NOW, expiresAt: NOW + DAY, ...extra,
});
const entry = (at: number, action: string, detail: AuditEntry['detail'] = {}): Omit<AuditEntry, 'id'> => ({
  at, actor: 'admin', role: 'admin', action, target: null, remote: '127.0.0.1', outcome: 'ok', detail,
});

t.test('tokens: unique by name, found by hash or name, listed by name; a new hash ends the old one\'s sessions', async (t) => {
  const { store } = await openStore(t);
  const a = store.access;
  t.equal(a.insertToken(token('bob'), 'hash-bob'), true);
  t.equal(a.insertToken(token('alice', { role: 'admin' }), 'hash-alice'), true);
  t.equal(a.insertToken(token('bob', { role: 'admin' }), 'hash-other'), false, 'a second token named bob is refused');
  t.same(a.tokenByName('bob'), token('bob'), 'the first one is kept as it was');
  t.equal(a.tokenByHash('hash-other'), null);
  t.same(a.tokenByHash('hash-alice'), token('alice', { role: 'admin' }));
  t.same(a.tokens().map((x) => x.name), ['alice', 'bob']);
  a.touchToken('bob', NOW + 5);
  t.equal(a.tokenByName('bob')!.lastUsedAt, NOW + 5);

  a.insertSession(session('s-bob', { credential: 'bob' }));
  const before = a.revision();
  t.equal(a.setTokenHash('bob', 'hash-bob-2'), true);
  t.equal(a.tokenByHash('hash-bob'), null, 'the old secret finds nothing');
  t.equal(a.tokenByHash('hash-bob-2')!.name, 'bob');
  t.equal(a.sessionByHash('s-bob'), null, "the old secret's session is gone");
  t.equal(a.revision(), before + 1, 'and the revision moved');
  t.equal(a.setTokenHash('nobody', 'x'), false);
});

t.test('deleteToken takes the token and its sessions in one transaction and bumps the revision once', async (t) => {
  const { store, file } = await openStore(t);
  const a = store.access;
  a.insertToken(token('bob'), 'hash-bob');
  a.insertToken(token('carol'), 'hash-carol');
  for (const [id, credential] of [['s1', 'bob'], ['s2', 'bob'], ['s3', 'carol'], ['s4', null]] as const) a.insertSession(session(id, { credential }));
  const before = a.revision();
  t.same(a.deleteToken('bob'), { deleted: true, sessionsEnded: 2 });
  t.equal(a.revision(), before + 1);
  t.same(['s1', 's2', 's3', 's4'].map((id) => a.sessionByHash(id) !== null), [false, false, true, true], "only bob's sessions went");
  t.same(a.deleteToken('bob'), { deleted: false, sessionsEnded: 0 });
  t.equal(a.revision(), before + 1, 'nothing deleted: the revision stays');

  // Another process on the same file (the token command) sees the revision move.
  const other = openSqliteAccessStore(file);
  t.teardown(() => other.close());
  t.equal(other.access.revision(), before + 1);
  other.access.deleteSession('s4');
  t.equal(a.revision(), before + 2, 'a deletion by the other connection shows here');

  // When the sessions cannot be deleted, the token is not deleted either.
  const raw = new Database(file);
  t.teardown(() => raw.close());
  raw.exec("CREATE TRIGGER keep_sessions BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'sessions kept'); END");
  t.throws(() => a.deleteToken('carol'), /sessions kept/);
  t.ok(a.tokenByName('carol'), 'carol is still there');
  t.equal(a.revision(), before + 2, 'and the revision did not move');
  raw.exec('DROP TRIGGER keep_sessions');
  t.same(a.deleteToken('carol'), { deleted: true, sessionsEnded: 1 });
});

t.test('sessions: touched forward only; deleteExpiredSessions takes those past absolute or idle expiry', async (t) => {
  const { store } = await openStore(t);
  const a = store.access;
  a.insertSession(session('fresh', { lastSeenAt: NOW }));
  a.insertSession(session('idle', { lastSeenAt: NOW - 31 * 60_000 }));
  a.insertSession(session('ended', { expiresAt: NOW }));
  a.touchSession('fresh', NOW - 1000);
  t.equal(a.sessionByHash('fresh')!.lastSeenAt, NOW, 'a touch never moves last use back');
  a.touchSession('fresh', NOW + 1000);
  t.equal(a.sessionByHash('fresh')!.lastSeenAt, NOW + 1000);
  t.same(a.sessionByHash('idle'), session('idle', { lastSeenAt: NOW - 31 * 60_000 }), 'a session reads back as stored');
  const before = a.revision();
  t.equal(a.deleteExpiredSessions(NOW, NOW - 30 * 60_000), 2);
  t.same(['fresh', 'idle', 'ended'].map((id) => a.sessionByHash(id) !== null), [true, false, false]);
  t.equal(a.revision(), before + 1);
  t.equal(a.deleteExpiredSessions(NOW, NOW - 30 * 60_000), 0);
  t.equal(a.revision(), before + 1, 'nothing expired: the revision stays');
  t.equal(a.deleteSession('fresh'), true);
  t.equal(a.deleteSession('fresh'), false);
  t.equal(a.revision(), before + 2);
});

t.test('audit: newest first, paged with beforeId, filtered by action; pruned by time', async (t) => {
  const { store } = await openStore(t);
  const a = store.access;
  const actions = ['token.create', 'session.sign-in', 'session.sign-in', 'token.revoke', 'session.sign-in', 'token.create', 'session.sign-out'];
  actions.forEach((action, i) => a.appendAudit(entry(NOW + i * 1000, action, { n: i, ok: true, none: null, via: 'token' })));
  const ids = (entries: AuditEntry[]) => entries.map((e) => e.id);
  const page1 = a.audit({ limit: 3 });
  t.same(ids(page1), [7, 6, 5]);
  t.same(page1[0], { id: 7, ...entry(NOW + 6000, 'session.sign-out', { n: 6, ok: true, none: null, via: 'token' }) }, 'an entry reads back as written');
  t.same(ids(a.audit({ limit: 3, beforeId: 5 })), [4, 3, 2]);
  t.same(ids(a.audit({ limit: 3, beforeId: 2 })), [1]);
  t.same(ids(a.audit({ limit: 10, action: 'session.sign-in' })), [5, 3, 2]);
  t.same(ids(a.audit({ limit: 1, action: 'session.sign-in', beforeId: 5 })), [3]);
  t.same(a.audit({ limit: 10, action: 'no.such' }), []);
  t.equal(a.pruneAudit(NOW + 3000), 3, 'the three before the cut');
  t.same(ids(a.audit({ limit: 10 })), [7, 6, 5, 4]);
  t.equal(a.pruneAudit(NOW + 3000), 0);
});

t.test('maintenance prunes audit entries older than the coarse history, keeps the rest', async (t) => {
  const file = await storeFile(t);
  const store = openSqliteStore({ file, rawRetentionMs: DAY, rollupRetentionMs: 2 * DAY, coarseRetentionMs: 10 * DAY });
  t.teardown(() => store.close());
  for (const ageDays of [30, 11, 9, 1]) store.access.appendAudit(entry(NOW - ageDays * DAY, 'token.create'));
  store.maintain(NOW);
  t.same(store.access.audit({ limit: 10 }).map((e) => Math.round((NOW - e.at) / DAY)), [1, 9], 'the entries of 30 and 11 days are gone');
});

t.test('a schema-2 store is upgraded in place: its rows kept, the access (and experiment) tables added', async (t) => {
  const file = await storeFile(t);
  // Schema 2 is a new store without the access tables (3) and the experiment tables (4), at user_version 2.
  const v2 = openSqliteStore({ file });
  v2.upsertAgent(helloFor('agent-1', 'host-1', { env: 'prod' }), NOW);
  v2.close();
  const raw = new Database(file);
  for (const table of ['api_tokens', 'sessions', 'audit', 'pipelines', 'experiments', 'experiment_hosts', 'experiment_events', 'experiment_figures']) {
    raw.exec(`DROP TABLE ${table}`);
  }
  raw.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('raw_floor', 42);
  raw.pragma('user_version = 2');
  const tables = () => (raw.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
  t.same(tables(), ['agents', 'anchors', 'critical_changes', 'fleet_rollups', 'latest', 'meta', 'rollups', 'samples'], "schema 2's tables");
  raw.close();

  const upgraded = openSqliteStore({ file });
  t.teardown(() => upgraded.close());
  t.match(upgraded.agents(), [{ agentId: 'agent-1', hostId: 'host-1', labels: { env: 'prod' } }], 'the agent is still there');
  t.equal(upgraded.access.insertToken(token('alice'), 'hash-alice'), true, 'the access tables work');
  t.equal(upgraded.access.revision(), 0);
  const check = new Database(file, { readonly: true });
  t.teardown(() => check.close());
  t.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  t.same(check.prepare('SELECT value FROM meta WHERE key = ?').get('raw_floor'), { value: 42 }, 'meta rows kept');
  t.ok(['api_tokens', 'sessions', 'audit'].every((name) => check.prepare("SELECT 1 FROM sqlite_master WHERE name = ?").get(name)), 'the access tables exist');
});

t.test('a store of a newer schema is refused with a StoreOpenError naming both versions, and left as it was', async (t) => {
  const file = await storeFile(t);
  const NEWER = SCHEMA_VERSION + 1;
  const raw = new Database(file);
  raw.exec('CREATE TABLE samples (ts INTEGER); CREATE TABLE future (x INTEGER)');
  raw.pragma(`user_version = ${NEWER}`);
  raw.close();
  for (const open of [() => openSqliteStore({ file }), () => openSqliteAccessStore(file)]) {
    const error = t.throws(open, StoreOpenError) as StoreOpenError;
    t.equal(error.code, 'PHX_STORE_OPEN');
    t.match(error.message, `${file}: store schema ${NEWER} is newer than this hub (${SCHEMA_VERSION}); run a newer hub`);
  }
  const check = new Database(file, { readonly: true });
  t.teardown(() => check.close());
  t.equal(check.pragma('user_version', { simple: true }), NEWER);
  t.equal(check.prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'api_tokens'").pluck().get(), 0, 'no table was added');
});
