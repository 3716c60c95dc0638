// The store's schema on a real PostgreSQL server (Debian's package, a cluster of the test's own): created on an empty
// database with the same tables and columns as SQLite's, once however many hubs start together, checked on a second
// start, and a newer hub's database refused. The password is in no message.
import t from 'tap';
import Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../../../common/logger.js';
import { openPostgres } from '../../../hub/store/postgres-open.js';
import { SCHEMA_VERSION, STORE_DDL } from '../../../hub/store/sqlite-schema.js';
import { parsePostgresUrl } from '../../../hub/store/store-url.js';
import { startPostgres } from '../../helpers/postgres.js';
import { captureLogs } from '../../helpers/logs.js';

/** Per table, its columns in order with their declared types' family, from SQLite. */
function sqliteTables(): Record<string, string[]> {
  const db = new Database(':memory:');
  try {
    db.exec(STORE_DDL);
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all();
    return Object.fromEntries(tables.map(({ name }) => [name, (db.pragma(`table_info(${name})`) as { name: string }[]).map((c) => c.name)]));
  } finally {
    db.close();
  }
}

t.test('on a real server', { timeout: 180_000 }, async (t) => {
  const server = await startPostgres(t);
  const location = parsePostgresUrl(server.url, 'test');

  await t.test('an empty database gets every table SQLite has, column for column, at this schema', async (t) => {
    const pool = await openPostgres(location, silentLogger());
    t.teardown(() => pool.end());
    const { rows } = await pool.query<{ table_name: string; column_name: string }>(
      "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> 'phoenix_schema' ORDER BY table_name, ordinal_position",
    );
    const tables: Record<string, string[]> = {};
    for (const r of rows) (tables[r.table_name] ??= []).push(r.column_name);
    t.same(tables, sqliteTables(), 'the same tables and columns, in order');
    const versions = await pool.query<{ version: number }>('SELECT version FROM phoenix_schema ORDER BY version');
    t.same(versions.rows.map((r) => r.version), [SCHEMA_VERSION], 'the schema version recorded');
    // A millisecond time past 2^31 fits (BIGINT), and an identity key is assigned.
    await pool.query("INSERT INTO audit (at, actor, action, outcome, detail) VALUES ($1, 'x', 'y', 'ok', '{}')", [Date.UTC(2040, 0, 1)]);
    const audit = await pool.query<{ id: string; at: string }>('SELECT id, at FROM audit');
    t.same(audit.rows, [{ id: '1', at: String(Date.UTC(2040, 0, 1)) }]);
  });

  await t.test('hubs starting together on an empty database migrate once; a second start changes nothing', async (t) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    await admin.query('CREATE DATABASE together');
    await admin.end();
    const together = parsePostgresUrl(server.url.replace(/\/phoenix$/, '/together'), 'test');
    const pools = await Promise.all([1, 2, 3].map(() => openPostgres(together, silentLogger())));
    t.teardown(() => Promise.all(pools.map((p) => p.end())));
    const versions = await pools[0]!.query<{ version: number }>('SELECT version FROM phoenix_schema');
    t.same(versions.rows.map((r) => r.version), [SCHEMA_VERSION], 'three at once: applied once, none failed');
    const again = await openPostgres(location, silentLogger());
    t.teardown(() => again.end());
    const audit = await again.query('SELECT count(*)::int AS n FROM audit');
    t.same(audit.rows, [{ n: 1 }], 'a second start on the first database: the rows written before are still there');
  });

  await t.test('logged: the schema created, an idle connection the server ended; the password in no line', async (t) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    t.teardown(() => admin.end());
    await admin.query('CREATE DATABASE logged');
    const logs = captureLogs('info');
    const logged = parsePostgresUrl(server.url.replace(/\/phoenix$/, '/logged'), 'test');
    const pool = await openPostgres(logged, logs.logger);
    t.teardown(() => pool.end());
    t.match(logs.lines, [{ msg: 'store schema created', store: logged.display, from: null, to: SCHEMA_VERSION }]);
    // The pool keeps the connection it migrated with; the server ends it, the pool says so and carries on.
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'logged' AND application_name = 'phoenix-hub'");
    for (let i = 0; i < 100 && logs.lines.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    t.match(logs.lines[1], { level: 40, msg: 'an idle store connection failed; the pool opens another', store: logged.display });
    t.same((await pool.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'and the next query gets a new connection');
    const text = JSON.stringify(logs.lines);
    t.notMatch(text, server.password);
    t.notMatch(text, encodeURIComponent(server.password));
  });

  await t.test('a database a newer hub wrote is refused, naming it without the password', async (t) => {
    const admin = new pg.Client({ connectionString: server.url });
    await admin.connect();
    t.teardown(() => admin.end());
    await admin.query('INSERT INTO phoenix_schema (version, applied_at) VALUES ($1, 0)', [SCHEMA_VERSION + 1]);
    const error = (await openPostgres(location, silentLogger()).then(
      () => null,
      (e: unknown) => e,
    )) as Error & { code: string; exitCode: number };
    t.match(error, { code: 'PHX_STORE_OPEN', exitCode: 2 });
    t.equal(error.message, `${location.display}: store schema ${SCHEMA_VERSION + 1} is newer than this hub (${SCHEMA_VERSION}); run a newer hub`);
    t.notMatch(error.message, server.password);
    await admin.query('DELETE FROM phoenix_schema WHERE version = $1', [SCHEMA_VERSION + 1]);
  });

  await t.test('a wrong password, and a server that is not there: StoreOpenError, no password in it', async (t) => {
    const wrong = parsePostgresUrl(server.url.replace(encodeURIComponent(server.password), 'not-the-password'), 'test');
    const refused = (await openPostgres(wrong, silentLogger()).catch((e: unknown) => e)) as Error & { code: string };
    t.equal(refused.code, 'PHX_STORE_OPEN');
    t.match(refused.message, /^cannot open the hub store postgres:\/\/phoenix:\*\*\*@127\.0\.0\.1:\d+\/phoenix \(28P01: password authentication failed for user "phoenix"\)$/);
    t.notMatch(refused.message, 'not-the-password');
    await server.stop();
    const gone = (await openPostgres(location, silentLogger(), { connectTimeoutMs: 2000 }).catch((e: unknown) => e)) as Error & { code: string };
    t.equal(gone.code, 'PHX_STORE_OPEN');
    t.match(gone.message, /^cannot open the hub store postgres:\/\/phoenix:\*\*\*@127\.0\.0\.1:\d+\/phoenix \(ECONNREFUSED: /);
    t.notMatch(gone.message, server.password);
    await server.start();
    const back = await openPostgres(location, silentLogger());
    await back.end();
    t.pass('started again, the same database opens');
  });
});
