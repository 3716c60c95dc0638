// Hub scale bench: a real hub process, N simulated agents from a separate load process, the comparison
// API timed while it ingests, and the hub's memory sampled throughout.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import pidusage from 'pidusage';
import { BENCH_TOKEN, percentile, startHubProcess, timeGet } from './hub-process.js';
import { startLoadAgents } from './load-process.js';
import { median, mib, ms, percent, verdict } from './stats.js';

export interface HubLoadResult {
  agents: number;
  reports: number;
  reportsPerSecond: number;
  ackP50Ms: number | null;
  ackP99Ms: number | null;
  comparisonP95Ms: number | null;
  comparisonP95IdleMs: number | null;
  hubRssPeakBytes: number;
  hubCpuPercentMean: number;
}

export interface HubLoadOptions {
  agents: number;
  /** Each agent reports this often. */
  intervalMs: number;
  durationMs: number;
  /** The comparison API is requested this often while the load runs (0: not at all). */
  apiEveryMs: number;
}

export async function runHubLoad({ agents, intervalMs, durationMs, apiEveryMs }: HubLoadOptions): Promise<HubLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-bench-hub-'));
  const hubProcess = await startHubProcess(dir, path.join(dir, 'data'));
  const hub = hubProcess.child;
  const { port, base } = hubProcess;
  try {
    const load = startLoadAgents({ url: `ws://127.0.0.1:${port}/ws/agent`, token: BENCH_TOKEN, agents, intervalMs, durationMs });
    let running = true;
    void load.result.then(() => (running = false), () => (running = false));

    const comparisonTimes: number[] = [];
    const rss: number[] = [];
    const cpu: number[] = [];
    let lastSample = 0;
    await pidusage(hub.pid!); // prime
    let lastApi = 0;
    while (running) {
      if (apiEveryMs > 0 && Date.now() - lastApi >= apiEveryMs) {
        lastApi = Date.now();
        comparisonTimes.push(await timeGet(`${base}/api/v1/comparison?window=1h`));
      }
      if (Date.now() - lastSample >= 1000) {
        lastSample = Date.now();
        const stat = await pidusage(hub.pid!);
        rss.push(stat.memory);
        cpu.push(stat.cpu);
      }
      await delay(50);
    }
    const result = await load.result;
    const idle: number[] = [];
    for (let i = 0; i < 40; i++) idle.push(await timeGet(`${base}/api/v1/comparison?window=1h`));
    pidusage.clear();
    return {
      agents: result.agents,
      reports: result.acked,
      reportsPerSecond: Math.round(result.acked / result.seconds),
      ackP50Ms: result.ackP50,
      ackP99Ms: result.ackP99,
      comparisonP95Ms: percentile(comparisonTimes, 95),
      comparisonP95IdleMs: percentile(idle, 95),
      hubRssPeakBytes: Math.max(...rss),
      hubCpuPercentMean: cpu.reduce((a, b) => a + b, 0) / Math.max(1, cpu.length),
    };
  } finally {
    await hubProcess.stop();
    await rm(dir, { recursive: true, force: true });
  }
}


/** The BENCHMARKS.md section for one load: medians of the runs, each run's figure beside them, the goals. */
export function hubLoadSection(load: HubLoadOptions & { note: string }, runs: HubLoadResult[]): string {
  const m = (key: keyof HubLoadResult) => median(runs.map((r) => r[key] as number | null));
  const row = (label: string, key: keyof HubLoadResult, show: (x: number | null) => string) => `| ${label} | ${show(m(key))} | ${runs.map((r) => show(r[key] as number | null)).join(', ')} |`;
  const ackP99 = m('ackP99Ms');
  const connected = m('agents');
  const title = `Hub under ${load.agents.toLocaleString('en')} agents${load.apiEveryMs > 0 ? ', the API read meanwhile' : ', ingest alone'}`;
  return `## ${title}

A real \`phoenix-hub\` process; a separate load process opens ${load.agents.toLocaleString('en')} real WebSocket connections on
loopback; ${load.note}. The hub's memory and CPU are sampled every second (pidusage).

| metric | median | runs |
|---|---|---|
${[
  row('agents connected', 'agents', (x) => String(x)),
  row('reports acknowledged per second', 'reportsPerSecond', (x) => String(x)),
  row('ack latency p50', 'ackP50Ms', ms),
  row('ack latency p99', 'ackP99Ms', ms),
  row('comparison API p95, while ingesting', 'comparisonP95Ms', ms),
  row('comparison API p95, after the load', 'comparisonP95IdleMs', ms),
  row('hub RSS, peak', 'hubRssPeakBytes', mib),
  row('hub CPU, mean (% of one core)', 'hubCpuPercentMean', (x) => percent(x)),
].join('\n')}

Goals (issue 6): every agent connected — ${verdict(connected === load.agents)} (${connected}); ack p99 under 100 ms — ${verdict(ackP99 !== null && ackP99 < 100)} (${ms(ackP99)}).
`;
}
