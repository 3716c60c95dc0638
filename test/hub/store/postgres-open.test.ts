// The store's schema on a real PostgreSQL server (Debian's package, a cluster of the test's own): created on an empty
// database with the same tables and columns as SQLite's (the big ones laid out for PostgreSQL), once however many hubs
// start together, checked on a second start, a database of schema 5 rebuilt with its rows, and a newer hub's database
// refused. The password is in no message.
import t from 'tap';
import Database from 'better-sqlite3';
import pg from 'pg';
import { silentLogger } from '../../../common/logger.js';
import { openPostgres } from '../../../hub/store/postgres-open.js';
import { readFile } from 'node:fs/promises';
import { PACKED_TABLES } from '../../../hub/store/postgres-layout.js';
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
    const sqlite = sqliteTables();
    const sorted = (byTable: Record<string, string[]>) => Object.fromEntries(Object.entries(byTable).map(([table, columns]) => [table, [...columns].sort()]));
    t.same(sorted(tables), sorted(sqlite), 'the same tables and columns');
    for (const table of Object.keys(sqlite).filter((name) => !(PACKED_TABLES as readonly string[]).includes(name))) {
      t.same(tables[table], sqlite[table], `${table}: in SQLite's order`);
    }
    const layout = await pool.query<{ table: string; column: string; type: string; len: number }>(
      `SELECT c.relname AS table, a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attlen AS len
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
       WHERE c.relname = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped ORDER BY c.relname, a.attnum`,
      [PACKED_TABLES],
    );
    for (const table of PACKED_TABLES) {
      const columns = layout.rows.filter((r) => r.table === table);
      const widths = columns.map((c) => (c.len < 0 ? 0 : c.len));
      t.same(widths, [...widths].sort((a, b) => b - a), `${table}: widest columns first, the text last (no padding between them)`);
      t.match(Object.fromEntries(columns.map((c) => [c.column, c.type])), { side: 'smallint', c_n: 'integer', c_lossy: 'integer', c_series_n: 'integer', c_top_cpu_visible: 'bigint', c_series: 'double precision' }, `${table}: the side 2 bytes, counts of reports 4, sums 8`);
    }
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

  await t.test('a database of schema 5 is rebuilt at schema 6, then gets the columns of 7: every row of the big tables kept, column by column', async (t) => {
    const five = parsePostgresUrl(await server.createDatabase(), 'test');
    const old = new pg.Client({ connectionString: five.url });
    await old.connect();
    t.teardown(() => old.end());
    await old.query(await readFile(new URL('../../fixtures/postgres-schema-5.sql', import.meta.url), 'utf8'));
    await old.query('CREATE TABLE phoenix_schema (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL); INSERT INTO phoenix_schema VALUES (5, 0)');
    // Two rows per big table, every column a value of its own (text columns a name, numbers their position).
    const rowsOf = async (table: string) => (await old.query<{ row: Record<string, unknown> }>(`SELECT row_to_json(x) AS row FROM ${table} x ORDER BY x.side`)).rows.map((r) => r.row);
    for (const table of PACKED_TABLES) {
      const { rows: columns } = await old.query<{ column_name: string; data_type: string }>(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position",
        [table],
      );
      const rows = [0, 1].map((k) =>
        Object.fromEntries(columns.map((c, i) => [c.column_name, c.data_type === 'text' ? `${c.column_name}-${k}` : c.column_name === 'side' ? k : i + 10 * k + 1])),
      );
      await old.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1)`, [JSON.stringify(rows)]);
    }
    const before = Object.fromEntries(await Promise.all(PACKED_TABLES.map(async (table) => [table, await rowsOf(table)] as const)));
    const logs = captureLogs('info');
    const pool = await openPostgres(five, logs.logger);
    t.teardown(() => pool.end());
    t.match(logs.lines, [{ msg: 'store schema upgraded', store: five.display, from: 5, to: SCHEMA_VERSION }]);
    const versions = await pool.query<{ version: number }>('SELECT version FROM phoenix_schema ORDER BY version');
    t.same(versions.rows.map((r) => r.version), [5, 6, 7], 'schemas 6 and 7 recorded after 5');
    const guard = await pool.query("SELECT column_name, column_default FROM information_schema.columns WHERE table_name = 'experiment_figures' AND column_name LIKE 'guard_%' ORDER BY ordinal_position");
    t.same(guard.rows, [{ column_name: 'guard_streak', column_default: '0' }, { column_name: 'guard_lost', column_default: "'[]'::text" }], "7: the guardrail's streak in the experiments' figures, 0 for the rows there");
    for (const table of PACKED_TABLES) {
      t.same(await rowsOf(table), before[table], `${table}: its rows, every column's value kept`);
      const side = await pool.query<{ type: string }>("SELECT format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attname = 'side'", [table]);
      t.same(side.rows, [{ type: 'smallint' }], `${table}: laid out anew`);
    }
    const indexes = await pool.query<{ indexname: string }>("SELECT indexname FROM pg_indexes WHERE tablename = ANY($1) ORDER BY 1", [PACKED_TABLES]);
    t.same(indexes.rows.map((r) => r.indexname), ['anchors_pkey', 'rollups_key', 'rollups_pkey', 'samples_key', 'samples_pkey'], 'their keys and indexes, under their names');
    const leftovers = await pool.query("SELECT relname FROM pg_class WHERE relname LIKE '%_v5%'");
    t.same(leftovers.rows, [], 'nothing of the old tables left');
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
