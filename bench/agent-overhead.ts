// Agent overhead bench (issue 6, part 2; issue 15): a real agent process supervising two real collectors over a host
// with N simulated processes, its loss measurements on or off; the agent's and each collector's CPU and RSS sampled with pidusage.
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
/** Issue 15: the agent's CPU (% of one core) with its loss measurements on, by simulated process count. */
export const LOSS_CPU_GOAL_PERCENT: Readonly<Record<number, number>> = { 300: 0.5, 1000: 1 };

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
  /** The agent's `loss.enabled` (default true): false leaves out the loss measurements of issue 15. */
  loss?: boolean;
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
  /** The agent measured each variant's losses (issue 15), or critical retention only. */
  loss: boolean;
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
      loss: options.loss ?? true,
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
        loss: options.loss ?? true,
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

export interface AgentOverheadSetOptions extends Omit<AgentOverheadOptions, 'processes' | 'loss'> {
  /** Simulated process counts, each measured with every setting of `losses`. */
  sizes: readonly number[];
  /** The agent's loss measurements: on (true), off (false), or both. */
  losses: readonly boolean[];
  runs: number;
  /** One line before each run starts. */
  progress?: (line: string) => void;
}

/**
 * Each run measures every size with every loss setting, one agent at a time; which setting goes first alternates
 * from run to run, so that a drift of the machine's other work falls on both sides of the comparison.
 */
export function overheadPlan(sizes: readonly number[], losses: readonly boolean[], runs: number): { run: number; processes: number; loss: boolean }[] {
  const plan: { run: number; processes: number; loss: boolean }[] = [];
  for (let run = 1; run <= runs; run++) {
    const order = run % 2 === 1 ? losses : [...losses].reverse();
    for (const processes of sizes) for (const loss of order) plan.push({ run, processes, loss });
  }
  return plan;
}

export async function runAgentOverheadSet(options: AgentOverheadSetOptions): Promise<AgentOverheadResult[]> {
  const { sizes, losses, runs, progress, ...each } = options;
  const results: AgentOverheadResult[] = [];
  const warmUpMs = each.warmUpMs ?? DEFAULT_WARM_UP_MS;
  for (const step of overheadPlan(sizes, losses, runs)) {
    progress?.(
      `agent overhead: run ${step.run}/${runs}, ${step.processes} processes, loss measurements ${step.loss ? 'on' : 'off'} (${warmUpMs / 1000} s of warm-up, ${each.durationMs / 1000} s of samples)`,
    );
    results.push(await runAgentOverhead({ ...each, processes: step.processes, loss: step.loss }));
  }
  return results;
}

/** One size's runs with the loss measurements on and off, and what they add (issue 15). */
export interface LossSideBySide {
  processes: number;
  on: AgentOverheadResult[];
  off: AgentOverheadResult[];
  /** Median of the runs' agent CPU means, % of one core. */
  cpuOn: number | null;
  cpuOff: number | null;
  /** cpuOn ÷ cpuOff. */
  ratio: number | null;
  /** cpuOn − cpuOff: the loss measurements' own CPU, % of one core. */
  addedPercent: number | null;
  /** The goal for this size (LOSS_CPU_GOAL_PERCENT), or null when it has none. */
  goalPercent: number | null;
  /** cpuOn under the goal; null without a goal or without runs with the loss measurements on. */
  met: boolean | null;
}

/** The results by size (smallest first), each with its on and off runs side by side. */
export function lossSideBySide(results: readonly AgentOverheadResult[]): LossSideBySide[] {
  const sizes = [...new Set(results.map((r) => r.processes))].sort((x, y) => x - y);
  return sizes.map((processes) => {
    const on = results.filter((r) => r.processes === processes && r.loss);
    const off = results.filter((r) => r.processes === processes && !r.loss);
    const cpuOn = median(on.map((r) => r.agent.cpuPercentMean));
    const cpuOff = median(off.map((r) => r.agent.cpuPercentMean));
    const goalPercent = LOSS_CPU_GOAL_PERCENT[processes] ?? null;
    return {
      processes,
      on,
      off,
      cpuOn,
      cpuOff,
      ratio: cpuOn === null || !cpuOff ? null : cpuOn / cpuOff,
      addedPercent: cpuOn === null || cpuOff === null ? null : cpuOn - cpuOff,
      goalPercent,
      met: goalPercent === null || cpuOn === null ? null : cpuOn < goalPercent,
    };
  });
}

const verdict = (met: boolean) => (met ? 'met' : '**not met**');
const cell = (runs: readonly AgentOverheadResult[], pick: (r: AgentOverheadResult) => number | null, show: (x: number | null) => string) =>
  runs.length === 0 ? '–' : `${show(median(runs.map(pick)))} (${runs.map((r) => show(pick(r))).join(', ')})`;
const times = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}×`);
const signedPct = (x: number | null) => (x === null ? 'n/a' : `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}% of a core`);
const span = (values: readonly (number | null)[], show: (x: number | null) => string) => {
  const v = values.filter((x): x is number => x !== null);
  return v.length === 0 ? 'n/a' : `${show(Math.min(...v))}–${show(Math.max(...v))}`;
};

/** The side-by-side table of issue 15: per size, the agent with its loss measurements on and off, and its goals. */
export function renderLossSideBySide(results: readonly AgentOverheadResult[]): string {
  const sides = lossSideBySide(results);
  const rows: string[] = [];
  for (const s of sides) {
    const row = (label: string, pick: (r: AgentOverheadResult) => number | null, show: (x: number | null) => string, ratio = false) => {
      const on = median(s.on.map(pick));
      const off = median(s.off.map(pick));
      return `| ${fmt.int(s.processes)} | ${label} | ${cell(s.on, pick, show)} | ${cell(s.off, pick, show)} | ${ratio ? times(on === null || !off ? null : on / off) : '–'} |`;
    };
    rows.push(
      row('host processes, most while sampled', (r) => r.hostProcesses.max, fmt.int),
      row('whole machine busy (% of all cores; other work included)', (r) => r.machineBusyPercent, (x) => fmt.pct(x, 0)),
      row('agent CPU, mean', (r) => r.agent.cpuPercentMean, fmt.pct, true),
      row('agent CPU, p95 of 5 s samples', (r) => r.agent.cpuPercentP95, fmt.pct, true),
      row('agent RSS, peak', (r) => r.agent.rssBytesPeak, fmt.mib, true),
      row('agent RSS, mean', (r) => r.agent.rssBytesMean, fmt.mib, true),
      `| ${fmt.int(s.processes)} | **added CPU of the loss measurements** (on − off, medians) | ${signedPct(s.addedPercent)} | | ${times(s.ratio)} |`,
    );
  }
  const goals = sides
    .filter((s) => s.goalPercent !== null)
    .map(
      (s) =>
        `- ${fmt.int(s.processes)} processes: agent CPU with the loss measurements under ${s.goalPercent}% of a core — ${
          s.met === null ? 'not measured' : verdict(s.met)
        } (${fmt.pct(s.cpuOn)}; ${s.cpuOff === null ? 'no run with them off' : `${fmt.pct(s.cpuOff)} with them off, ${signedPct(s.addedPercent)}`}).`,
    );
  return `| simulated processes | metric | loss on: median (runs) | loss off: median (runs) | on ÷ off |
|---|---|---|---|---|
${rows.join('\n')}

Goals (issue 15), on the medians:
${goals.length > 0 ? goals.join('\n') : '- none at these sizes.'}
`;
}

/** The issue 6 table for one configuration's runs: the median of the runs, then each run, and its goals. */
function renderOneConfiguration(runs: readonly AgentOverheadResult[]): string {
  const first = runs[0]!;
  const [a, b] = first.collectors;
  const pct = (x: number | null) => fmt.pct(x);
  const row = (label: string, pick: (r: AgentOverheadResult) => number | null, show: (x: number | null) => string) => medianRow(label, runs, pick, show);
  const ratio = (i: 0 | 1) => (r: AgentOverheadResult) =>
    r.agent.cpuPercentMean === null || !r.collectors[i].cpuPercentMean ? null : r.agent.cpuPercentMean / r.collectors[i].cpuPercentMean!;
  const cpuMean = median(runs.map((r) => r.agent.cpuPercentMean));
  const rssPeak = median(runs.map((r) => r.agent.rssBytesPeak));
  const ratios = [0, 1].map((i) => median(runs.map(ratio(i as 0 | 1))));
  return `| metric | median | runs |
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

Goals (issue 6), on the medians:
- agent CPU under ${AGENT_CPU_GOAL_PERCENT}% of a core on average — ${verdict(cpuMean !== null && cpuMean < AGENT_CPU_GOAL_PERCENT)} (${pct(cpuMean)}).
- agent RSS under 90 MB — ${verdict(rssPeak !== null && rssPeak < AGENT_RSS_GOAL_BYTES)} (peak ${rssPeak === null ? 'n/a' : `${(rssPeak / 1e6).toFixed(1)} MB`}).
- agent CPU under a third of either collector's — ${verdict(ratios.every((x) => x !== null && x < AGENT_TO_COLLECTOR_CPU_GOAL))} (${ratios.map((x) => (x === null ? 'n/a' : x.toFixed(2))).join(' and ')} of ${a.variant}'s and ${b.variant}'s).
`;
}

/** The configuration the issue 6 table shows: 300 processes with the loss measurements on, else the first one run. */
function mainConfiguration(runs: readonly AgentOverheadResult[]): AgentOverheadResult[] {
  const pick = runs.find((r) => r.processes === 300 && r.loss) ?? runs[0]!;
  return runs.filter((r) => r.processes === pick.processes && r.loss === pick.loss);
}

/** Markdown for the runs of one or more sizes and loss settings: the side-by-side of issue 15, then the issue 6 table. */
export function renderAgentOverhead(runs: readonly AgentOverheadResult[]): string {
  const first = runs[0];
  if (!first) return '## Agent overhead\n\nNo runs.\n';
  const [a, b] = first.collectors;
  const sizes = [...new Set(runs.map((r) => r.processes))].sort((x, y) => x - y);
  const settings = [...new Set(runs.map((r) => r.loss))];
  const perConfiguration = Math.max(...lossSideBySide(runs).flatMap((s) => [s.on.length, s.off.length]));
  const main = mainConfiguration(runs);
  const left = runs.flatMap((r) => r.stop.collectorsLeft);
  const clean = runs.every((r) => r.stop.code === 0 && !r.stop.forced);
  const stops = clean ? `all ${runs.length} agents exited 0` : runs.map((r) => `exit ${r.stop.code ?? r.stop.signal}${r.stop.forced ? ' (forced)' : ''}`).join(', ');
  const busy = runs.map((r) => r.machineBusyPercent);
  const busyMedian = median(busy);
  return `## Agent overhead

A real \`phoenix-agent run --json\` process (default intervals: measurement every 15 s, collectors scraping every
10 s) comparing ${a.variant} vs ${b.variant} over a host with ${sizes.map(fmt.int).join(' or ')} simulated processes (${BENCH_CRITICAL_NAMES.length} named like
critical daemons) besides the machine's own, ${
    settings.length > 1
      ? 'once with its loss measurements (issue 15: the host\'s CPU and RSS from /proc, top-K coverage, conservation, flapping, blind spots) on and once with `loss.enabled: false` (critical retention only)'
      : `its loss measurements (issue 15) ${first.loss ? 'on' : 'off'}`
  }; ${perConfiguration} run${perConfiguration === 1 ? '' : 's'} of each, one agent at a time, the order of on and off alternating. After both collectors run, the agent's first report and a warm-up of
${(first.warmUpMs / 60_000).toFixed(1)} min (V8 compiles the agent's hot code over its first rounds: paid once per start), the agent's
and each collector's CPU (% of one core) and RSS are sampled with pidusage every ${first.sampleEveryMs / 1000} s for
${(first.durationMs / 60_000).toFixed(1)} min; then the agent gets SIGTERM and every collector pid is checked.
The whole machine was ${span(busy, (x) => fmt.pct(x, 0))} busy (all cores, other work included) while runs were sampled${
    busyMedian !== null && busyMedian >= 20 ? ': other work shared the machine, which makes every CPU figure noisier (and a difference of two of them more so)' : ''
  }.

${runs.some((r) => r.profiled) ? '**Profiled runs (node --cpu-prof): the profiler\'s thread inflates the agent\'s CPU; do not read these as its overhead.**\n\n' : ''}### Loss measurements on and off

${renderLossSideBySide(runs)}
### ${fmt.int(main[0]!.processes)} simulated processes, loss measurements ${main[0]!.loss ? 'on' : 'off'}: agent and collectors

${renderOneConfiguration(main)}
Stop: ${stops}; collectors left running after the agent exited: ${left.length === 0 ? 'none' : left.join(', ')}.
`;
}
