// The PostgreSQL store's statements: the shared ones (store-sql.ts) compiled for PostgreSQL, and those only it runs
// (a batch's rows in one statement each from a JSON array, rows locked per agent, one agent's newest positions).
import { compile, compileAll } from './postgres-statements.js';
import { POSTGRES } from './sql-dialect.js';
import { list, storeSql } from './store-sql.js';
import { TOTALS_COLUMNS } from './totals.js';

const POSITION = `agent_id, side, ts, variant, paired_with, ${list(TOTALS_COLUMNS)}`;
/** Each agent-side's newest row of `from` (for the agents in $1), as a position: `ts` names its time column. */
const newestOf = (from: string, ts: string, where = '') =>
  `SELECT DISTINCT ON (agent_id, side) ${POSITION.replace('ts,', `${ts} AS ts,`)} FROM ${from}
   WHERE agent_id = ANY($1) ${where} ORDER BY agent_id, side, ${ts} DESC`;
/** Rows of `table` from a JSON array of objects keyed by its columns (one statement for a whole batch). */
const fromJson = (table: string) => `SELECT * FROM json_populate_recordset(NULL::${table}, $1)`;

export const PG = {
  ...compileAll('phx_store_', storeSql(POSTGRES)),
  /** The batch's agents, locked in one order (so two replicas storing for the same agents wait, never deadlock). */
  lockAgents: compile('phx_lock_agents', 'SELECT agent_id, stream_id, last_seq FROM agents WHERE agent_id = ANY($1) ORDER BY agent_id FOR UPDATE'),
  insertSamples: compile('phx_insert_samples', `INSERT INTO samples ${fromJson('samples')}`),
  insertChanges: compile('phx_insert_changes', `INSERT INTO critical_changes ${fromJson('critical_changes')}`),
  upsertLatest: compile(
    'phx_upsert_latest',
    `INSERT INTO latest ${fromJson('latest')} ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at, report = excluded.report`,
  ),
  advanceAgents: compile(
    'phx_advance_agents',
    `UPDATE agents a SET last_seq = v.last_seq, last_seen = v.last_seen FROM (${fromJson('agents')}) v WHERE a.agent_id = v.agent_id`,
  ),
  /** A late report's fine bucket: the dirty mark only moves back (another replica may have moved it further). */
  markDirty: compile('phx_mark_dirty', 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = LEAST(meta.value, excluded.value)'),
  marks: compile('phx_marks', 'SELECT key, value FROM meta WHERE key = ANY($1)'),
  newestSamples: compile('phx_newest_samples', newestOf('samples', 'ts')),
  newestRollups: compile('phx_newest_rollups', newestOf('rollups', 'last_ts', 'AND res = $2').replace('ORDER BY agent_id, side, last_ts DESC', 'ORDER BY agent_id, side, bucket DESC')),
  anchorsOf: compile('phx_anchors_of', `SELECT ${POSITION} FROM anchors WHERE agent_id = ANY($1)`),
  newestChanges: compile(
    'phx_newest_changes',
    'SELECT DISTINCT ON (agent_id, side) agent_id, side, retention, missing FROM critical_changes WHERE agent_id = ANY($1) ORDER BY agent_id, side, ts DESC',
  ),
  agentRow: compile('phx_agent_for_update', 'SELECT stream_id FROM agents WHERE agent_id = $1 FOR UPDATE'),
};
