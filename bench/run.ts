#!/usr/bin/env node
// `npm run bench`: runs each benchmark three times and rewrites BENCHMARKS.md with medians.
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { packageRoot } from '../agent/paths.js';
import { runHubLoad, type HubLoadResult } from './hub-load.js';

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

The window holds at most 30 s × 1,000 hosts of raw samples here; the 24-hour store and 10,000-agent
figures belong to the scale benchmarks of issue 6.
`;
await writeFile(path.join(packageRoot(), 'BENCHMARKS.md'), text);
process.stderr.write(text);
