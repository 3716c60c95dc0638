// Hub store scale: a store holding a fleet's day (filled through the store's own ingest), served by a real
// hub process; the comparison API and the page's other reads timed over it.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pidusage from 'pidusage';
import { fillStore } from './store-fill.js';
import { measurePageRender } from './page-render.js';
import { BENCH_ADMIN_TOKEN, percentile, startHubProcess, timeGet } from './hub-process.js';
import { median, mib, ms, verdict } from './stats.js';

export interface StoreScaleFill {
  hosts: number;
  hours: number;
  reports: number;
  fillSeconds: number;
  /** hub.db plus its WAL. */
  diskBytes: number;
}

export interface StoreScaleRun {
  /** p95 per endpoint label (e.g. "comparison 24h"). */
  p95Ms: Record<string, number | null>;
  hubRssBytes: number;
  /** The page's first render in Chromium, median of its loads. */
  pageRenderMs: number | null;
  pageRows: number;
}

export const STORE_QUERIES: Record<string, string> = {
  'comparison 1h': '/api/v1/comparison?window=1h',
  'comparison 24h': '/api/v1/comparison?window=24h',
  'comparison 24h by label': '/api/v1/comparison?window=24h&groupBy=label:team',
  'fleet': '/api/v1/fleet',
  'fleet history 24h': '/api/v1/fleet/history?window=24h',
  'host history 24h': '/api/v1/hosts/host-7?window=24h',
};

/** Fills a store in a temp dir; returns it with a function that removes it. */
export async function prepareStore(hosts: number, hours: number, progress?: (share: number) => void): Promise<{ dir: string; dataDir: string; fill: StoreScaleFill; remove(): Promise<void> }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-bench-store-'));
  const dataDir = path.join(dir, 'data');
  const result = fillStore(path.join(dataDir, 'hub.db'), hosts, hours * 3_600_000, 15_000, Date.now(), progress);
  let diskBytes = 0;
  for (const name of ['hub.db', 'hub.db-wal']) diskBytes += (await stat(path.join(dataDir, name)).catch(() => ({ size: 0 }))).size;
  return {
    dir,
    dataDir,
    fill: { hosts, hours, reports: result.reports, fillSeconds: result.elapsedMs / 1000, diskBytes },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** One run: a fresh hub process over the store (`store`: a PostgreSQL URL instead of dataDir's), each query `samples` times (after one warm-up). */
export async function measureStore(dir: string, dataDir: string, hosts: number, samples = 40, store?: string): Promise<StoreScaleRun> {
  const hub = await startHubProcess(dir, dataDir, store ? { store } : {});
  try {
    const p95Ms: Record<string, number | null> = {};
    for (const [label, query] of Object.entries(STORE_QUERIES)) {
      await timeGet(`${hub.base}${query}`);
      const times: number[] = [];
      for (let i = 0; i < samples; i++) times.push(await timeGet(`${hub.base}${query}`));
      p95Ms[label] = percentile(times, 95);
    }
    const { memory } = await pidusage(hub.child.pid!);
    pidusage.clear();
    const page = await measurePageRender(hub.base, hosts, BENCH_ADMIN_TOKEN);
    return { p95Ms, hubRssBytes: memory, pageRenderMs: percentile(page.loadsMs, 50), pageRows: page.rows };
  } finally {
    await hub.stop();
  }
}

/** The same day copied into PostgreSQL (bench/store-copy.ts) and served by a hub on it. */
export interface StoreScalePostgres {
  copySeconds: number;
  databaseBytes: number;
  runs: StoreScaleRun[];
}

/** The BENCHMARKS.md section: each endpoint's p95 on SQLite and on PostgreSQL, the hub's memory, the page's first render, the goals. */
export function storeSection(fill: StoreScaleFill, runs: readonly StoreScaleRun[], postgres: StoreScalePostgres): string {
  const pgRuns = postgres.runs;
  const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? '-' : `${(a / b).toFixed(2)}×`);
  const row = (label: string, request: string, pick: (r: StoreScaleRun) => number | null, show: (x: number | null) => string) => {
    const [a, b] = [median(runs.map(pick)), median(pgRuns.map(pick))];
    return `| ${label} | ${request} | ${show(a)} | ${show(b)} | ${ratio(b, a)} | ${runs.map((r) => show(pick(r))).join(', ')}; ${pgRuns.map((r) => show(pick(r))).join(', ')} |`;
  };
  const rows = Object.keys(STORE_QUERIES).map((label) => row(label, `\`${STORE_QUERIES[label]}\``, (r) => r.p95Ms[label] ?? null, ms));
  const comparison24 = median(runs.map((r) => r.p95Ms['comparison 24h'] ?? null));
  const comparison24pg = median(pgRuns.map((r) => r.p95Ms['comparison 24h'] ?? null));
  const pageRender = median(runs.map((r) => r.pageRenderMs));
  const pageRenderPg = median(pgRuns.map((r) => r.pageRenderMs));
  const within = Object.keys(STORE_QUERIES).every((label) => {
    const [a, b] = [median(runs.map((r) => r.p95Ms[label] ?? null)), median(pgRuns.map((r) => r.p95Ms[label] ?? null))];
    return a !== null && b !== null && b <= 2 * a;
  });
  const hosts = fill.hosts.toLocaleString('en');
  return `## Hub store: ${fill.hours} hours of ${hosts} hosts, on SQLite and on PostgreSQL

${fill.reports.toLocaleString('en')} reports (${hosts} hosts every 15 s for ${fill.hours} h, each with the loss figures and host truth a current agent sends) written through the SQLite store's own
ingest with maintenance every 5 simulated minutes, as a hub would have written them: ${fill.fillSeconds.toFixed(0)} s to
fill, ${mib(fill.diskBytes)} on disk (raw rows kept 6 h, 5-minute rollups beyond). The same rows then copied into a
PostgreSQL database (Debian's server on loopback; bench/store-copy.ts, ${postgres.copySeconds.toFixed(0)} s; then VACUUM ANALYZE):
${mib(postgres.databaseBytes)} (pg_database_size). Then a fresh \`phoenix-hub\` process serves each store and each endpoint is
requested 40 times in a row (after one warm-up); p95 per run, ${runs.length} runs per engine.

| endpoint | request | SQLite p95 (median of runs) | PostgreSQL p95 (median of runs) | PostgreSQL / SQLite | runs (SQLite; PostgreSQL) |
|---|---|---|---|---|---|
${rows.join('\n')}
${row('hub RSS after the queries', '', (r) => r.hubRssBytes, mib)}
${row("the page's first render in Chromium", `navigation → summary, verdict and all ${hosts} host rows on screen (median of 5 loads, fresh context each)`, (r) => r.pageRenderMs, ms)}
| the store, a day of ${hosts} hosts | | ${mib(fill.diskBytes)} | ${mib(postgres.databaseBytes)} | ${ratio(postgres.databaseBytes, fill.diskBytes)} | |

Goals: comparison p95 under 50 ms at 1,000 hosts × 24 h (issues 6 and 16) — SQLite ${verdict(comparison24 !== null && comparison24 < 50)} (${ms(comparison24)}), PostgreSQL ${verdict(comparison24pg !== null && comparison24pg < 50)} (${ms(comparison24pg)});
the page's first render under 2 s — SQLite ${verdict(pageRender !== null && pageRender < 2000)} (${ms(pageRender)}), PostgreSQL ${verdict(pageRenderPg !== null && pageRenderPg < 2000)} (${ms(pageRenderPg)});
PostgreSQL within 2× of SQLite on every endpoint — ${verdict(within)}.
`;
}
