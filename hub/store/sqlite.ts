// The embedded store: one SQLite file (better-sqlite3, WAL, synchronous=FULL) in the hub's data dir.
// Raw rows are rolled up into fine (5 min) and coarse (1 h) buckets; every row carries running totals,
// so the comparison over any window reads two rows per host and side instead of scanning the window.
// This file only assembles the parts: statements, ingest, window reads and maintenance live beside it.
import type { SyncAccessStore } from '../access/access-store.js';
import { sqliteAccess } from './sqlite-access.js';
import { sqliteExperiments, sqliteFiguresWriter } from './sqlite-experiments.js';
import { openDatabase } from './sqlite-open.js';
import { sqliteIngest } from './sqlite-ingest.js';
import { LatestWrites } from './latest-writes.js';
import { sqliteMaintenance } from './sqlite-maintenance.js';
import { loadLivePositions, sqliteQueries, sqliteTierReader } from './sqlite-reads.js';
import { prepareStatements } from './sqlite-statements.js';
import { toAgent } from './store-sql.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import type { AgentRecord, SyncStore } from './types.js';
import type { WindowHearing } from './window-hearing.js';
import { windowReads } from './window.js';

export interface SqliteStoreOptions extends TierOptions {
  /** The database file; its directory is created. */
  file: string;
  /** Told where each committed batch wrote from and which agents said hello (a window thread reading the file). */
  hearing?: Pick<WindowHearing, 'wrote' | 'changed'>;
  /** How stale the file's latest report of a reporting agent may get (latest-writes.ts; default a minute). */
  latestEveryMs?: number;
}

/**
 * Opens (or creates) the store in `options.file`. A bad tier configuration is a PHX_STORE_TIERS calling-rule error
 * (checked before the file is touched); a file that cannot be opened or holds another schema is a StoreOpenError.
 */
export function openSqliteStore(options: SqliteStoreOptions): SyncStore {
  const tiers = resolveTiers(options);
  const db = openDatabase(options.file);
  const stmt = prepareStatements(db);

  const queries = sqliteQueries(stmt);
  const marks = queries.marks();
  const reader = sqliteTierReader(stmt);
  const live = loadLivePositions(reader, stmt, tiers);

  /** Agents by id, for their host id, kind and labels (which only a hello changes; lastSeq/lastSeen here go stale). */
  let agentCache: Map<string, AgentRecord> | null = null;
  const agentMap = () => (agentCache ??= new Map(stmt.allAgents.all().map((r) => [r.agent_id, toAgent(r)])));

  const hear = {
    wrote: (ts: number) => options.hearing?.wrote(ts),
    changed(ids: readonly string[]) {
      agentCache = null;
      options.hearing?.changed(ids);
    },
  };
  const latest = new LatestWrites(options.latestEveryMs);
  const ingest = sqliteIngest(db, stmt, live, marks, tiers.fine, hear, sqliteFiguresWriter(db), latest);
  const reads = windowReads({ reader, tiers, marks: () => marks, live, agents: agentMap });
  const access = sqliteAccess(db);
  const experiments = sqliteExperiments(db);
  const maintain = sqliteMaintenance(db, stmt, tiers, marks);

  let closed = false;
  return {
    upsertAgent: ingest.upsertAgent,
    storeReports: ingest.storeReports,
    agents: queries.agents,
    latest: (agentId) => latest.newest(agentId) ?? queries.latest(agentId),
    latestAll: () => latest.overlay(queries.latestAll()),
    variantPoints: reads.variantPoints,
    comparison: reads.comparison,
    history: reads.history,
    fleetHistory: reads.fleetHistory,
    maintain(now) {
      ingest.writeLatest(latest.quiet(now));
      return maintain(now);
    },
    access,
    experiments,
    close() {
      if (closed) return;
      closed = true;
      try {
        ingest.writeLatest(latest.drain());
      } finally {
        db.close();
      }
    },
  };
}

/**
 * Opens only the access tables of the store in `file` (the token command, beside a running hub: WAL lets both write).
 * The same errors as openSqliteStore; `close()` releases the file.
 */
export function openSqliteAccessStore(file: string): { access: SyncAccessStore; close(): void } {
  const db = openDatabase(file);
  return { access: sqliteAccess(db), close: () => db.close() };
}
