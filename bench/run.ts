#!/usr/bin/env node
// `npm run bench`: runs each benchmark three times and rewrites BENCHMARKS.md with medians.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../agent/paths.js';
import { runHubLoad, type HubLoadResult } from './hub-load.js';
import { measureStore, prepareStore, STORE_QUERIES, type StoreScaleRun } from './store-scale.js';

const RUNS = 3;
const median = (values: (number | null)[]) => {
  const v = values.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.floor(v.length / 2)]!;
};
const ms = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(1)} ms`);
const mib = (x: number | null) => (x === null ? 'n/a' : `${(x / 2 ** 20).toFixed(0)} MiB`);

const hubRuns: HubLoadResult[] = [];
for (let i = 1; i <= RUNS; i++) {
  process.stderr.write(`hub load: run ${i}/${RUNS} (1,000 agents, a report each per second for 30 s)\n`);
  hubRuns.push(await runHubLoad(1000, 1000, 30_000));
}
const m = (key: keyof HubLoadResult) => median(hubRuns.map((r) => r[key] as number | null));

const STORE_HOSTS = 1000;
const STORE_HOURS = 24;
process.stderr.write(`hub store: filling ${STORE_HOURS} h of ${STORE_HOSTS} hosts reporting every 15 s through the store's ingest\n`);
let shown = -1;
const store = await prepareStore(STORE_HOSTS, STORE_HOURS, (share) => {
  const tenth = Math.floor(share * 10);
  if (tenth !== shown) process.stderr.write(`  ${(shown = tenth) * 10}%\n`);
});
const storeRuns: StoreScaleRun[] = [];
try {
  for (let i = 1; i <= RUNS; i++) {
    process.stderr.write(`hub store: run ${i}/${RUNS} (a fresh hub process; each query 40 times)\n`);
    storeRuns.push(await measureStore(store.dir, store.dataDir));
  }
} finally {
  await store.remove();
}
const storeRows = Object.keys(STORE_QUERIES)
  .map((label) => `| ${label} | \`${STORE_QUERIES[label]}\` | ${ms(median(storeRuns.map((r) => r.p95Ms[label] ?? null)))} | ${storeRuns.map((r) => ms(r.p95Ms[label] ?? null)).join(', ')} |`)
  .join('\n');
const comparison24 = median(storeRuns.map((r) => r.p95Ms['comparison 24h'] ?? null));

const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
const text = `# Benchmarks

Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Machine: ${machine}.
Every figure is the median of ${RUNS} runs. Benchmarks are not run by the test suite.

## Hub under 1,000 agents

A real \`phoenix-hub\` process; a separate load process opens 1,000 real WebSocket connections on
loopback and each agent sends a report every second (15× the default 15 s interval) for 30 s. While it
ingests, the comparison API (\`/api/v1/comparison?window=1h\`, the whole fleet) is timed every 200 ms
and the hub's memory and CPU are sampled every second (pidusage).

| metric | median | runs |
|---|---|---|
| agents connected | ${m('agents')} | ${hubRuns.map((r) => r.agents).join(', ')} |
| reports acknowledged per second | ${m('reportsPerSecond')} | ${hubRuns.map((r) => r.reportsPerSecond).join(', ')} |
| ack latency p50 | ${ms(m('ackP50Ms'))} | ${hubRuns.map((r) => ms(r.ackP50Ms)).join(', ')} |
| ack latency p99 | ${ms(m('ackP99Ms'))} | ${hubRuns.map((r) => ms(r.ackP99Ms)).join(', ')} |
| comparison API p95, while ingesting | ${ms(m('comparisonP95Ms'))} | ${hubRuns.map((r) => ms(r.comparisonP95Ms)).join(', ')} |
| comparison API p95, after the load | ${ms(m('comparisonP95IdleMs'))} | ${hubRuns.map((r) => ms(r.comparisonP95IdleMs)).join(', ')} |
| hub RSS, peak | ${mib(m('hubRssPeakBytes'))} | ${hubRuns.map((r) => mib(r.hubRssPeakBytes)).join(', ')} |
| hub CPU, mean (% of one core) | ${m('hubCpuPercentMean')?.toFixed(0)}% | ${hubRuns.map((r) => `${r.hubCpuPercentMean.toFixed(0)}%`).join(', ')} |

The window holds at most 30 s × 1,000 hosts of raw samples here.

## Hub store: ${STORE_HOURS} hours of ${STORE_HOSTS.toLocaleString('en')} hosts

${store.fill.reports.toLocaleString('en')} reports (${STORE_HOSTS.toLocaleString('en')} hosts every 15 s for ${STORE_HOURS} h) written through the store's own
ingest with maintenance every 5 simulated minutes, as a hub would have written them: ${store.fill.fillSeconds.toFixed(0)} s to
fill, ${mib(store.fill.diskBytes)} on disk (raw rows kept 6 h, 5-minute rollups beyond). Then a fresh \`phoenix-hub\`
process serves it and each endpoint is requested 40 times in a row (after one warm-up); p95 per run.

| endpoint | request | p95 (median of runs) | runs |
|---|---|---|---|
${storeRows}
| hub RSS after the queries | | ${mib(median(storeRuns.map((r) => r.hubRssBytes)))} | ${storeRuns.map((r) => mib(r.hubRssBytes)).join(', ')} |

Goal (issue 6): comparison p95 under 50 ms at 1,000 hosts × 24 h — ${comparison24 !== null && comparison24 < 50 ? 'met' : 'not met'} (${ms(comparison24)}).
`;
await writeFile(path.join(packageRoot(), 'BENCHMARKS.md'), text);
process.stderr.write(text);
