// The store bench's copy (bench/store-copy.ts): a filled SQLite store copied into a real PostgreSQL server holds the
// same rows, and the two engines answer the same window reads from them — so the bench's side-by-side compares
// engines reading one fleet's day, not two different fills.
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import t from 'tap';
import { copyStoreToPostgres, FILLED_TABLES } from '../../bench/store-copy.js';
import { fillStore } from '../../bench/store-fill.js';
import { silentLogger } from '../../common/logger.js';
import { openPostgresStore } from '../../hub/store/postgres.js';
import { openSqliteStore } from '../../hub/store/sqlite.js';
import { parsePostgresUrl } from '../../hub/store/store-url.js';
import { startPostgres } from '../helpers/postgres.js';

t.test('a filled store copied into PostgreSQL answers the same window reads as SQLite', { timeout: 180_000 }, async (t) => {
  const file = path.join(t.testdir(), 'hub.db');
  const now = Date.now();
  // Past the raw rows' 6 h, so rollups, anchors and pruned raw rows are all in it.
  const filled = fillStore(file, 12, 8 * 3_600_000, 15_000, now);
  t.equal(filled.reports, 12 * 1920);
  const server = await startPostgres(t);
  const copy = await copyStoreToPostgres(file, server.url);

  const source = new Database(file, { readonly: true });
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  t.teardown(async () => {
    source.close();
    await client.end();
  });
  let rows = 0;
  for (const table of FILLED_TABLES) {
    const want = source.prepare<[], { n: number }>(`SELECT count(*) AS n FROM ${table}`).get()!.n;
    const got = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    t.equal(got, want, `${table}: ${want} rows`);
    rows += want;
  }
  t.equal(copy.rows, rows, 'every row copied once');
  t.ok(rows > 12 * 1920, 'the fill wrote samples, rollups and the rest');
  t.ok(copy.databaseBytes > 0, 'the database size is told');

  const sqlite = openSqliteStore({ file });
  const postgres = await openPostgresStore({ location: parsePostgresUrl(server.url, 'test'), logger: silentLogger() });
  t.teardown(async () => {
    await sqlite.close();
    await postgres.close();
  });
  for (const hours of [1, 7, 24]) {
    const from = now - hours * 3_600_000;
    const want = await sqlite.variantPoints(from, now + 1);
    t.equal(want.length, 24, `${hours} h: every host's two sides`);
    t.same(await postgres.variantPoints(from, now + 1), want, `${hours} h: the same points on both engines`);
  }
  t.same(await postgres.history('host-3', now - 8 * 3_600_000, now + 1), await sqlite.history('host-3', now - 8 * 3_600_000, now + 1), "a host's chart the same");
});
