// Hub store scale: a store holding a fleet's day (filled through the store's own ingest), served by a real
// hub process; the comparison API and the page's other reads timed over it.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pidusage from 'pidusage';
import { fillStore } from './store-fill.js';
import { measurePageRender } from './page-render.js';
import { percentile, startHubProcess, timeGet } from './hub-process.js';
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

/** One run: a fresh hub process over the store, each query `samples` times (after one warm-up). */
export async function measureStore(dir: string, dataDir: string, hosts: number, samples = 40): Promise<StoreScaleRun> {
  const hub = await startHubProcess(dir, dataDir);
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
    const page = await measurePageRender(hub.base, hosts);
    return { p95Ms, hubRssBytes: memory, pageRenderMs: percentile(page.loadsMs, 50), pageRows: page.rows };
  } finally {
    await hub.stop();
  }
}

/** The BENCHMARKS.md section: each endpoint's p95, the hub's memory, the page's first render, the goals. */
export function storeSection(fill: StoreScaleFill, runs: readonly StoreScaleRun[]): string {
  const rows = Object.keys(STORE_QUERIES)
    .map((label) => `| ${label} | \`${STORE_QUERIES[label]}\` | ${ms(median(runs.map((r) => r.p95Ms[label] ?? null)))} | ${runs.map((r) => ms(r.p95Ms[label] ?? null)).join(', ')} |`)
    .join('\n');
  const comparison24 = median(runs.map((r) => r.p95Ms['comparison 24h'] ?? null));
  const pageRender = median(runs.map((r) => r.pageRenderMs));
  const hosts = fill.hosts.toLocaleString('en');
  return `## Hub store: ${fill.hours} hours of ${hosts} hosts

${fill.reports.toLocaleString('en')} reports (${hosts} hosts every 15 s for ${fill.hours} h) written through the store's own
ingest with maintenance every 5 simulated minutes, as a hub would have written them: ${fill.fillSeconds.toFixed(0)} s to
fill, ${mib(fill.diskBytes)} on disk (raw rows kept 6 h, 5-minute rollups beyond). Then a fresh \`phoenix-hub\`
process serves it and each endpoint is requested 40 times in a row (after one warm-up); p95 per run.

| endpoint | request | p95 (median of runs) | runs |
|---|---|---|---|
${rows}
| hub RSS after the queries | | ${mib(median(runs.map((r) => r.hubRssBytes)))} | ${runs.map((r) => mib(r.hubRssBytes)).join(', ')} |
| the page's first render in Chromium | navigation → summary, verdict and all ${hosts} host rows on screen (median of 5 loads, fresh context each) | ${ms(pageRender)} | ${runs.map((r) => ms(r.pageRenderMs)).join(', ')} |

Goals (issue 6): comparison p95 under 50 ms at 1,000 hosts × 24 h — ${verdict(comparison24 !== null && comparison24 < 50)} (${ms(comparison24)}); the page's first render under 2 s — ${verdict(pageRender !== null && pageRender < 2000)} (${ms(pageRender)}).
`;
}
