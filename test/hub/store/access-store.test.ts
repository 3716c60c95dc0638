// The AccessStore on SQLite: the contract (access-store-contract.ts, the same tests as every engine's); another process
// on the same file (the token command) seeing revocations, a token's deletion undone with its sessions'; a schema-2
// file upgraded in place, a file of a newer schema refused.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StoreOpenError } from '../../../hub/errors.js';
import { SCHEMA_VERSION } from '../../../hub/store/sqlite-schema.js';
import { openSqliteAccessStore, openSqliteStore } from '../../../hub/store/sqlite.js';
import type { SyncStore as Store } from '../../../hub/store/types.js';
import { helloFor } from '../../helpers/ws-client.js';
import { accessStoreContract, session, token } from './access-store-contract.js';
import { sqliteEngine } from './engines.js';

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

t.test('the AccessStore contract on SQLite', async (t) => accessStoreContract(t, sqliteEngine));

t.test('deleteToken: another process on the file sees the revision move; a token is not deleted without its sessions', async (t) => {
  const { store, file } = await openStore(t);
  const a = store.access;
  a.insertToken(token('carol'), 'hash-carol');
  for (const [id, credential] of [['s3', 'carol'], ['s4', null]] as const) a.insertSession(session(id, { credential }));
  const before = a.revision();
  // Another process on the same file (the token command) sees the revision move.
  const other = openSqliteAccessStore(file);
  t.teardown(() => other.close());
  t.equal(other.access.revision(), before);
  other.access.deleteSession('s4');
  t.equal(a.revision(), before + 1, 'a deletion by the other connection shows here');

  // When the sessions cannot be deleted, the token is not deleted either.
  const raw = new Database(file);
  t.teardown(() => raw.close());
  raw.exec("CREATE TRIGGER keep_sessions BEFORE DELETE ON sessions BEGIN SELECT RAISE(ABORT, 'sessions kept'); END");
  t.throws(() => a.deleteToken('carol'), /sessions kept/);
  t.ok(a.tokenByName('carol'), 'carol is still there');
  t.equal(a.revision(), before + 1, 'and the revision did not move');
  raw.exec('DROP TRIGGER keep_sessions');
  t.same(a.deleteToken('carol'), { deleted: true, sessionsEnded: 1 });
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
