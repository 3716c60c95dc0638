// A read-only connection to the SQLite store for a reader thread (issue 16): the window reads, the agents and their
// latest reports, read while the writer writes (WAL). It holds no running totals: a window end is read from the tiers,
// and the marks from the file at each read, as where other processes write. A reader that hears what the writer does
// (`hearing`: where it wrote, who said hello) keeps window edges and the agents between reads, as PostgreSQL's do.
import Database from 'better-sqlite3';
import { StoreOpenError } from '../errors.js';
import { releaseBinding } from './sqlite-open.js';
import { SCHEMA_VERSION } from './sqlite-schema.js';
import { sqliteQueries, sqliteTierReader } from './sqlite-reads.js';
import { prepareStatements } from './sqlite-statements.js';
import { LowestWritten } from './carried-edges.js';
import { toAgent } from './store-sql.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import type { AgentRecord } from './types.js';
import { SETTLE_MS, type WindowHearing } from './window-hearing.js';
import { windowReads } from './window.js';

/**
 * Opens `file` (the writer made it and its schema) read-only; a StoreOpenError when it cannot, or holds another schema.
 * With `hearing`, the reader keeps what it read between calls, and must be told of every write and hello after it opened.
 */
export function openSqliteReader(file: string, options: TierOptions, hearing = false) {
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
  const readAgents = () => new Map(stmt.allAgents.all().map((r) => [r.agent_id, toAgent(r)]));
  let agents: Map<string, AgentRecord> | null = null;
  const written = hearing ? new LowestWritten() : undefined;
  const reads = windowReads({
    reader: sqliteTierReader(stmt),
    tiers,
    marks: queries.marks,
    live: null,
    reported: () => stmt.reportedSides.get()!.n,
    agents: hearing ? () => (agents ??= readAgents()) : readAgents,
    ...(written ? { written, settleMs: SETTLE_MS, keepPoints: true } : {}),
  });
  const heard: WindowHearing = {
    wrote: (ts) => written?.wrote(ts),
    changed: () => (agents = null),
    changedAll() {
      written?.wrote(0);
      agents = null;
    },
  };
  return {
    ...heard,
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
