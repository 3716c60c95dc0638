// The SQLite store's tables. Every time-keyed table leads with time (or resolution, then time), so a
// range is one sequential scan; the per-(agent, side) indexes serve "the last row before X" lookups.
import type { Database } from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import { LOSS_TOTALS_COLUMNS, TOTALS_DDL } from './totals.js';
import { ACCESS_DDL } from './sqlite-access-schema.js';
import { EXPERIMENTS_DDL, GUARD_FIGURES_COLUMNS, LOSS_FIGURES_COLUMNS } from './sqlite-experiments-schema.js';

export const SCHEMA_VERSION = 7;
/**
 * The oldest schema this hub upgrades in place: 2 → 3 adds the access tables (credentials, sessions, audit), 3 → 4 the
 * experiment tables (pipeline catalog, experiments, their hosts, events and figures), 4 → 5 the loss figures' sums
 * (issue 15) to the running totals and the experiments' figures; 5 → 6 changes nothing here (PostgreSQL's layout of the
 * big tables: postgres-layout.ts); 6 → 7 the guardrail's streak to the experiments' figures (kept across replicas).
 * Tables are added whole by the DDL; columns by ADDED_COLUMNS.
 */
export const OLDEST_UPGRADABLE = 2;

/**
 * Per schema, the columns it added to tables an older schema had: [table, column, declaration]. A new file gets them
 * in its CREATE TABLE; an older one gets each by ALTER TABLE (with its default: rows already there read as unknown).
 */
export const ADDED_COLUMNS: Readonly<Record<number, readonly (readonly [string, string, string])[]>> = {
  5: [
    ...['samples', 'rollups', 'anchors'].flatMap((table) => LOSS_TOTALS_COLUMNS.map(([column, type]) => [table, column, type] as const)),
    ...LOSS_FIGURES_COLUMNS.map(([column, type]) => ['experiment_figures', column, type] as const),
  ],
  7: GUARD_FIGURES_COLUMNS.map(([column, type]) => ['experiment_figures', column, type] as const),
};

/** The store's tables in SQLite's dialect (postgres-schema.ts writes the same tables in PostgreSQL's). */
export const STORE_DDL = `
CREATE TABLE IF NOT EXISTS agents (
  agent_id TEXT PRIMARY KEY, host_id TEXT NOT NULL, host_kind TEXT NOT NULL, labels TEXT NOT NULL,
  agent_version TEXT NOT NULL, variants TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  stream_id TEXT NOT NULL, last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS agents_host ON agents(host_id);
CREATE TABLE IF NOT EXISTS latest (
  agent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, received_at INTEGER NOT NULL, report TEXT NOT NULL
);
-- One row per report and side. ts is strictly increasing per agent (the store clamps it), so
-- (ts, agent_id, side) is unique; c_* are the agent-side's running totals up to and including this row.
CREATE TABLE IF NOT EXISTS samples (
  ts INTEGER NOT NULL, agent_id TEXT NOT NULL, side INTEGER NOT NULL, seq INTEGER NOT NULL,
  variant TEXT NOT NULL, paired_with TEXT NOT NULL,
  series INTEGER, retention REAL, cpu REAL, rss INTEGER, cost REAL,
  ${TOTALS_DDL},
  PRIMARY KEY (ts, agent_id, side)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_key ON samples(agent_id, side, ts);
-- Rollups at two resolutions (res, in ms): per bucket sums, and c_* = the running totals at the bucket's end.
CREATE TABLE IF NOT EXISTS rollups (
  res INTEGER NOT NULL, bucket INTEGER NOT NULL, agent_id TEXT NOT NULL, side INTEGER NOT NULL,
  variant TEXT NOT NULL, paired_with TEXT NOT NULL, n INTEGER NOT NULL,
  series_sum REAL, series_n INTEGER NOT NULL, retention_min REAL,
  cpu_sum REAL, cpu_n INTEGER NOT NULL, rss_sum REAL, rss_n INTEGER NOT NULL, cost_sum REAL, cost_n INTEGER NOT NULL,
  last_ts INTEGER NOT NULL, ${TOTALS_DDL},
  PRIMARY KEY (res, bucket, agent_id, side)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollups_key ON rollups(res, agent_id, side, bucket);
-- Per agent-side, the running totals where the oldest kept rollups begin (written before they are pruned).
CREATE TABLE IF NOT EXISTS anchors (
  agent_id TEXT NOT NULL, side INTEGER NOT NULL, ts INTEGER NOT NULL, variant TEXT NOT NULL, paired_with TEXT NOT NULL, ${TOTALS_DDL},
  PRIMARY KEY (agent_id, side)
) WITHOUT ROWID;
-- The fleet's per-variant figures per bucket, for the fleet charts.
CREATE TABLE IF NOT EXISTS fleet_rollups (
  res INTEGER NOT NULL, bucket INTEGER NOT NULL, variant TEXT NOT NULL, hosts INTEGER NOT NULL,
  series_sum REAL, series_n INTEGER NOT NULL, cpu_sum REAL, cpu_n INTEGER NOT NULL, rss_sum REAL, rss_n INTEGER NOT NULL,
  PRIMARY KEY (res, bucket, variant)
) WITHOUT ROWID;
-- A row each time an agent-side's critical state (retention, missing processes) changes.
CREATE TABLE IF NOT EXISTS critical_changes (
  agent_id TEXT NOT NULL, side INTEGER NOT NULL, ts INTEGER NOT NULL, retention REAL, missing TEXT NOT NULL,
  PRIMARY KEY (agent_id, side, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
${ACCESS_DDL}
${EXPERIMENTS_DDL}
`;

/** The columns schemas after `from` added, to the tables of an older file that lack them (a table not there yet comes whole from the DDL). */
function addColumns(db: Database, from: number): void {
  const has = db.prepare<[string], { n: number }>("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = ?");
  for (let version = from + 1; version <= SCHEMA_VERSION; version++) {
    for (const [table, column, declaration] of ADDED_COLUMNS[version] ?? []) {
      if (has.get(table)!.n === 0) continue;
      const columns = (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
      if (!columns.includes(column)) db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${declaration}`);
    }
  }
}

/** Creates the tables, or checks that an existing file holds this schema (or one it upgrades, in one transaction). */
export function applySchema(db: Database, file: string): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  const empty = (db.prepare("SELECT count(*) AS n FROM sqlite_master WHERE type = 'table'").get() as { n: number }).n === 0;
  if (!empty && (version > SCHEMA_VERSION || version < OLDEST_UPGRADABLE)) {
    throw new StoreOpenError(
      version > SCHEMA_VERSION
        ? `${file}: store schema ${version} is newer than this hub (${SCHEMA_VERSION}); run a newer hub`
        : `${file}: store schema ${version} was written by a development build and cannot be read by this hub (schema ${SCHEMA_VERSION}); move the file aside to start a new store`,
    );
  }
  db.transaction(() => {
    if (!empty) addColumns(db, version);
    db.exec(STORE_DDL);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}
