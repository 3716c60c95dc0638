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
/** Rows of `table` from a JSON array of objects keyed by its columns (one statement for a whole batch), in `param`. */
const fromJson = (table: string, param: string) => `SELECT * FROM json_populate_recordset(NULL::${table}, ${param})`;

/** Every agent-side (an agent has two). */
const EVERY_SIDE = `SELECT a.agent_id, s.side FROM agents a CROSS JOIN (VALUES (0), (1)) AS s(side)`;
/**
 * Each agent-side's newest row of `table` matching `where` (on `m`), by `order`: one index seek per side. The shared
 * form (a max() per side, then a join back by key) is planned here as a hash join over the whole table, which grows
 * with the data (a comparison over 10,000 hosts took 470 ms on a minute of reports).
 */
const newestPerSide = (table: string, where: string, order: string, columns: string) =>
  `SELECT ${columns} FROM (${EVERY_SIDE}) k CROSS JOIN LATERAL
     (SELECT * FROM ${table} m WHERE m.agent_id = k.agent_id AND m.side = k.side AND ${where} ORDER BY m.${order} DESC LIMIT 1) x`;
const TOTALS = list(TOTALS_COLUMNS, 'x.');

export const PG = {
  ...compileAll('phx_store_', storeSql(POSTGRES)),
  samplesAt: compile('phx_samples_at', newestPerSide('samples', 'm.ts >= @floor AND m.ts < @x', 'ts', `x.agent_id, x.side, x.ts, x.variant, x.paired_with, ${TOTALS}`)),
  rollupsAt: compile(
    'phx_rollups_at',
    newestPerSide('rollups', 'm.res = @res AND m.bucket < @before', 'bucket', `x.agent_id, x.side, x.last_ts AS ts, x.variant, x.paired_with, ${TOTALS}`),
  ),
  /**
   * The batch's agents, locked in one order (so two replicas storing for the same agents wait, never deadlock), each
   * row also carrying the tiers' marks ($2: their keys) as a JSON object: a batch's first round trip reads both.
   */
  lockAgents: compile(
    'phx_lock_agents',
    `SELECT a.agent_id, a.stream_id, a.last_seq, (SELECT json_object_agg(m.key, m.value) FROM meta m WHERE m.key = ANY($2)) AS marks
     FROM agents a WHERE a.agent_id = ANY($1) ORDER BY a.agent_id FOR UPDATE OF a`,
  ),
  /** These agents' rows (the ones that said hello since a replica last read them). */
  agentsIn: compile('phx_agents_in', 'SELECT * FROM agents WHERE agent_id = ANY($1)'),
  /**
   * A batch's rows in one statement (one round trip): its samples ($1), critical changes ($2), latest reports ($3) and
   * the agents' high-water marks ($4), each a JSON array ('[]' for none). PostgreSQL runs every data-modifying WITH
   * part once, to completion, whether or not the outer query reads it.
   */
  writeBatch: compile(
    'phx_write_batch',
    `WITH s AS (INSERT INTO samples ${fromJson('samples', '$1')}),
     c AS (INSERT INTO critical_changes ${fromJson('critical_changes', '$2')}),
     l AS (INSERT INTO latest ${fromJson('latest', '$3')}
       ON CONFLICT (agent_id) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at, report = excluded.report),
     a AS (UPDATE agents a SET last_seq = v.last_seq, last_seen = v.last_seen FROM (${fromJson('agents', '$4')}) v WHERE a.agent_id = v.agent_id)
     SELECT 1`,
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
  /**
   * A hello in one statement (one round trip, committed on its own): the agent's row upserted, returned with the
   * stream it had before, as the statement's snapshot shows it (a plain read: a row lock taken in the same statement
   * would skip the row the upsert changes). The sequence itself follows the row as it is when the upsert locks it;
   * only the "new sequence" notice may miss a hello for the same agent committed on another replica meanwhile.
   */
  hello: compile(
    'phx_hello',
    `WITH before AS (SELECT stream_id FROM agents WHERE agent_id = @agentId)
     ${storeSql(POSTGRES).upsertAgent} RETURNING agents.*, (SELECT stream_id FROM before) AS previous_stream`,
  ),
};
