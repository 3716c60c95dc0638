// The store engines side by side (issue 16): 10,000 agents on one hub with the embedded SQLite store, and the same
// agents split over two hub replicas on one PostgreSQL database (each replica with its own load process, as a load
// balancer would split them), the comparison API read every second meanwhile; the hubs' memory and CPU, and how much
// the store grew per report, so an hour's growth can be told for a fleet.
import { statSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pg from 'pg';
import pidusage from 'pidusage';
import type { HubLoadResult } from './hub-load.js';
import { BENCH_TOKEN, percentile, startHubProcess, timeGet, type HubProcess } from './hub-process.js';
import { startLoadAgents } from './load-process.js';
import { createPostgresServer } from './postgres-server.js';
import { mib, ms, percent, verdict } from './stats.js';

export interface EngineLoadOptions {
  engine: 'sqlite' | 'postgres';
  /** Hub processes (PostgreSQL only may have more than one). */
  replicas: number;
  agents: number;
  intervalMs: number;
  durationMs: number;
  /** 0: not read while the load runs. */
  apiEveryMs: number;
  /** Load processes per hub (default 1): one process holds at most this machine's open-file limit of sockets. */
  loadsPerHub?: number;
}

/** The hub bench's figures (agents: those asked for), and the store's growth. */
export interface EngineLoadResult extends EngineLoadOptions, Omit<HubLoadResult, 'agents'> {
  /** Agents that connected. */
  connected: number;
  /** The store's growth (file or database) per stored report. */
  bytesPerReport: number | null;
  /** Ack p99 of the reports sent after the first interval (worst load process): without the connection storm's round. */
  ackP99SteadyMs: number | null;
}

/** The p99 ack latency of the reports a load process sent from one interval after its first on. */
export function steadyP99(samples: readonly (readonly [number, number])[] | undefined, intervalMs: number): number | null {
  if (!samples || samples.length === 0) return null;
  let first = Infinity;
  for (const [at] of samples) first = Math.min(first, at);
  return percentile(samples.filter(([at]) => at >= first + intervalMs).map(([, latency]) => latency), 99);
}

const fileBytes = (dir: string) => readdirSync(dir).filter((f) => f.startsWith('hub.db')).reduce((sum, f) => sum + statSync(path.join(dir, f)).size, 0);

export async function runEngineLoad(o: EngineLoadOptions): Promise<EngineLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), `phx-bench-${o.engine}-`));
  const server = o.engine === 'postgres' ? await createPostgresServer() : null;
  const hubs: HubProcess[] = [];
  const db = server ? new pg.Client({ connectionString: server.url }) : null;
  try {
    for (let i = 0; i < o.replicas; i++) hubs.push(await startHubProcess(dir, path.join(dir, `data-${i}`), server ? { store: server.url } : {}));
    await db?.connect();
    const size = async () => (db ? Number((await db.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0]!.n) : fileBytes(path.join(dir, 'data-0')));
    const sizeBefore = await size();
    const perHub = o.loadsPerHub ?? 1;
    const share = Math.ceil(o.agents / (hubs.length * perHub));
    const loads = Array.from({ length: hubs.length * perHub }, (_, i) =>
      startLoadAgents({ url: `ws://127.0.0.1:${hubs[Math.floor(i / perHub)]!.port}/ws/agent`, token: BENCH_TOKEN, agents: Math.min(share, o.agents - i * share), first: i * share, intervalMs: o.intervalMs, durationMs: o.durationMs, samples: true }),
    );
    let running = loads.length;
    for (const load of loads) void load.result.then(() => (running -= 1), () => (running -= 1));
    const comparisons: number[] = [];
    const rss = new Map<number, number[]>();
    const cpu: number[] = [];
    for (const hub of hubs) await pidusage(hub.child.pid!); // primed
    let lastApi = 0;
    let lastSample = 0;
    while (running > 0) {
      if (o.apiEveryMs > 0 && Date.now() - lastApi >= o.apiEveryMs) {
        lastApi = Date.now();
        comparisons.push(await timeGet(`${hubs[0]!.base}/api/v1/comparison?window=1h`));
      }
      if (Date.now() - lastSample >= 1000) {
        lastSample = Date.now();
        const stats = await Promise.all(hubs.map((h) => pidusage(h.child.pid!)));
        stats.forEach((s, i) => rss.set(i, [...(rss.get(i) ?? []), s.memory]));
        cpu.push(stats.reduce((sum, s) => sum + s.cpu, 0));
      }
      await delay(50);
    }
    const results = await Promise.all(loads.map((l) => l.result));
    const idle: number[] = [];
    for (let i = 0; i < 40; i++) idle.push(await timeGet(`${hubs[0]!.base}/api/v1/comparison?window=1h`));
    const reports = results.reduce((sum, r) => sum + r.acked, 0);
    const worst = (pick: (r: (typeof results)[number]) => number | null) => Math.max(...results.map((r) => pick(r) ?? Number.NaN));
    const grown = (await size()) - sizeBefore;
    pidusage.clear();
    return {
      ...o,
      connected: results.reduce((sum, r) => sum + r.agents, 0),
      reports,
      reportsPerSecond: Math.round(reports / Math.max(...results.map((r) => r.seconds))),
      ackP50Ms: worst((r) => r.ackP50),
      ackP99Ms: worst((r) => r.ackP99),
      ackP99SteadyMs: worst((r) => steadyP99(r.samples, o.intervalMs)),
      comparisonP95Ms: percentile(comparisons, 95),
      comparisonP95IdleMs: percentile(idle, 95),
      hubRssPeakBytes: Math.max(...[...rss.values()].flat()),
      hubCpuPercentMean: cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length),
      bytesPerReport: reports > 0 ? grown / reports : null,
    };
  } finally {
    for (const hub of hubs) await hub.stop();
    await db?.end().catch(() => undefined);
    await server?.remove();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Reports a fleet sends in an hour at the default 15 s interval. */
const reportsPerHour = (agents: number) => (agents * 3_600_000) / 15_000;

/** The BENCHMARKS.md section: the engines side by side, PostgreSQL's figure as a ratio of SQLite's, the goals. */
export function enginesSection(sqlite: EngineLoadResult, postgres: EngineLoadResult, machine: string): string {
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '-' : `${(a / b).toFixed(2)}×`);
  const gbPerHour = (r: EngineLoadResult) => (r.bytesPerReport === null ? '-' : `${((r.bytesPerReport * reportsPerHour(r.agents)) / 1e9).toFixed(2)} GB`);
  const row = (label: string, pick: (r: EngineLoadResult) => number | null, show: (x: number | null) => string) =>
    `| ${label} | ${show(pick(sqlite))} | ${show(pick(postgres))} | ${ratio(pick(postgres), pick(sqlite))} |`;
  const within = (pick: (r: EngineLoadResult) => number | null) => {
    const a = pick(postgres);
    const b = pick(sqlite);
    return a !== null && b !== null && a <= 2 * b;
  };
  const under = (r: EngineLoadResult, pick: (r: EngineLoadResult) => number | null, limit: number) => (pick(r) ?? Infinity) < limit;
  return `## Store engines side by side: SQLite and PostgreSQL (issue 16)

${sqlite.agents.toLocaleString('en')} load agents reporting every ${sqlite.intervalMs / 1000} s for ${sqlite.durationMs / 1000} s, the comparison API (the whole
fleet, 1 h) read every ${sqlite.apiEveryMs / 1000} s meanwhile: on one hub with the embedded SQLite store, and split over ${postgres.replicas} hub
replicas on one PostgreSQL database (Debian's server on loopback, each replica with its own load process). One run
each, on the same machine, one after the other. The machine that day: ${machine}.

| metric | SQLite, 1 hub | PostgreSQL, ${postgres.replicas} replicas | PostgreSQL / SQLite |
|---|---|---|---|
${[
  row('agents connected', (r) => r.connected, (x) => String(x)),
  row('reports acknowledged per second', (r) => r.reportsPerSecond, (x) => String(x)),
  row('ack latency p50 (worst load process)', (r) => r.ackP50Ms, ms),
  row('ack latency p99 (worst load process)', (r) => r.ackP99Ms, ms),
  row('ack latency p99 after the first interval (the connection storm and each agent\'s first report left out)', (r) => r.ackP99SteadyMs, ms),
  row('comparison API p95, while ingesting', (r) => r.comparisonP95Ms, ms),
  row('comparison API p95, after the load', (r) => r.comparisonP95IdleMs, ms),
  row('hub RSS, peak (largest process)', (r) => r.hubRssPeakBytes, mib),
  row('hub CPU, mean (all hub processes, % of one core)', (r) => r.hubCpuPercentMean, (x) => percent(x)),
  row('store growth per report', (r) => r.bytesPerReport, (x) => (x === null ? '-' : `${Math.round(x)} B`)),
].join('\n')}
| store growth per hour, ${sqlite.agents.toLocaleString('en')} agents at 15 s (raw rows: kept 6 h, then only their rollups) | ${gbPerHour(sqlite)} | ${gbPerHour(postgres)} | |

Goals: ack p99 under 50 ms with the API being read — the whole run: SQLite ${verdict(under(sqlite, (r) => r.ackP99Ms, 50))}, PostgreSQL ${verdict(under(postgres, (r) => r.ackP99Ms, 50))};
after the first interval: SQLite ${verdict(under(sqlite, (r) => r.ackP99SteadyMs, 50))}, PostgreSQL ${verdict(under(postgres, (r) => r.ackP99SteadyMs, 50))};
PostgreSQL within 2× of SQLite on acks, API, memory — ${verdict(within((r) => r.ackP99Ms) && within((r) => r.comparisonP95Ms) && within((r) => r.hubRssPeakBytes))}.
`;
}
