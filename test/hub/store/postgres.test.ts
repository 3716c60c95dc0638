// The PostgreSQL store (issue 16): the Store, AccessStore and ExperimentStore contracts (the same assertions as on
// SQLite), against a real server started for this file, each store on a database of its own; and what only a server
// database shows: a transaction the server refuses half-way leaves nothing behind.
import t from 'tap';
import pg from 'pg';
import { startPostgres } from '../../helpers/postgres.js';
import { accessStoreContract, session, token } from './access-store-contract.js';
import { postgresEngine } from './engines.js';
import { experimentStoreContract } from './experiment-store-contract.js';
import { storeContract } from './store-contract.js';

t.test('on PostgreSQL', async (t) => {
  const engine = postgresEngine(await startPostgres(t));
  t.test('the Store contract', async (t) => storeContract(t, engine));
  t.test('the AccessStore contract', async (t) => accessStoreContract(t, engine));
  t.test('the ExperimentStore contract', async (t) => experimentStoreContract(t, engine));

  t.test('a token is not deleted when its sessions cannot be, nor the revision moved', async (t) => {
    const { store, url } = await engine.openWithUrl(t);
    const a = store.access;
    await a.insertToken(token('carol'), 'hash-carol');
    await a.insertSession(session('s1', { credential: 'carol' }));
    const before = await a.revision();
    const raw = new pg.Client({ connectionString: url });
    await raw.connect();
    t.teardown(() => raw.end());
    await raw.query(`CREATE FUNCTION keep_sessions() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'sessions kept'; END $$`);
    await raw.query('CREATE TRIGGER keep_sessions BEFORE DELETE ON sessions FOR EACH ROW EXECUTE FUNCTION keep_sessions()');
    await t.rejects(a.deleteToken('carol'), /sessions kept/);
    t.ok(await a.tokenByName('carol'), 'carol is still there');
    t.equal(await a.revision(), before, 'and the revision did not move');
    await raw.query('DROP TRIGGER keep_sessions ON sessions');
    t.same(await a.deleteToken('carol'), { deleted: true, sessionsEnded: 1 });
    t.equal(await a.revision(), before + 1);
  });
});
