// A read-only connection to the SQLite store for a reader thread (issue 16): the window reads, the agents and their
// latest reports, read while the writer writes (WAL). It holds no running totals: every window end is read from the
// tiers, and the marks from the file at each read, as where other processes write.
import Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import { releaseBinding } from './sqlite-open.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { sqliteQueries, sqliteTierReader } from './sqlite-reads.js';
import { prepareStatements } from './sqlite-statements.js';
import { toAgent } from './store-sql.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import { windowReads } from './window.js';

/** Opens `file` (the writer made it and its schema) read-only; a StoreOpenError when it cannot, or holds another schema. */
export function openSqliteReader(file: string, options: TierOptions) {
  const tiers = resolveTiers(options);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, ...releaseBinding() });
    db.pragma('mmap_size = 1073741824');
    // Its own page cache beside the writer's: a quarter of the writer's (the pages are in the OS cache and the map too).
    db.pragma('cache_size = -16384');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) throw new StoreOpenError(`${file}: a reader found store schema ${version}, not ${SCHEMA_VERSION}`);
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw new StoreOpenError(`cannot open the hub store '${file}' to read (${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message})`, { cause: error });
  }
  const stmt = prepareStatements(db);
  const queries = sqliteQueries(stmt);
  const reads = windowReads({
    reader: sqliteTierReader(stmt),
    tiers,
    marks: queries.marks,
    live: null,
    reported: () => stmt.reportedSides.get()!.n,
    agents: () => new Map(stmt.allAgents.all().map((r) => [r.agent_id, toAgent(r)])),
  });
  return {
    variantPoints: reads.variantPoints,
    comparison: reads.comparison,
    history: reads.history,
    fleetHistory: reads.fleetHistory,
    agents: queries.agents,
    latest: queries.latest,
    latestAll: queries.latestAll,
    close: () => db.close(),
  };
}
