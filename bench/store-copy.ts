// A filled SQLite store copied into a PostgreSQL database, row for row (the two engines share one list of tables), so
// that the store bench reads the same fleet's day from both: filling PostgreSQL through the hub's ingest would take
// hours for 5.76 M reports; the copy takes minutes.
import Database from 'better-sqlite3';
import pg from 'pg';
import { applyPostgresSchema } from '../hub/store/postgres-schema.js';

/** The store's tables that a fill writes (the access and experiment tables stay empty in it). */
export const FILLED_TABLES = ['agents', 'latest', 'samples', 'rollups', 'anchors', 'fleet_rollups', 'critical_changes', 'meta'] as const;
/** Rows per INSERT: one JSON array parameter each. */
const CHUNK = 5000;

export interface CopyResult {
  rows: number;
  seconds: number;
  /** pg_database_size after the copy and a VACUUM ANALYZE (as a day's writes would leave it, without their dead rows). */
  databaseBytes: number;
}

/** Copies `sqliteFile`'s filled tables into the (empty) database at `url`, whose schema this creates. */
export async function copyStoreToPostgres(sqliteFile: string, url: string): Promise<CopyResult> {
  const started = performance.now();
  const source = new Database(sqliteFile, { readonly: true, fileMustExist: true });
  const target = new pg.Client({ connectionString: url });
  await target.connect();
  try {
    await applyPostgresSchema(target, 'bench');
    let rows = 0;
    for (const table of FILLED_TABLES) {
      let chunk: unknown[] = [];
      const flush = async () => {
        if (chunk.length === 0) return;
        await target.query(`INSERT INTO ${table} SELECT * FROM json_populate_recordset(NULL::${table}, $1)`, [JSON.stringify(chunk)]);
        rows += chunk.length;
        chunk = [];
      };
      for (const row of source.prepare(`SELECT * FROM ${table}`).iterate()) {
        chunk.push(row);
        if (chunk.length >= CHUNK) await flush();
      }
      await flush();
    }
    await target.query('VACUUM ANALYZE');
    const size = await target.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n');
    return { rows, seconds: (performance.now() - started) / 1000, databaseBytes: Number(size.rows[0]!.n) };
  } finally {
    source.close();
    await target.end();
  }
}
