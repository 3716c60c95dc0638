// The embedded store: one SQLite file (better-sqlite3, WAL, synchronous=FULL) in the hub's data dir.
// Raw rows are rolled up into fine (5 min) and coarse (1 h) buckets; every row carries running totals,
// so the comparison over any window reads two rows per host and side instead of scanning the window.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Hello } from '../../protocol/messages.js';
import type { AgentReport } from '../../protocol/report.js';
import { StoreOpenError } from '../errors.js';
import { HOME_ENV } from '../../common/paths.js';
import { applySchema } from './sqlite-schema.js';
import { addSample, difference, fromRow, meanOf, toRow, TOTALS_COLUMNS, ZERO_TOTALS, type Totals, type TotalsRow } from './totals.js';
import type { AgentRecord, FleetHistoryPoint, HelloOutcome, HistoryPoint, IncomingReport, LatestReport, Store, StoreOutcome, VariantPoint } from './types.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created. */
  file: string;
  /** Raw rows older than this are deleted (after being rolled up). Default 6 h. */
  rawRetentionMs?: number;
  /** Fine rollups older than this are deleted (after being rolled into coarse ones). Default 8 days. */
  rollupRetentionMs?: number;
  /** Coarse rollups older than this are deleted. Default 35 days. */
  coarseRetentionMs?: number;
  /** Fine bucket. Default 5 minutes. */
  bucketMs?: number;
  /** Coarse bucket, a multiple of the fine one. Default 1 hour. */
  coarseBucketMs?: number;
  /** A fine bucket is rolled up this long after it ends (later reports re-roll it). Default 1 minute. */
  rollupDelayMs?: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

interface AgentRow {
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

/** Where an agent-side's running totals stood at some time. */
interface Position {
  agentId: string;
  side: 0 | 1;
  ts: number;
  variant: string;
  pairedWith: string;
  totals: Totals;
}

interface PositionRow extends TotalsRow {
  agent_id: string;
  side: 0 | 1;
  ts: number;
  variant: string;
  paired_with: string;
}

interface CriticalState {
  retention: number | null;
  missing: string;
}

interface ChartRow {
  at: number;
  side: 0 | 1;
  variant: string;
  series: number | null;
  cpu: number | null;
  rss: number | null;
  retention: number | null;
}

interface FleetChartRow {
  at: number;
  variant: string;
  hosts: number;
  series: number | null;
  cpu: number | null;
  rss: number | null;
}

const toAgent = (r: AgentRow): AgentRecord => ({
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

const toPosition = (r: PositionRow): Position => ({
  agentId: r.agent_id,
  side: r.side,
  ts: r.ts,
  variant: r.variant,
  pairedWith: r.paired_with,
  totals: fromRow(r),
});

const keyOf = (agentId: string, side: number) => `${agentId}\u0000${side}`;
const floorTo = (t: number, step: number) => Math.floor(t / step) * step;
const C = TOTALS_COLUMNS.join(', ');
const C_PARAMS = TOTALS_COLUMNS.map((c) => `@${c}`).join(', ');
const C_FROM = (alias: string) => TOTALS_COLUMNS.map((c) => `${alias}.${c}`).join(', ');
const C_UPDATE = TOTALS_COLUMNS.map((c) => `${c} = excluded.${c}`).join(', ');
// JS numbers bind as REAL: every division meant to bucket times casts its divisor to INTEGER.
const BUCKET = (col: string, step: string) => `(${col} / CAST(${step} AS INTEGER)) * CAST(${step} AS INTEGER)`;
const EVERY_KEY = `SELECT a.agent_id AS agent_id, s.side AS side FROM agents a, (SELECT 0 AS side UNION ALL SELECT 1) s`;

let loadedBinding: object | undefined;

/**
 * A release's single executable cannot load native modules through require(): its SQLite binding ships
 * beside it ($PHOENIX_HOME/better_sqlite3.node) and is loaded here. From a checkout, better-sqlite3 finds its own.
 */
function releaseBinding(): Database.Options {
  const home = process.env[HOME_ENV];
  const file = home ? path.join(home, 'better_sqlite3.node') : '';
  if (!file || !existsSync(file)) return {};
  if (!loadedBinding) {
    const module = { exports: {} };
    process.dlopen(module, file);
    loadedBinding = module.exports;
  }
  return { nativeBinding: loadedBinding as unknown as string };
}

/** Opens the file with the store's settings; any failure is a StoreOpenError naming the file. */
function openDatabase(file: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file, releaseBinding());
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before storeReports returns, so an acknowledged report survives power loss too.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    // Window lookups seek all over the indexes: read them through the OS page cache directly, and keep more pages.
    db.pragma('mmap_size = 1073741824');
    db.pragma('cache_size = -65536');
    applySchema(db, file);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof StoreOpenError) throw error;
    const code = (error as { code?: string }).code ?? 'error';
    throw new StoreOpenError(`cannot open the hub store '${file}' (${code}: ${(error as Error).message})`, { cause: error });
  }
}

/** At most ~300 points per chart, in whole minutes. */
const historyStep = (from: number, to: number) => Math.max(60_000, Math.ceil((to - from) / 300 / 60_000) * 60_000);

export function openSqliteStore(options: SqliteStoreOptions): Store {
  const rawRetentionMs = options.rawRetentionMs ?? 6 * HOUR;
  const fineRetentionMs = options.rollupRetentionMs ?? 8 * DAY;
  const coarseRetentionMs = options.coarseRetentionMs ?? 35 * DAY;
  const fine = options.bucketMs ?? 5 * 60_000;
  const coarse = options.coarseBucketMs ?? HOUR;
  const rollupDelayMs = options.rollupDelayMs ?? 60_000;
  if (!(fine > 0 && coarse >= fine && coarse % fine === 0)) throw new RangeError(`coarse bucket (${coarse} ms) must be a multiple of the fine bucket (${fine} ms)`);
  if (!(rawRetentionMs <= fineRetentionMs && fineRetentionMs <= coarseRetentionMs)) {
    throw new RangeError(`retention must not shrink from tier to tier: raw ${rawRetentionMs} ms, fine ${fineRetentionMs} ms, coarse ${coarseRetentionMs} ms`);
  }

  const db = openDatabase(options.file);

  const stmt = {
    getAgent: db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE agent_id = ?'),
    allAgents: db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY host_id, agent_id'),
    upsertAgent: db.prepare(
      `INSERT INTO agents (agent_id, host_id, host_kind, labels, agent_version, variants, first_seen, last_seen, stream_id, last_seq)
       VALUES (@agentId, @hostId, @hostKind, @labels, @agentVersion, @variants, @now, @now, @streamId, 0)
       ON CONFLICT(agent_id) DO UPDATE SET host_id = excluded.host_id, host_kind = excluded.host_kind, labels = excluded.labels,
         agent_version = excluded.agent_version, variants = excluded.variants, last_seen = excluded.last_seen,
         last_seq = CASE WHEN agents.stream_id = excluded.stream_id THEN agents.last_seq ELSE 0 END, stream_id = excluded.stream_id`,
    ),
    lastSeq: db.prepare<[string], { last_seq: number }>('SELECT last_seq FROM agents WHERE agent_id = ?'),
    advance: db.prepare('UPDATE agents SET last_seq = ?, last_seen = ? WHERE agent_id = ?'),
    latest: db.prepare(
      `INSERT INTO latest (agent_id, seq, received_at, report) VALUES (?, ?, ?, ?)
       ON CONFLICT(agent_id) DO UPDATE SET seq = excluded.seq, received_at = excluded.received_at, report = excluded.report`,
    ),
    getLatest: db.prepare<[string], { agent_id: string; seq: number; received_at: number; report: string }>('SELECT * FROM latest WHERE agent_id = ?'),
    allLatest: db.prepare<[], { agent_id: string; seq: number; received_at: number; report: string }>('SELECT * FROM latest'),
    sample: db.prepare(
      `INSERT INTO samples (ts, agent_id, side, seq, variant, paired_with, series, retention, cpu, rss, cost, ${C})
       VALUES (@ts, @agentId, @side, @seq, @variant, @pairedWith, @series, @retention, @cpu, @rss, @cost, ${C_PARAMS})`,
    ),
    change: db.prepare('INSERT INTO critical_changes (agent_id, side, ts, retention, missing) VALUES (?, ?, ?, ?, ?)'),
    lastChanges: db.prepare<[], { agent_id: string; side: number; retention: number | null; missing: string }>(
      `SELECT c.agent_id, c.side, c.retention, c.missing FROM critical_changes c
       WHERE c.ts = (SELECT max(ts) FROM critical_changes m WHERE m.agent_id = c.agent_id AND m.side = c.side)`,
    ),
    // The last raw row at or after `floor` and before `x`, for every agent-side that has one.
    samplesAt: db.prepare<{ floor: number; x: number }, PositionRow>(
      `WITH e AS MATERIALIZED (SELECT k.agent_id, k.side, (SELECT max(ts) FROM samples m WHERE m.agent_id = k.agent_id AND m.side = k.side AND m.ts >= @floor AND m.ts < @x) AS ts
                  FROM (${EVERY_KEY}) k)
       SELECT x.agent_id, x.side, x.ts, x.variant, x.paired_with, ${C_FROM('x')}
       FROM e CROSS JOIN samples x ON x.ts = e.ts AND x.agent_id = e.agent_id AND x.side = e.side`,
    ),
    // The last rollup of resolution `res` ending by `before`, for every agent-side that has one.
    rollupsAt: db.prepare<{ res: number; before: number }, PositionRow>(
      `WITH e AS MATERIALIZED (SELECT k.agent_id, k.side, (SELECT max(bucket) FROM rollups m WHERE m.res = @res AND m.agent_id = k.agent_id AND m.side = k.side AND m.bucket < @before) AS bucket
                  FROM (${EVERY_KEY}) k)
       SELECT x.agent_id, x.side, x.last_ts AS ts, x.variant, x.paired_with, ${C_FROM('x')}
       FROM e CROSS JOIN rollups x ON x.res = @res AND x.bucket = e.bucket AND x.agent_id = e.agent_id AND x.side = e.side`,
    ),
    anchors: db.prepare<[], PositionRow>(`SELECT agent_id, side, ts, variant, paired_with, ${C} FROM anchors`),
    // Before coarse rollups are pruned, the last one of each agent-side becomes its anchor.
    setAnchors: db.prepare(
      `WITH e AS MATERIALIZED (SELECT k.agent_id, k.side, (SELECT max(bucket) FROM rollups m WHERE m.res = @res AND m.agent_id = k.agent_id AND m.side = k.side AND m.bucket < @before) AS bucket
                  FROM (${EVERY_KEY}) k)
       INSERT INTO anchors SELECT x.agent_id, x.side, x.last_ts, x.variant, x.paired_with, ${C_FROM('x')}
       FROM e CROSS JOIN rollups x ON x.res = @res AND x.bucket = e.bucket AND x.agent_id = e.agent_id AND x.side = e.side WHERE true
       ON CONFLICT (agent_id, side) DO UPDATE SET ts = excluded.ts, variant = excluded.variant, paired_with = excluded.paired_with, ${C_UPDATE}`,
    ),
    // The critical states in force during [from, to): the one before `from` and every change inside.
    criticalIn: db.prepare<{ agentId: string; side: number; from: number; to: number }, CriticalState>(
      `SELECT retention, missing FROM critical_changes
       WHERE agent_id = @agentId AND side = @side AND ts < @to
         AND ts >= coalesce((SELECT max(ts) FROM critical_changes WHERE agent_id = @agentId AND side = @side AND ts < @from), @from)`,
    ),
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
    rollFine: db.prepare(
      `WITH g AS (
         SELECT ${BUCKET('ts', '@res')} AS bucket, agent_id, side, count(*) AS n, sum(series) AS series_sum, count(series) AS series_n,
           min(retention) AS retention_min, sum(cpu) AS cpu_sum, count(cpu) AS cpu_n, sum(rss) AS rss_sum, count(rss) AS rss_n,
           sum(cost) AS cost_sum, count(cost) AS cost_n, max(ts) AS last_ts
         FROM samples WHERE ts >= @from AND ts < @to GROUP BY 1, agent_id, side)
       INSERT INTO rollups
       SELECT @res, g.bucket, g.agent_id, g.side, x.variant, x.paired_with, g.n, g.series_sum, g.series_n, g.retention_min,
         g.cpu_sum, g.cpu_n, g.rss_sum, g.rss_n, g.cost_sum, g.cost_n, g.last_ts, ${C_FROM('x')}
       FROM g JOIN samples x ON x.ts = g.last_ts AND x.agent_id = g.agent_id AND x.side = g.side WHERE true
       ON CONFLICT (res, bucket, agent_id, side) DO UPDATE SET variant = excluded.variant, paired_with = excluded.paired_with, n = excluded.n,
         series_sum = excluded.series_sum, series_n = excluded.series_n, retention_min = excluded.retention_min, cpu_sum = excluded.cpu_sum,
         cpu_n = excluded.cpu_n, rss_sum = excluded.rss_sum, rss_n = excluded.rss_n, cost_sum = excluded.cost_sum, cost_n = excluded.cost_n,
         last_ts = excluded.last_ts, ${C_UPDATE}`,
    ),
    rollCoarse: db.prepare(
      `WITH g AS (
         SELECT ${BUCKET('bucket', '@res')} AS bucket, agent_id, side, sum(n) AS n, sum(series_sum) AS series_sum, sum(series_n) AS series_n,
           min(retention_min) AS retention_min, sum(cpu_sum) AS cpu_sum, sum(cpu_n) AS cpu_n, sum(rss_sum) AS rss_sum, sum(rss_n) AS rss_n,
           sum(cost_sum) AS cost_sum, sum(cost_n) AS cost_n, max(last_ts) AS last_ts, max(bucket) AS last_bucket
         FROM rollups WHERE res = @fine AND bucket >= @from AND bucket < @to GROUP BY 1, agent_id, side)
       INSERT INTO rollups
       SELECT @res, g.bucket, g.agent_id, g.side, x.variant, x.paired_with, g.n, g.series_sum, g.series_n, g.retention_min,
         g.cpu_sum, g.cpu_n, g.rss_sum, g.rss_n, g.cost_sum, g.cost_n, g.last_ts, ${C_FROM('x')}
       FROM g JOIN rollups x ON x.res = @fine AND x.bucket = g.last_bucket AND x.agent_id = g.agent_id AND x.side = g.side WHERE true
       ON CONFLICT (res, bucket, agent_id, side) DO UPDATE SET variant = excluded.variant, paired_with = excluded.paired_with, n = excluded.n,
         series_sum = excluded.series_sum, series_n = excluded.series_n, retention_min = excluded.retention_min, cpu_sum = excluded.cpu_sum,
         cpu_n = excluded.cpu_n, rss_sum = excluded.rss_sum, rss_n = excluded.rss_n, cost_sum = excluded.cost_sum, cost_n = excluded.cost_n,
         last_ts = excluded.last_ts, ${C_UPDATE}`,
    ),
    rollFleet: db.prepare(
      `INSERT INTO fleet_rollups
       SELECT res, bucket, variant, count(DISTINCT agent_id), sum(series_sum), sum(series_n), sum(cpu_sum), sum(cpu_n), sum(rss_sum), sum(rss_n)
       FROM rollups WHERE res = @res AND bucket >= @from AND bucket < @to GROUP BY bucket, variant
       ON CONFLICT (res, bucket, variant) DO UPDATE SET hosts = excluded.hosts, series_sum = excluded.series_sum, series_n = excluded.series_n,
         cpu_sum = excluded.cpu_sum, cpu_n = excluded.cpu_n, rss_sum = excluded.rss_sum, rss_n = excluded.rss_n`,
    ),
    deleteRaw: db.prepare('DELETE FROM samples WHERE ts < ?'),
    deleteRollups: db.prepare('DELETE FROM rollups WHERE res = ? AND bucket < ?'),
    deleteFleetRollups: db.prepare('DELETE FROM fleet_rollups WHERE res = ? AND bucket < ?'),
    // Old changes go, but each agent-side keeps the one still in force.
    deleteChanges: db.prepare(
      `DELETE FROM critical_changes WHERE ts < @before
         AND ts < (SELECT max(ts) FROM critical_changes m WHERE m.agent_id = critical_changes.agent_id AND m.side = critical_changes.side)`,
    ),
    historyRaw: db.prepare<{ step: number; hostId: string; from: number; to: number }, ChartRow>(
      `SELECT ${BUCKET('ts', '@step')} AS at, side, variant, avg(series) AS series, avg(cpu) AS cpu, avg(rss) AS rss, min(retention) AS retention
       FROM agents a CROSS JOIN samples x INDEXED BY samples_key ON x.agent_id = a.agent_id AND x.side IN (0, 1)
       WHERE a.host_id = @hostId AND x.ts >= @from AND x.ts < @to
       GROUP BY at, side ORDER BY at`,
    ),
    historyRollups: db.prepare<{ res: number; step: number; hostId: string; from: number; to: number }, ChartRow>(
      `SELECT ${BUCKET('bucket', '@step')} AS at, side, variant, sum(series_sum) / nullif(sum(series_n), 0) AS series,
         sum(cpu_sum) / nullif(sum(cpu_n), 0) AS cpu, sum(rss_sum) / nullif(sum(rss_n), 0) AS rss, min(retention_min) AS retention
       FROM agents a CROSS JOIN rollups x INDEXED BY rollups_key ON x.res = @res AND x.agent_id = a.agent_id AND x.side IN (0, 1)
       WHERE a.host_id = @hostId AND x.bucket >= @from AND x.bucket < @to
       GROUP BY at, side ORDER BY at`,
    ),
    fleetRaw: db.prepare<{ step: number; from: number; to: number }, FleetChartRow>(
      `SELECT ${BUCKET('ts', '@step')} AS at, variant, count(DISTINCT agent_id) AS hosts, avg(series) AS series, avg(cpu) AS cpu, avg(rss) AS rss
       FROM samples WHERE ts >= @from AND ts < @to GROUP BY at, variant ORDER BY at`,
    ),
    // Hosts per step: the most that reported in any one bucket of it.
    fleetRollups: db.prepare<{ res: number; step: number; from: number; to: number }, FleetChartRow>(
      `SELECT ${BUCKET('bucket', '@step')} AS at, variant, max(hosts) AS hosts, sum(series_sum) / nullif(sum(series_n), 0) AS series,
         sum(cpu_sum) / nullif(sum(cpu_n), 0) AS cpu, sum(rss_sum) / nullif(sum(rss_n), 0) AS rss
       FROM fleet_rollups WHERE res = @res AND bucket >= @from AND bucket < @to GROUP BY at, variant ORDER BY at`,
    ),
  };

  /** Agents by id, for their host id, kind and labels (which only a hello changes; lastSeq/lastSeen here go stale). */
  let agentCache: Map<string, AgentRecord> | null = null;
  const agentMap = () => (agentCache ??= new Map(stmt.allAgents.all().map((r) => [r.agent_id, toAgent(r)])));

  const meta = (key: string, fallback: number) => stmt.getMeta.get(key)?.value ?? fallback;
  /** Raw rows exist from here on; fine rollups from `fineFloor`; each tier is complete below its `rolled*` mark. */
  const marks = {
    rawFloor: meta('raw_floor', 0),
    fineFloor: meta('fine_floor', 0),
    rolledFine: meta('rolled_fine', 0),
    rolledCoarse: meta('rolled_coarse', 0),
    dirtyFine: meta('dirty_fine', Number.POSITIVE_INFINITY),
  };

  /** Each agent-side's latest position and critical state: what the next report adds to. */
  const positions = new Map<string, Position>();
  const criticalNow = new Map<string, CriticalState>();
  let newestTs = 0;
  const remember = (p: Position) => {
    const key = keyOf(p.agentId, p.side);
    if ((positions.get(key)?.ts ?? -1) > p.ts) return;
    positions.set(key, p);
    newestTs = Math.max(newestTs, p.ts);
  };
  for (const p of [...stmt.anchors.all(), ...stmt.rollupsAt.all({ res: coarse, before: Number.MAX_SAFE_INTEGER }), ...stmt.rollupsAt.all({ res: fine, before: Number.MAX_SAFE_INTEGER })]) {
    remember(toPosition(p));
  }
  for (const p of stmt.samplesAt.all({ floor: 0, x: Number.MAX_SAFE_INTEGER })) remember(toPosition(p));
  for (const c of stmt.lastChanges.all()) criticalNow.set(keyOf(c.agent_id, c.side), { retention: c.retention, missing: c.missing });

  const storeMany = db.transaction((items: readonly IncomingReport[], staged: Map<string, Position>, stagedCritical: Map<string, CriticalState>) => {
    const outcomes: StoreOutcome[] = [];
    let dirty = marks.dirtyFine;
    for (const { agentId, message, receivedAt } of items) {
      const last = stmt.lastSeq.get(agentId)?.last_seq ?? 0;
      // Delivery is in order per agent: anything at or below the high-water mark was stored already.
      if (message.seq <= last) {
        outcomes.push('duplicate');
        continue;
      }
      const report: AgentReport = message.report;
      // The agent's clock decides where a report falls, within limits: never after it arrived, never before the
      // agent's previous report (ts strictly increases per agent), never before the raw rows still kept.
      const claimed = Date.parse(message.window.to);
      let ts = Math.min(Number.isFinite(claimed) ? claimed : receivedAt, receivedAt);
      for (const side of [0, 1]) ts = Math.max(ts, ((staged.get(keyOf(agentId, side)) ?? positions.get(keyOf(agentId, side)))?.ts ?? -1) + 1);
      ts = Math.max(ts, marks.rawFloor);
      if (ts < marks.rolledFine) dirty = Math.min(dirty, floorTo(ts, fine));
      report.variants.forEach((v, index) => {
        const side = index as 0 | 1;
        const key = keyOf(agentId, side);
        const before = staged.get(key) ?? positions.get(key);
        const values = { series: v.series, retention: v.criticalRetention, cpu: v.cpuPercent, rss: v.rssBytes, cost: v.estimatedMonthlyCostUsd };
        const totals = addSample(before?.totals ?? ZERO_TOTALS, values);
        const position: Position = { agentId, side, ts, variant: v.name, pairedWith: report.comparison.baseline, totals };
        stmt.sample.run({ ts, agentId, side, seq: message.seq, variant: v.name, pairedWith: position.pairedWith, ...values, ...toRow(totals) });
        staged.set(key, position);
        const state: CriticalState = { retention: v.criticalRetention, missing: JSON.stringify([...v.criticalMissing].sort()) };
        const previous = stagedCritical.get(key) ?? criticalNow.get(key);
        if (!previous || previous.retention !== state.retention || previous.missing !== state.missing) {
          stmt.change.run(agentId, side, ts, state.retention, state.missing);
          stagedCritical.set(key, state);
        }
      });
      stmt.latest.run(agentId, message.seq, receivedAt, JSON.stringify(report));
      stmt.advance.run(message.seq, receivedAt, agentId);
      outcomes.push('stored');
    }
    if (dirty !== marks.dirtyFine) stmt.setMeta.run('dirty_fine', dirty);
    return { outcomes, dirty };
  });

  /** Every agent-side's running totals as they stood just before `x` (the tiers' precision at their edges). */
  function positionsAt(x: number): Map<string, Position> {
    if (x > newestTs) return positions;
    const found = new Map<string, Position>();
    const take = (rows: PositionRow[]) => {
      for (const r of rows) if (!found.has(keyOf(r.agent_id, r.side))) found.set(keyOf(r.agent_id, r.side), toPosition(r));
    };
    if (x > marks.rawFloor) take(stmt.samplesAt.all({ floor: marks.rawFloor, x }));
    if (found.size < positions.size) take(stmt.rollupsAt.all({ res: fine, before: floorTo(x, fine) }));
    if (found.size < positions.size) take(stmt.rollupsAt.all({ res: coarse, before: floorTo(x, coarse) }));
    // Older than anything kept: count from where the kept rows begin (a window cannot reach past retention).
    if (found.size < positions.size) take(stmt.anchors.all());
    return found;
  }

  function criticalDuring(agentId: string, side: number, from: number, to: number): { retentionMin: number | null; missing: string[] } {
    let retentionMin: number | null = null;
    const missing = new Set<string>();
    for (const state of stmt.criticalIn.all({ agentId, side, from, to })) {
      if (state.retention !== null && state.retention < 1) retentionMin = Math.min(retentionMin ?? 1, state.retention);
      for (const name of JSON.parse(state.missing) as string[]) missing.add(name);
    }
    return { retentionMin, missing: [...missing].sort() };
  }

  function variantPoints(from: number, to: number): VariantPoint[] {
    const end = positionsAt(to);
    const start = positionsAt(from);
    const agents = agentMap();
    const points: VariantPoint[] = [];
    for (const [key, last] of end) {
      const agent = agents.get(last.agentId);
      const t = difference(last.totals, start.get(key)?.totals ?? ZERO_TOTALS);
      if (!agent || t.n <= 0) continue;
      const critical = t.lossy > 0 ? criticalDuring(last.agentId, last.side, from, to) : { retentionMin: t.retentionN > 0 ? 1 : null, missing: [] };
      points.push({
        agentId: last.agentId,
        hostId: agent.hostId,
        hostKind: agent.hostKind,
        labels: agent.labels,
        side: last.side,
        variant: last.variant,
        pairedWith: last.pairedWith,
        reports: t.n,
        series: meanOf(t.series, t.seriesN),
        retentionMin: critical.retentionMin,
        lossyReports: t.lossy,
        missing: critical.missing,
        cpuPercent: meanOf(t.cpu, t.cpuN),
        rssBytes: meanOf(t.rss, t.rssN),
        monthlyCostUsd: meanOf(t.cost, t.costN),
        lastAt: last.ts,
      });
    }
    return points.sort((a, b) => a.agentId.localeCompare(b.agentId) || a.side - b.side);
  }

  /**
   * Splits [from, to) into the parts each tier can answer: coarse rollups before the fine ones begin, fine
   * rollups up to where they are complete, raw rows after.
   */
  function spans(from: number, to: number) {
    const fineStart = Math.min(Math.max(from, marks.fineFloor), to);
    const rawStart = Math.min(Math.max(fineStart, marks.rolledFine), to);
    return { coarse: [from, fineStart], fine: [fineStart, rawStart], raw: [rawStart, to] } as const;
  }

  const maintainTx = db.transaction((now: number) => {
    let rolledUp = 0;
    // Fine buckets: every whole bucket that ended a little while ago, and any that late reports touched.
    const fineFrom = Math.min(marks.rolledFine, marks.dirtyFine);
    const fineTo = Math.max(marks.rolledFine, floorTo(now - rollupDelayMs, fine));
    let dirtyCoarse = Number.POSITIVE_INFINITY;
    if (fineTo > fineFrom) {
      rolledUp += stmt.rollFine.run({ res: fine, from: fineFrom, to: fineTo }).changes;
      stmt.rollFleet.run({ res: fine, from: fineFrom, to: fineTo });
      if (fineFrom < marks.rolledCoarse) dirtyCoarse = floorTo(fineFrom, coarse);
      marks.rolledFine = fineTo;
      stmt.setMeta.run('rolled_fine', fineTo);
    }
    marks.dirtyFine = Number.POSITIVE_INFINITY;
    stmt.deleteMeta.run('dirty_fine');
    // Coarse buckets: whole ones whose fine buckets are all rolled.
    const coarseFrom = Math.min(marks.rolledCoarse, dirtyCoarse);
    const coarseTo = Math.max(marks.rolledCoarse, floorTo(marks.rolledFine, coarse));
    if (coarseTo > coarseFrom) {
      rolledUp += stmt.rollCoarse.run({ res: coarse, fine, from: coarseFrom, to: coarseTo }).changes;
      stmt.rollFleet.run({ res: coarse, from: coarseFrom, to: coarseTo });
      marks.rolledCoarse = coarseTo;
      stmt.setMeta.run('rolled_coarse', coarseTo);
    }
    // Pruning: a tier's rows go only once the next tier holds them; floors are bucket-aligned and never move back.
    const rawFloor = Math.max(marks.rawFloor, floorTo(Math.min(now - rawRetentionMs, marks.rolledFine), fine));
    const deletedRaw = stmt.deleteRaw.run(rawFloor).changes;
    marks.rawFloor = rawFloor;
    stmt.setMeta.run('raw_floor', rawFloor);
    const fineFloor = Math.max(marks.fineFloor, floorTo(Math.min(now - fineRetentionMs, marks.rolledCoarse), coarse));
    let deletedRollups = stmt.deleteRollups.run(fine, fineFloor).changes;
    stmt.deleteFleetRollups.run(fine, fineFloor);
    marks.fineFloor = fineFloor;
    stmt.setMeta.run('fine_floor', fineFloor);
    const coarseFloor = floorTo(now - coarseRetentionMs, coarse);
    stmt.setAnchors.run({ res: coarse, before: coarseFloor });
    deletedRollups += stmt.deleteRollups.run(coarse, coarseFloor).changes;
    stmt.deleteFleetRollups.run(coarse, coarseFloor);
    stmt.deleteChanges.run({ before: coarseFloor });
    return { rolledUp, deletedRaw, deletedRollups };
  });

  let closed = false;
  return {
    upsertAgent(hello: Hello, now: number): HelloOutcome {
      const before = stmt.getAgent.get(hello.agentId);
      agentCache = null;
      stmt.upsertAgent.run({
        agentId: hello.agentId,
        hostId: hello.hostId,
        hostKind: hello.hostKind,
        labels: JSON.stringify(hello.labels),
        agentVersion: hello.agentVersion,
        variants: JSON.stringify(hello.variants),
        streamId: hello.streamId,
        now,
      });
      return { agent: toAgent(stmt.getAgent.get(hello.agentId)!), sequenceRestarted: before !== undefined && before.stream_id !== hello.streamId };
    },
    storeReports(items) {
      if (items.length === 0) return [];
      // Positions advance only once the transaction commits: a failed batch leaves them as they were.
      const staged = new Map<string, Position>();
      const stagedCritical = new Map<string, CriticalState>();
      const { outcomes, dirty } = storeMany(items, staged, stagedCritical);
      for (const p of staged.values()) remember(p);
      for (const [key, state] of stagedCritical) criticalNow.set(key, state);
      marks.dirtyFine = dirty;
      return outcomes;
    },
    agents: () => stmt.allAgents.all().map(toAgent),
    latest(agentId): LatestReport | null {
      const row = stmt.getLatest.get(agentId);
      return row ? { agentId: row.agent_id, seq: row.seq, receivedAt: row.received_at, report: JSON.parse(row.report) as AgentReport } : null;
    },
    latestAll: () =>
      stmt.allLatest.all().map((row) => ({ agentId: row.agent_id, seq: row.seq, receivedAt: row.received_at, report: JSON.parse(row.report) as AgentReport })),
    variantPoints,
    history(hostId, from, to): HistoryPoint[] {
      const step = historyStep(from, to);
      const s = spans(from, to);
      const rows = [
        ...stmt.historyRollups.all({ res: coarse, step, hostId, from: s.coarse[0], to: s.coarse[1] }),
        ...stmt.historyRollups.all({ res: fine, step, hostId, from: s.fine[0], to: s.fine[1] }),
        ...stmt.historyRaw.all({ step, hostId, from: s.raw[0], to: s.raw[1] }),
      ];
      return rows.map((r) => ({ at: r.at, side: r.side, variant: r.variant, series: r.series, cpuPercent: r.cpu, rssBytes: r.rss, retention: r.retention }));
    },
    fleetHistory(from, to): FleetHistoryPoint[] {
      const step = historyStep(from, to);
      const s = spans(from, to);
      const rows = [
        ...stmt.fleetRollups.all({ res: coarse, step, from: s.coarse[0], to: s.coarse[1] }),
        ...stmt.fleetRollups.all({ res: fine, step, from: s.fine[0], to: s.fine[1] }),
        ...stmt.fleetRaw.all({ step, from: s.raw[0], to: s.raw[1] }),
      ];
      return rows.map((r) => ({ at: r.at, variant: r.variant, hosts: r.hosts, series: r.series, cpuPercent: r.cpu, rssBytes: r.rss }));
    },
    maintain: (now) => maintainTx(now),
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
