// The embedded store: one SQLite file (better-sqlite3, WAL, synchronous=FULL) in the hub's data dir.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Hello } from '../../protocol/messages.js';
import type { AgentReport } from '../../protocol/report.js';
import type { AgentRecord, FleetHistoryPoint, HistoryPoint, IncomingReport, LatestReport, Store, StoreOutcome, VariantPoint } from './types.js';

export interface SqliteStoreOptions {
  /** The database file; its directory is created. */
  file: string;
  /** Raw samples older than this are deleted (after being rolled up). Default 48 h. */
  rawRetentionMs?: number;
  /** 5-minute rollups older than this are deleted. Default 35 days. */
  rollupRetentionMs?: number;
  /** Rollup bucket size. Default 5 minutes. */
  bucketMs?: number;
}

const SCHEMA_VERSION = 1;
const HOUR = 3_600_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS agents (
  agent_id TEXT PRIMARY KEY, host_id TEXT NOT NULL, host_kind TEXT NOT NULL, labels TEXT NOT NULL,
  agent_version TEXT NOT NULL, variants TEXT NOT NULL, first_seen INTEGER NOT NULL, last_seen INTEGER NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS agents_host ON agents(host_id);
CREATE TABLE IF NOT EXISTS latest (
  agent_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, received_at INTEGER NOT NULL, report TEXT NOT NULL
);
-- Keyed by time first: a window is one sequential range scan (deduplication is agents.last_seq's job).
CREATE TABLE IF NOT EXISTS samples (
  ts INTEGER NOT NULL, agent_id TEXT NOT NULL, seq INTEGER NOT NULL, side INTEGER NOT NULL,
  variant TEXT NOT NULL, paired_with TEXT NOT NULL, series INTEGER, retention REAL, missing TEXT,
  cpu REAL, rss INTEGER, cost REAL,
  PRIMARY KEY (ts, agent_id, seq, side)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS samples_agent ON samples(agent_id, ts);
CREATE TABLE IF NOT EXISTS rollups (
  bucket INTEGER NOT NULL, agent_id TEXT NOT NULL, side INTEGER NOT NULL, variant TEXT NOT NULL, paired_with TEXT NOT NULL,
  n INTEGER NOT NULL, series_sum REAL, series_n INTEGER NOT NULL, retention_min REAL, missing TEXT,
  cpu_sum REAL, cpu_n INTEGER NOT NULL, cpu_max REAL, rss_sum REAL, rss_n INTEGER NOT NULL, rss_max INTEGER,
  cost_sum REAL, cost_n INTEGER NOT NULL, last_ts INTEGER NOT NULL,
  PRIMARY KEY (bucket, agent_id, side)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS rollups_agent ON rollups(agent_id, bucket);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
`;

interface AgentRow {
  agent_id: string;
  host_id: string;
  host_kind: 'vm' | 'k8s-node';
  labels: string;
  agent_version: string;
  variants: string;
  first_seen: number;
  last_seen: number;
  last_seq: number;
}

interface PointRow {
  agent_id: string;
  side: 0 | 1;
  variant: string;
  paired_with: string;
  n: number;
  series_sum: number | null;
  series_n: number;
  retention_min: number | null;
  cpu_sum: number | null;
  cpu_n: number;
  cpu_max: number | null;
  rss_sum: number | null;
  rss_n: number;
  rss_max: number | null;
  cost_sum: number | null;
  cost_n: number;
  last_ts: number;
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
  lastSeq: r.last_seq,
});

// JS numbers bind as REAL: every division meant to bucket times casts its divisor to INTEGER.

// Aggregates over raw samples, in the rollup's shape, so both sources merge the same way.
const RAW_AGGREGATE = `
  agent_id, side, variant, paired_with, count(*) AS n,
  sum(series) AS series_sum, count(series) AS series_n, min(retention) AS retention_min,
  sum(cpu) AS cpu_sum, count(cpu) AS cpu_n, max(cpu) AS cpu_max,
  sum(rss) AS rss_sum, count(rss) AS rss_n, max(rss) AS rss_max,
  sum(cost) AS cost_sum, count(cost) AS cost_n, max(ts) AS last_ts`;

/** At most ~300 points per chart, in whole minutes. */
const historyStep = (from: number, to: number) => Math.max(60_000, Math.ceil((to - from) / 300 / 60_000) * 60_000);

export function openSqliteStore(options: SqliteStoreOptions): Store {
  mkdirSync(path.dirname(options.file), { recursive: true });
  const rawRetentionMs = options.rawRetentionMs ?? 48 * HOUR;
  const rollupRetentionMs = options.rollupRetentionMs ?? 35 * 24 * HOUR;
  const bucketMs = options.bucketMs ?? 5 * 60_000;
  const db = new Database(options.file);
  db.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before storeReports returns, so an acknowledged report survives power loss too.
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > SCHEMA_VERSION) throw new Error(`${options.file}: store schema ${version} is newer than this hub (${SCHEMA_VERSION})`);
  db.exec(SCHEMA);
  db.pragma(`user_version = ${SCHEMA_VERSION}`);

  const stmt = {
    getAgent: db.prepare<[string], AgentRow>('SELECT * FROM agents WHERE agent_id = ?'),
    allAgents: db.prepare<[], AgentRow>('SELECT * FROM agents ORDER BY host_id, agent_id'),
    upsertAgent: db.prepare(
      `INSERT INTO agents (agent_id, host_id, host_kind, labels, agent_version, variants, first_seen, last_seen, last_seq)
       VALUES (@agentId, @hostId, @hostKind, @labels, @agentVersion, @variants, @now, @now, 0)
       ON CONFLICT(agent_id) DO UPDATE SET host_id = excluded.host_id, host_kind = excluded.host_kind, labels = excluded.labels,
         agent_version = excluded.agent_version, variants = excluded.variants, last_seen = excluded.last_seen`,
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
      `INSERT INTO samples (ts, agent_id, seq, side, variant, paired_with, series, retention, missing, cpu, rss, cost)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    rawPoints: db.prepare<[number, number], PointRow>(`SELECT ${RAW_AGGREGATE} FROM samples WHERE ts >= ? AND ts < ? GROUP BY agent_id, side`),
    rollupPoints: db.prepare<[number, number], PointRow>(
      `SELECT agent_id, side, variant, paired_with, sum(n) AS n, sum(series_sum) AS series_sum, sum(series_n) AS series_n,
         min(retention_min) AS retention_min, sum(cpu_sum) AS cpu_sum, sum(cpu_n) AS cpu_n, max(cpu_max) AS cpu_max,
         sum(rss_sum) AS rss_sum, sum(rss_n) AS rss_n, max(rss_max) AS rss_max, sum(cost_sum) AS cost_sum, sum(cost_n) AS cost_n,
         max(last_ts) AS last_ts
       FROM rollups WHERE bucket >= ? AND bucket < ? GROUP BY agent_id, side`,
    ),
    rawMissing: db.prepare<[number, number], { agent_id: string; side: number; missing: string }>(
      "SELECT agent_id, side, missing FROM samples WHERE ts >= ? AND ts < ? AND missing IS NOT NULL AND missing != '[]'",
    ),
    rollupMissing: db.prepare<[number, number], { agent_id: string; side: number; missing: string }>(
      "SELECT agent_id, side, missing FROM rollups WHERE bucket >= ? AND bucket < ? AND missing IS NOT NULL AND missing != '[]'",
    ),
    getMeta: db.prepare<[string], { value: number }>('SELECT value FROM meta WHERE key = ?'),
    setMeta: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    rollUp: db.prepare(
      `INSERT INTO rollups
       SELECT (ts / CAST(@bucketMs AS INTEGER)) * CAST(@bucketMs AS INTEGER) AS bucket, agent_id, side, variant, paired_with, count(*),
         sum(series), count(series), min(retention),
         (SELECT json_group_array(DISTINCT j.value) FROM samples s2, json_each(s2.missing) j
            WHERE s2.agent_id = samples.agent_id AND s2.side = samples.side AND s2.ts >= (samples.ts / CAST(@bucketMs AS INTEGER)) * CAST(@bucketMs AS INTEGER)
              AND s2.ts < (samples.ts / CAST(@bucketMs AS INTEGER)) * CAST(@bucketMs AS INTEGER) + @bucketMs),
         sum(cpu), count(cpu), max(cpu), sum(rss), count(rss), max(rss), sum(cost), count(cost), max(ts)
       FROM samples WHERE ts >= @from AND ts < @to
       GROUP BY bucket, agent_id, side
       ON CONFLICT(bucket, agent_id, side) DO NOTHING`,
    ),
    deleteRaw: db.prepare('DELETE FROM samples WHERE ts < ?'),
    deleteRollups: db.prepare('DELETE FROM rollups WHERE bucket < ?'),
    history: db.prepare<[number, number, string, number, number], { at: number; side: 0 | 1; variant: string; series: number | null; cpu: number | null; rss: number | null; retention: number | null }>(
      `SELECT (ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS at, side, variant, avg(series) AS series, avg(cpu) AS cpu, avg(rss) AS rss, min(retention) AS retention
       FROM samples WHERE agent_id IN (SELECT agent_id FROM agents WHERE host_id = ?) AND ts >= ? AND ts < ?
       GROUP BY at, side ORDER BY at`,
    ),
    fleetHistory: db.prepare<[number, number, number, number], { at: number; variant: string; hosts: number; series: number | null; cpu: number | null; rss: number | null }>(
      `SELECT (ts / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS at, variant, count(DISTINCT agent_id) AS hosts, avg(series) AS series, avg(cpu) AS cpu, avg(rss) AS rss
       FROM samples WHERE ts >= ? AND ts < ? GROUP BY at, variant ORDER BY at`,
    ),
    fleetHistoryRollups: db.prepare<[number, number, number, number], { at: number; variant: string; hosts: number; series: number | null; cpu: number | null; rss: number | null }>(
      `SELECT (bucket / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS at, variant, count(DISTINCT agent_id) AS hosts, sum(series_sum) / nullif(sum(series_n), 0) AS series,
         sum(cpu_sum) / nullif(sum(cpu_n), 0) AS cpu, sum(rss_sum) / nullif(sum(rss_n), 0) AS rss
       FROM rollups WHERE bucket >= ? AND bucket < ? GROUP BY at, variant ORDER BY at`,
    ),
    historyRollups: db.prepare<[number, number, string, number, number], { at: number; side: 0 | 1; variant: string; series: number | null; cpu: number | null; rss: number | null; retention: number | null }>(
      `SELECT (bucket / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS at, side, variant, sum(series_sum) / nullif(sum(series_n), 0) AS series,
         sum(cpu_sum) / nullif(sum(cpu_n), 0) AS cpu, sum(rss_sum) / nullif(sum(rss_n), 0) AS rss, min(retention_min) AS retention
       FROM rollups WHERE agent_id IN (SELECT agent_id FROM agents WHERE host_id = ?) AND bucket >= ? AND bucket < ?
       GROUP BY at, side ORDER BY at`,
    ),
  };

  const rolledUntil = () => stmt.getMeta.get('rolled_until')?.value ?? 0;

  const storeMany = db.transaction((items: readonly IncomingReport[]): StoreOutcome[] => {
    const outcomes: StoreOutcome[] = [];
    for (const { agentId, message, receivedAt } of items) {
      const last = stmt.lastSeq.get(agentId)?.last_seq ?? 0;
      // Delivery is in order per agent: anything at or below the high-water mark was stored already.
      if (message.seq <= last) {
        outcomes.push('duplicate');
        continue;
      }
      const report: AgentReport = message.report;
      const ts = Date.parse(message.window.to);
      report.variants.forEach((v, side) => {
        stmt.sample.run(
          ts,
          agentId,
          message.seq,
          side,
          v.name,
          report.comparison.baseline,
          v.series,
          v.criticalRetention,
          v.criticalMissing.length > 0 ? JSON.stringify(v.criticalMissing) : null,
          v.cpuPercent,
          v.rssBytes,
          v.estimatedMonthlyCostUsd,
        );
      });
      stmt.latest.run(agentId, message.seq, receivedAt, JSON.stringify(report));
      stmt.advance.run(message.seq, receivedAt, agentId);
      outcomes.push('stored');
    }
    return outcomes;
  });

  function collectPoints(from: number, to: number): VariantPoint[] {
    const split = Math.min(Math.max(from, rolledUntil()), to);
    const rows = [...stmt.rollupPoints.all(from, split), ...stmt.rawPoints.all(split, to)];
    const missingRows = [...stmt.rollupMissing.all(from, split), ...stmt.rawMissing.all(split, to)];
    const merged = new Map<string, PointRow>();
    for (const row of rows) {
      const key = `${row.agent_id}\u0000${row.side}`;
      const prev = merged.get(key);
      if (!prev) {
        merged.set(key, { ...row });
        continue;
      }
      const add = (a: number | null, b: number | null) => (a === null ? b : b === null ? a : a + b);
      const pick = (a: number | null, b: number | null, f: (x: number, y: number) => number) => (a === null ? b : b === null ? a : f(a, b));
      prev.n += row.n;
      prev.series_sum = add(prev.series_sum, row.series_sum);
      prev.series_n += row.series_n;
      prev.retention_min = pick(prev.retention_min, row.retention_min, Math.min);
      prev.cpu_sum = add(prev.cpu_sum, row.cpu_sum);
      prev.cpu_n += row.cpu_n;
      prev.cpu_max = pick(prev.cpu_max, row.cpu_max, Math.max);
      prev.rss_sum = add(prev.rss_sum, row.rss_sum);
      prev.rss_n += row.rss_n;
      prev.rss_max = pick(prev.rss_max, row.rss_max, Math.max);
      prev.cost_sum = add(prev.cost_sum, row.cost_sum);
      prev.cost_n += row.cost_n;
      if (row.last_ts > prev.last_ts) {
        prev.last_ts = row.last_ts;
        prev.variant = row.variant;
        prev.paired_with = row.paired_with;
      }
    }
    const missing = new Map<string, Set<string>>();
    for (const row of missingRows) {
      const key = `${row.agent_id}\u0000${row.side}`;
      const set = missing.get(key) ?? new Set<string>();
      for (const name of JSON.parse(row.missing) as (string | null)[]) if (typeof name === 'string') set.add(name);
      missing.set(key, set);
    }
    const agents = new Map(stmt.allAgents.all().map((r) => [r.agent_id, toAgent(r)]));
    const points: VariantPoint[] = [];
    for (const [key, r] of merged) {
      const agent = agents.get(r.agent_id);
      if (!agent) continue;
      const mean = (sum: number | null, n: number) => (sum === null || n === 0 ? null : sum / n);
      points.push({
        agentId: r.agent_id,
        hostId: agent.hostId,
        hostKind: agent.hostKind,
        labels: agent.labels,
        side: r.side,
        variant: r.variant,
        pairedWith: r.paired_with,
        reports: r.n,
        series: mean(r.series_sum, r.series_n),
        retentionMin: r.retention_min,
        missing: [...(missing.get(key) ?? [])].sort(),
        cpuPercent: mean(r.cpu_sum, r.cpu_n),
        cpuPercentMax: r.cpu_max,
        rssBytes: mean(r.rss_sum, r.rss_n),
        rssBytesMax: r.rss_max,
        monthlyCostUsd: mean(r.cost_sum, r.cost_n),
        lastAt: r.last_ts,
      });
    }
    return points;
  }

  const maintainTx = db.transaction((now: number) => {
    const from = rolledUntil();
    // Only whole buckets that can no longer receive samples (a late report may still arrive for the current one).
    const to = Math.floor((now - bucketMs) / bucketMs) * bucketMs;
    let rolledUp = 0;
    if (to > from) {
      rolledUp = stmt.rollUp.run({ bucketMs, from, to }).changes;
      stmt.setMeta.run('rolled_until', to);
    }
    const deletedRaw = stmt.deleteRaw.run(Math.min(now - rawRetentionMs, Math.max(from, to))).changes;
    const deletedRollups = stmt.deleteRollups.run(now - rollupRetentionMs).changes;
    return { rolledUp, deletedRaw, deletedRollups };
  });

  let closed = false;
  return {
    upsertAgent(hello: Hello, now: number): AgentRecord {
      stmt.upsertAgent.run({
        agentId: hello.agentId,
        hostId: hello.hostId,
        hostKind: hello.hostKind,
        labels: JSON.stringify(hello.labels),
        agentVersion: hello.agentVersion,
        variants: JSON.stringify(hello.variants),
        now,
      });
      return toAgent(stmt.getAgent.get(hello.agentId)!);
    },
    storeReports: (items) => (items.length === 0 ? [] : storeMany(items)),
    agents: () => stmt.allAgents.all().map(toAgent),
    latest(agentId): LatestReport | null {
      const row = stmt.getLatest.get(agentId);
      return row ? { agentId: row.agent_id, seq: row.seq, receivedAt: row.received_at, report: JSON.parse(row.report) as AgentReport } : null;
    },
    latestAll: () =>
      stmt.allLatest.all().map((row) => ({ agentId: row.agent_id, seq: row.seq, receivedAt: row.received_at, report: JSON.parse(row.report) as AgentReport })),
    variantPoints: collectPoints,
    history(hostId, from, to): HistoryPoint[] {
      const step = historyStep(from, to);
      const split = Math.min(Math.max(from, rolledUntil()), to);
      const rows = [...stmt.historyRollups.all(step, step, hostId, from, split), ...stmt.history.all(step, step, hostId, split, to)];
      return rows.map((r) => ({ at: r.at, side: r.side, variant: r.variant, series: r.series, cpuPercent: r.cpu, rssBytes: r.rss, retention: r.retention }));
    },
    fleetHistory(from, to): FleetHistoryPoint[] {
      const step = historyStep(from, to);
      const split = Math.min(Math.max(from, rolledUntil()), to);
      const rows = [...stmt.fleetHistoryRollups.all(step, step, from, split), ...stmt.fleetHistory.all(step, step, split, to)];
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
