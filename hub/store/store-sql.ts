// The store's SQL (agents, reports, rollups, maintenance, charts), each statement written once in the dialect-neutral
// form sql-dialect.ts describes, and the shapes of its rows; the SQLite store prepares it (sqlite-statements.ts), and
// so does the PostgreSQL one.
import type { Hello } from '../../protocol/messages.js';
import type { Position } from './positions.js';
import { accessSql } from './access-sql.js';
import type { Dialect } from './sql-dialect.js';
import { fromValues, TOTALS_COLUMNS } from './totals.js';
import type { AgentRecord, LatestReport } from './types.js';

// The rows as both engines read them, and as records.
export interface AgentRow {
  agent_id: string;
  host_id: string;
  host_kind: 'vm' | 'k8s-node';
  labels: string;
  agent_version: string;
  variants: string;
  first_seen: number;
  last_seen: number;
  stream_id: string;
  last_seq: number;
}

/** A position as its statements fetch it, raw (an array, not an object per row): these, then TOTALS_COLUMNS' values. */
export type PositionValues = [agentId: string, side: 0 | 1, ts: number, variant: string, pairedWith: string, ...totals: number[]];

export interface LatestRow {
  agent_id: string;
  seq: number;
  received_at: number;
  report: string;
}

export const toAgent = (r: AgentRow): AgentRecord => ({
  agentId: r.agent_id,
  hostId: r.host_id,
  hostKind: r.host_kind,
  labels: JSON.parse(r.labels) as Record<string, string>,
  agentVersion: r.agent_version,
  variants: JSON.parse(r.variants) as AgentRecord['variants'],
  firstSeen: r.first_seen,
  lastSeen: r.last_seen,
  streamId: r.stream_id,
  lastSeq: r.last_seq,
});

/** The upsertAgent statement's values for a hello received at `now`. */
export const helloParams = (hello: Hello, now: number) => ({
  agentId: hello.agentId,
  hostId: hello.hostId,
  hostKind: hello.hostKind,
  labels: JSON.stringify(hello.labels),
  agentVersion: hello.agentVersion,
  variants: JSON.stringify(hello.variants),
  streamId: hello.streamId,
  now,
});

export const toPosition = (r: PositionValues): Position => ({ agentId: r[0], side: r[1], ts: r[2], variant: r[3], pairedWith: r[4], totals: fromValues(r, 5) });

export const toLatest = (r: LatestRow): LatestReport => ({
  agentId: r.agent_id,
  seq: r.seq,
  receivedAt: r.received_at,
  report: JSON.parse(r.report) as LatestReport['report'],
});


export const list = (columns: readonly string[], prefix = '') => columns.map((c) => `${prefix}${c}`).join(', ');
/** An upsert's SET list: each column takes the value the conflicting insert brought. */
export const updateSet = (columns: readonly string[]) => columns.map((c) => `${c} = excluded.${c}`).join(', ');

const C = list(TOTALS_COLUMNS);
/** The figures summed per bucket: each has a sum and a count of the reports that knew it. */
const MEASURES = ['series', 'cpu', 'rss', 'cost'] as const;
/** The charted figures: their columns, and their names in HistoryPoint and FleetHistoryPoint. */
const CHARTED = [['series', 'series'], ['cpu', 'cpuPercent'], ['rss', 'rssBytes']] as const;
const FLEET_MEASURES = CHARTED.map(([column]) => column);
const sumsOf = (measures: readonly string[]) => measures.flatMap((m) => [`${m}_sum`, `${m}_n`]);
/** A rollup's figures for its bucket; with `variant`, `paired_with` and the running totals, what an upsert replaces. */
const ROLLUP_FIGURES = ['n', ...sumsOf(MEASURES), 'retention_min', 'last_ts'];
const ROLLUP_VALUES = ['variant', 'paired_with', ...ROLLUP_FIGURES, ...TOTALS_COLUMNS];
const ANCHOR_VALUES = ['ts', 'variant', 'paired_with', ...TOTALS_COLUMNS];
const FLEET_VALUES = ['hosts', ...sumsOf(FLEET_MEASURES)];

// JS numbers bind as REAL in SQLite: every division meant to bucket times casts its divisor to INTEGER.
const BUCKET = (col: string, step: string) => `(${col} / CAST(${step} AS INTEGER)) * CAST(${step} AS INTEGER)`;
const EVERY_KEY = `SELECT a.agent_id AS agent_id, s.side AS side FROM agents a, (SELECT 0 AS side UNION ALL SELECT 1) s`;
/** The charted figures' means over a step: from raw rows, and from rollups' sums. */
const RAW_MEANS = CHARTED.map(([column, name]) => `avg(${column}) AS "${name}"`).join(', ');
const ROLLUP_MEANS = CHARTED.map(([column, name]) => `sum(${column}_sum) / nullif(sum(${column}_n), 0) AS "${name}"`).join(', ');

/** Rolls the groups `g` (one per bucket and agent-side) into rollups of resolution @res, their totals from row `x`. */
const rollInto = (groups: string, lastRow: string) =>
  `WITH g AS (${groups})
   INSERT INTO rollups (res, bucket, agent_id, side, ${list(ROLLUP_VALUES)})
   SELECT @res, g.bucket, g.agent_id, g.side, x.variant, x.paired_with, ${list(ROLLUP_FIGURES, 'g.')}, ${list(TOTALS_COLUMNS, 'x.')}
   FROM g JOIN ${lastRow} WHERE true
   ON CONFLICT (res, bucket, agent_id, side) DO UPDATE SET ${updateSet(ROLLUP_VALUES)}`;

/** Each agent-side's last rollup of resolution @res whose bucket starts before @before, as row `x`. */
const LAST_ROLLUP = `WITH e AS MATERIALIZED (SELECT k.agent_id, k.side, (SELECT max(bucket) FROM rollups m WHERE m.res = @res AND m.agent_id = k.agent_id AND m.side = k.side AND m.bucket < @before) AS bucket
                  FROM (${EVERY_KEY}) k)`;
const LAST_ROLLUP_ROW = (d: Dialect) => `FROM e ${d.orderedJoin} rollups x ON x.res = @res AND x.bucket = e.bucket AND x.agent_id = e.agent_id AND x.side = e.side`;

/** Every statement of the store, in dialect `d`: a statement's parameters are its `@name`s, or its `?`s in order. */
export function storeSql(d: Dialect) {
  return {
    getAgent: `SELECT * FROM agents WHERE agent_id = ?`,
    allAgents: `SELECT * FROM agents ORDER BY host_id, agent_id`,
    upsertAgent: `INSERT INTO agents (agent_id, host_id, host_kind, labels, agent_version, variants, first_seen, last_seen, stream_id, last_seq)
       VALUES (@agentId, @hostId, @hostKind, @labels, @agentVersion, @variants, @now, @now, @streamId, 0)
       ON CONFLICT(agent_id) DO UPDATE SET ${updateSet(['host_id', 'host_kind', 'labels', 'agent_version', 'variants', 'last_seen'])},
         last_seq = CASE WHEN agents.stream_id = excluded.stream_id THEN agents.last_seq ELSE 0 END, stream_id = excluded.stream_id`,
    lastSeq: `SELECT last_seq FROM agents WHERE agent_id = ?`,
    advance: `UPDATE agents SET last_seq = ?, last_seen = ? WHERE agent_id = ?`,
    latest: `INSERT INTO latest (agent_id, seq, received_at, report) VALUES (?, ?, ?, ?)
       ON CONFLICT(agent_id) DO UPDATE SET ${updateSet(['seq', 'received_at', 'report'])}`,
    getLatest: `SELECT * FROM latest WHERE agent_id = ?`,
    // Every agent with a stored report has both sides in the tiers.
    reportedSides: `SELECT 2 * count(*) AS n FROM latest`,
    allLatest: `SELECT * FROM latest`,
    // Positional (one row per report and side: names would be looked up for each of its ~45 values).
    sample: `INSERT INTO samples (ts, agent_id, side, seq, variant, paired_with, series, retention, cpu, rss, cost, ${C})
       VALUES (${Array.from({ length: 11 + TOTALS_COLUMNS.length }, () => '?').join(', ')})`,
    change: `INSERT INTO critical_changes (agent_id, side, ts, retention, missing) VALUES (?, ?, ?, ?, ?)`,
    lastChanges: `SELECT c.agent_id, c.side, c.retention, c.missing FROM critical_changes c
       WHERE c.ts = (SELECT max(ts) FROM critical_changes m WHERE m.agent_id = c.agent_id AND m.side = c.side)`,
    samplesAt: `WITH e AS MATERIALIZED (SELECT k.agent_id, k.side, (SELECT max(ts) FROM samples m WHERE m.agent_id = k.agent_id AND m.side = k.side AND m.ts >= @floor AND m.ts < @x) AS ts
                  FROM (${EVERY_KEY}) k)
       SELECT x.agent_id, x.side, x.ts, x.variant, x.paired_with, ${list(TOTALS_COLUMNS, 'x.')}
       FROM e ${d.orderedJoin} samples x ON x.ts = e.ts AND x.agent_id = e.agent_id AND x.side = e.side`,
    // Every raw row in [@from, @x), oldest first (the samples' primary key begins with ts: one range of it).
    samplesBetween: `SELECT agent_id, side, ts, variant, paired_with, ${C} FROM samples WHERE ts >= @from AND ts < @x ORDER BY ts`,
    rollupsAt: `${LAST_ROLLUP} SELECT x.agent_id, x.side, x.last_ts AS ts, x.variant, x.paired_with, ${list(TOTALS_COLUMNS, 'x.')} ${LAST_ROLLUP_ROW(d)}`,
    anchors: `SELECT agent_id, side, ts, variant, paired_with, ${C} FROM anchors`,
    // Whether any rollup of resolution @res starts before @before (1 or 0).
    anyRollupsBelow: `SELECT count(*) AS n FROM (SELECT 1 FROM rollups WHERE res = @res AND bucket < @before LIMIT 1) q`,
    // Before coarse rollups are pruned, the last one of each agent-side becomes its anchor.
    setAnchors: `${LAST_ROLLUP}
       INSERT INTO anchors (agent_id, side, ${list(ANCHOR_VALUES)}) SELECT x.agent_id, x.side, x.last_ts, x.variant, x.paired_with, ${list(TOTALS_COLUMNS, 'x.')}
       ${LAST_ROLLUP_ROW(d)} WHERE true
       ON CONFLICT (agent_id, side) DO UPDATE SET ${updateSet(ANCHOR_VALUES)}`,
    criticalIn: `SELECT retention, missing FROM critical_changes
       WHERE agent_id = @agentId AND side = @side AND ts < @to
         AND ts >= coalesce((SELECT max(ts) FROM critical_changes WHERE agent_id = @agentId AND side = @side AND ts < @from), @from)`,
    getMeta: `SELECT value FROM meta WHERE key = ?`,
    setMeta: `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET ${updateSet(['value'])}`,
    deleteMeta: `DELETE FROM meta WHERE key = ?`,
    rollFine: rollInto(
        `SELECT ${BUCKET('ts', '@res')} AS bucket, agent_id, side, count(*) AS n, ${MEASURES.map((m) => `sum(${m}) AS ${m}_sum, count(${m}) AS ${m}_n`).join(', ')},
           min(retention) AS retention_min, max(ts) AS last_ts
         FROM samples WHERE ts >= @from AND ts < @to GROUP BY 1, agent_id, side`,
        'samples x ON x.ts = g.last_ts AND x.agent_id = g.agent_id AND x.side = g.side',
      ),
    rollCoarse: rollInto(
        `SELECT ${BUCKET('bucket', '@res')} AS bucket, agent_id, side, sum(n) AS n, ${MEASURES.map((m) => `sum(${m}_sum) AS ${m}_sum, sum(${m}_n) AS ${m}_n`).join(', ')},
           min(retention_min) AS retention_min, max(last_ts) AS last_ts, max(bucket) AS last_bucket
         FROM rollups WHERE res = @fine AND bucket >= @from AND bucket < @to GROUP BY 1, agent_id, side`,
        'rollups x ON x.res = @fine AND x.bucket = g.last_bucket AND x.agent_id = g.agent_id AND x.side = g.side',
      ),
    rollFleet: `INSERT INTO fleet_rollups (res, bucket, variant, ${list(FLEET_VALUES)})
       SELECT res, bucket, variant, count(DISTINCT agent_id), ${sumsOf(FLEET_MEASURES).map((c) => `sum(${c})`).join(', ')}
       FROM rollups WHERE res = @res AND bucket >= @from AND bucket < @to GROUP BY res, bucket, variant
       ON CONFLICT (res, bucket, variant) DO UPDATE SET ${updateSet(FLEET_VALUES)}`,
    deleteRaw: `DELETE FROM samples WHERE ts < ?`,
    deleteRollups: `DELETE FROM rollups WHERE res = ? AND bucket < ?`,
    deleteFleetRollups: `DELETE FROM fleet_rollups WHERE res = ? AND bucket < ?`,
    // Old changes go, but each agent-side keeps the one still in force.
    // The audit log is pruned with the coarse history, by the same pass.
    pruneAudit: accessSql(d).pruneAudit,
    deleteChanges: `DELETE FROM critical_changes WHERE ts < @before
         AND ts < (SELECT max(ts) FROM critical_changes m WHERE m.agent_id = critical_changes.agent_id AND m.side = critical_changes.side)`,
    historyRaw: `SELECT ${BUCKET('ts', '@step')} AS at, side, max(variant) AS variant, ${RAW_MEANS}, min(retention) AS retention
       FROM agents a ${d.orderedJoin} samples x ${d.indexedBy('samples_key')} ON x.agent_id = a.agent_id AND x.side IN (0, 1)
       WHERE a.host_id = @hostId AND x.ts >= @from AND x.ts < @to
       GROUP BY at, side ORDER BY at`,
    historyRollups: `SELECT ${BUCKET('bucket', '@step')} AS at, side, max(variant) AS variant, ${ROLLUP_MEANS}, min(retention_min) AS retention
       FROM agents a ${d.orderedJoin} rollups x ${d.indexedBy('rollups_key')} ON x.res = @res AND x.agent_id = a.agent_id AND x.side IN (0, 1)
       WHERE a.host_id = @hostId AND x.bucket >= @from AND x.bucket < @to
       GROUP BY at, side ORDER BY at`,
    fleetRaw: `SELECT ${BUCKET('ts', '@step')} AS at, variant, count(DISTINCT agent_id) AS hosts, ${RAW_MEANS}
       FROM samples WHERE ts >= @from AND ts < @to GROUP BY at, variant ORDER BY at`,
    // Hosts per step: the most that reported in any one bucket of it.
    fleetRollups: `SELECT ${BUCKET('bucket', '@step')} AS at, variant, max(hosts) AS hosts, ${ROLLUP_MEANS}
       FROM fleet_rollups WHERE res = @res AND bucket >= @from AND bucket < @to GROUP BY at, variant ORDER BY at`,
  };
}

export type StoreSql = ReturnType<typeof storeSql>;
