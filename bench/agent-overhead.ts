// Agent overhead bench (issue 6, part 2): a real agent process supervising two real collectors over a host
// with N simulated processes; the agent's and each collector's CPU and RSS sampled with pidusage.
import { setTimeout as delay } from 'node:timers/promises';
import pidusage from 'pidusage';
import { silentLogger } from '../common/logger.js';
import { startSimulator } from '../tools/simulator/simulator.js';
import { cpuSeconds, machineTicks, busyPercent } from './proc-cpu.js';
import { BENCH_CRITICAL_NAMES, startAgentProcess, type AgentStop } from './agent-process.js';
import { fmt, median, medianRow, summarizeUsage, type UsageSummary } from './stats.js';

export const AGENT_CPU_GOAL_PERCENT = 1;
export const DEFAULT_WARM_UP_MS = 120_000;
export const AGENT_RSS_GOAL_BYTES = 90e6;
/** The agent should cost less than this share of either collector's CPU. */
export const AGENT_TO_COLLECTOR_CPU_GOAL = 1 / 3;

export interface AgentOverheadOptions {
  /** How long to sample, after the warm-up. */
  durationMs: number;
  /**
   * After both collectors run and the agent's first report, how long to wait before sampling (default 2 min,
   * eight rounds): V8 compiles the agent's hot code over its first rounds, a cost paid once per start, not by
   * an agent that has run for days.
   */
  warmUpMs?: number;
  /** Simulated processes (critical ones included). */
  processes: number;
  variants?: [string, string];
  sampleEveryMs?: number;
  /** Writes a V8 CPU profile of the agent process into this directory (node --cpu-prof); the profiler's own thread inflates the agent's CPU. */
  cpuProfileDir?: string;
  /** Aborting it ends the run early with a rejection, after stopping the agent and the simulator. */
  signal?: AbortSignal;
}

export interface CollectorUsage extends UsageSummary {
  variant: string;
  /** Every pid the variant had while sampled (more than one means it restarted). */
  pids: number[];
}

export interface AgentOverheadResult {
  processes: number;
  /** The host's process count in the agent's reports while sampled (the simulator's, the machine's own, the agent's). */
  hostProcesses: { min: number | null; max: number | null };
  /** The whole machine's CPU use while sampled, % of all its cores (/proc/stat): other work makes every figure noisier. */
  machineBusyPercent: number | null;
  durationMs: number;
  warmUpMs: number;
  sampleEveryMs: number;
  /** The agent ran under the V8 profiler, whose thread inflates its CPU: not a measurement of overhead. */
  profiled: boolean;
  /** Reports the agent printed while sampled. */
  reports: number;
  agent: UsageSummary & {
    /** CPU including the child processes it ran and reaped (/proc cutime + cstime): a listing through `ps` would show here. */
    cpuPercentWithChildrenMean: number | null;
  };
  collectors: [CollectorUsage, CollectorUsage];
  stop: AgentStop;
  goals: { agentCpu: boolean; agentRss: boolean; agentVsCollectors: boolean };
}

export async function runAgentOverhead(options: AgentOverheadOptions): Promise<AgentOverheadResult> {
  const every = options.sampleEveryMs ?? 5000;
  const warmUpMs = options.warmUpMs ?? DEFAULT_WARM_UP_MS;
  const variants = options.variants ?? ['baseline', 'optimized-a'];
  const signal = options.signal ?? new AbortController().signal;
  const simulator = await startSimulator({ count: options.processes, criticalNames: BENCH_CRITICAL_NAMES, namePrefix: 'phx-bench', logger: silentLogger(), signal });
  try {
    const agent = await startAgentProcess({
      variants,
      signal,
      ...(options.cpuProfileDir ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] } : {}),
    });
    let stop: AgentStop | undefined;
    try {
      await agent.waitReady();
      // Warm-up: both collectors have scraped, the agent has measured once and then for warmUpMs more.
      await agent.reportAfter(0);
      await delay(warmUpMs, undefined, { signal });
      const reportsBefore = agent.reports.length;

      const agentCpu: number[] = [];
      const agentRss: number[] = [];
      const perVariant = new Map(variants.map((v) => [v, { cpu: [] as number[], rss: [] as number[], pids: new Set<number>() }]));
      const primed = new Set<number>();
      const started = Date.now();
      const before = cpuSeconds(agent.pid);
      const machineBefore = machineTicks();
      let tick = 0;
      for (;;) {
        const pids = agent.collectorPids();
        const all = [agent.pid, ...pids.values()];
        const stats = await pidusage(all, { maxage: every * 4 });
        // pidusage's first reading of a pid covers no real interval: it only primes the next one.
        const fresh = (pid: number) => {
          if (primed.has(pid)) return stats[pid] ?? null;
          primed.add(pid);
          return null;
        };
        const a = fresh(agent.pid);
        if (a) {
          agentCpu.push(a.cpu);
          agentRss.push(a.memory);
        }
        for (const [variant, pid] of pids) {
          const usage = perVariant.get(variant);
          const stat = fresh(pid);
          if (!usage || !stat) continue;
          usage.pids.add(pid);
          usage.cpu.push(stat.cpu);
          usage.rss.push(stat.memory);
        }
        if (Date.now() - started >= options.durationMs) break;
        tick += 1;
        await delay(Math.max(0, started + tick * every - Date.now()), undefined, { signal });
      }
      const elapsedS = (Date.now() - started) / 1000;
      const after = cpuSeconds(agent.pid);
      const machineAfter = machineTicks();
      const sampled = agent.reports.slice(reportsBefore);
      const counts = sampled.map((r) => r.host.processCount);
      pidusage.clear();
      stop = await agent.stop();

      const collectors = variants.map((variant) => {
        const u = perVariant.get(variant)!;
        return { variant, pids: [...u.pids], ...summarizeUsage(u.cpu, u.rss) };
      }) as [CollectorUsage, CollectorUsage];
      const agentUsage = {
        ...summarizeUsage(agentCpu, agentRss),
        cpuPercentWithChildrenMean: ((after.self + after.children - before.self - before.children) / elapsedS) * 100,
      };
      const mean = agentUsage.cpuPercentMean ?? Infinity;
      return {
        processes: options.processes,
        hostProcesses: { min: counts.length ? Math.min(...counts) : null, max: counts.length ? Math.max(...counts) : null },
        machineBusyPercent: busyPercent(machineBefore, machineAfter),
        durationMs: options.durationMs,
        warmUpMs,
        sampleEveryMs: every,
        profiled: options.cpuProfileDir !== undefined,
        reports: sampled.length,
        agent: agentUsage,
        collectors,
        stop,
        goals: {
          agentCpu: mean < AGENT_CPU_GOAL_PERCENT,
          agentRss: (agentUsage.rssBytesPeak ?? Infinity) < AGENT_RSS_GOAL_BYTES,
          agentVsCollectors: collectors.every((c) => mean < (c.cpuPercentMean ?? 0) * AGENT_TO_COLLECTOR_CPU_GOAL),
        },
      };
    } finally {
      // After an error above: still stop the agent, and say so if it left a collector behind.
      if (!stop) {
        const late = await agent.stop();
        if (late.collectorsLeft.length > 0) process.stderr.write(`agent overhead: collectors ${late.collectorsLeft.join(', ')} outlived the agent (killed)\n`);
      }
    }
  } finally {
    pidusage.clear();
    await simulator.close();
  }
}

const verdict = (met: boolean) => (met ? 'met' : '**not met**');

/** Markdown for one or more runs of the same settings: the median of the runs, then each run. */
export function renderAgentOverhead(runs: readonly AgentOverheadResult[]): string {
  const first = runs[0];
  if (!first) return '## Agent overhead\n\nNo runs.\n';
  const [a, b] = first.collectors;
  const pct = (x: number | null) => fmt.pct(x);
  const row = (label: string, pick: (r: AgentOverheadResult) => number | null, show: (x: number | null) => string) => medianRow(label, runs, pick, show);
  const ratio = (i: 0 | 1) => (r: AgentOverheadResult) =>
    r.agent.cpuPercentMean === null || !r.collectors[i].cpuPercentMean ? null : r.agent.cpuPercentMean / r.collectors[i].cpuPercentMean!;
  const cpuMean = median(runs.map((r) => r.agent.cpuPercentMean));
  const rssPeak = median(runs.map((r) => r.agent.rssBytesPeak));
  const ratios = [0, 1].map((i) => median(runs.map(ratio(i as 0 | 1))));
  const left = runs.flatMap((r) => r.stop.collectorsLeft);
  const stops = runs.map((r) => `exit ${r.stop.code ?? r.stop.signal}${r.stop.forced ? ' (forced)' : ''}`).join(', ');
  return `## Agent overhead

A real \`phoenix-agent run --json\` process (default intervals: measurement every 15 s, collectors scraping every
10 s) comparing ${a.variant} vs ${b.variant} over a host with ${first.processes} simulated processes (${BENCH_CRITICAL_NAMES.length} named like
critical daemons) besides the machine's own. After both collectors run, the agent's first report and a warm-up of
${(first.warmUpMs / 60_000).toFixed(1)} min (V8 compiles the agent's hot code over its first rounds: paid once per start), the agent's
and each collector's CPU (% of one core) and RSS are sampled with pidusage every ${first.sampleEveryMs / 1000} s for
${(first.durationMs / 60_000).toFixed(1)} min; then the agent gets SIGTERM and every collector pid is checked.

| metric | median | runs |
|---|---|---|
${[
  row('host processes, fewest while sampled', (r) => r.hostProcesses.min, fmt.int),
  row('host processes, most while sampled', (r) => r.hostProcesses.max, fmt.int),
  row('whole machine busy (% of all cores; other work included)', (r) => r.machineBusyPercent, (x) => fmt.pct(x, 0)),
  row('agent CPU, mean', (r) => r.agent.cpuPercentMean, pct),
  row('agent CPU, p95 of 5 s samples', (r) => r.agent.cpuPercentP95, pct),
  row('agent CPU with the child processes it ran, mean', (r) => r.agent.cpuPercentWithChildrenMean, pct),
  row('agent RSS, peak', (r) => r.agent.rssBytesPeak, fmt.mib),
  row('agent RSS, mean', (r) => r.agent.rssBytesMean, fmt.mib),
  ...[0, 1].flatMap((i) => {
    const name = first.collectors[i]!.variant;
    return [
      row(`collector ${name}: CPU, mean`, (r) => r.collectors[i]!.cpuPercentMean, pct),
      row(`collector ${name}: CPU, p95`, (r) => r.collectors[i]!.cpuPercentP95, pct),
      row(`collector ${name}: RSS, peak`, (r) => r.collectors[i]!.rssBytesPeak, fmt.mib),
      row(`collector ${name}: RSS, mean`, (r) => r.collectors[i]!.rssBytesMean, fmt.mib),
      row(`agent CPU ÷ ${name} CPU`, ratio(i as 0 | 1), (x) => (x === null ? 'n/a' : x.toFixed(2))),
    ];
  }),
  row('reports while sampled', (r) => r.reports, fmt.int),
].join('\n')}

${runs.some((r) => r.profiled) ? '**Profiled run (node --cpu-prof): the profiler\'s thread inflates the agent\'s CPU; do not read these as its overhead.**\n\n' : ''}Stop: ${stops}; collectors left running after the agent exited: ${left.length === 0 ? 'none' : left.join(', ')}.

Goals (issue 6), on the medians:
- agent CPU under ${AGENT_CPU_GOAL_PERCENT}% of a core on average — ${verdict(cpuMean !== null && cpuMean < AGENT_CPU_GOAL_PERCENT)} (${pct(cpuMean)}).
- agent RSS under 90 MB — ${verdict(rssPeak !== null && rssPeak < AGENT_RSS_GOAL_BYTES)} (peak ${rssPeak === null ? 'n/a' : `${(rssPeak / 1e6).toFixed(1)} MB`}).
- agent CPU under a third of either collector's — ${verdict(ratios.every((x) => x !== null && x < AGENT_TO_COLLECTOR_CPU_GOAL))} (${ratios.map((x) => (x === null ? 'n/a' : x.toFixed(2))).join(' and ')} of ${a.variant}'s and ${b.variant}'s).
`;
}
