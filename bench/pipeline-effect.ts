// Pipeline effect bench (issue 6, part 3): for each host size, a real agent runs baseline against each
// optimized variant over simulated processes with churn; series, reduction, critical retention and the
// collectors' own CPU and RSS are taken from the agent's reports.
import { silentLogger } from '../common/logger.js';
import type { AgentReport, VariantReport } from '../protocol/report.js';
import { startSimulator } from '../tools/simulator/simulator.js';
import { busyPercent, machineTicks } from './proc-cpu.js';
import { BENCH_CRITICAL_NAMES, startAgentProcess, type AgentStop } from './agent-process.js';
import { fmt, mean, median } from './stats.js';

export const REDUCTION_GOAL = 0.95;
/** The agent's defaults: the collectors scrape every 10 s and keep an exited process's series 1 min. */
const COLLECTION_INTERVAL_MS = 10_000;
const METRIC_EXPIRATION_MS = 60_000;
/** Until the baseline's count is steady: churned processes' series stay on its endpoint for the expiration. */
export const DEFAULT_WARMUP_MS = METRIC_EXPIRATION_MS + 2 * COLLECTION_INTERVAL_MS;

export interface PipelineEffectOptions {
  /** Simulated processes per run (critical ones included), e.g. [100, 300, 1000]. */
  sizes: number[];
  /** How long each pair is measured after the warm-up (at least two reports are taken). */
  durationMs: number;
  /** Each is run against the baseline in its own agent (default optimized-a, optimized-b). */
  candidates?: string[];
  /** Default: 10% of the non-critical processes replaced every 10 s. */
  churn?: { everyMs: number; fraction: number };
  warmupMs?: number;
  /** Aborting it ends the run early with a rejection, after stopping the agent and the simulator. */
  signal?: AbortSignal;
}

export interface VariantEffect {
  variant: string;
  /** Median over the measured reports. */
  series: number | null;
  seriesMin: number | null;
  seriesMax: number | null;
  /** Median of 1 − series ÷ baseline series, report by report; null for the baseline itself. */
  reduction: number | null;
  /** The worst over the measured reports; null when no critical process ran. */
  retentionMin: number | null;
  /** Every running critical process missing from this variant's output in any measured report. */
  missing: string[];
  /** The collector's CPU (% of one core) as the agent measured it, mean over the reports. */
  cpuPercentMean: number | null;
  rssBytesMean: number | null;
  rssBytesPeak: number | null;
  restarts: number;
}

export interface PairEffect {
  size: number;
  /** Median of the host's process count in the measured reports. */
  hostProcesses: number | null;
  criticalRunning: string[];
  reports: number;
  /** The whole machine's CPU use over the measured window, % of all its cores (other work included). */
  machineBusyPercent: number | null;
  variants: [VariantEffect, VariantEffect];
  stop: AgentStop;
}

export type ShortfallKind = 'reduction' | 'retention' | 'cpu' | 'cleanup';

export interface Shortfall {
  kind: ShortfallKind;
  size: number;
  text: string;
}

export interface CandidateVerdict {
  variant: string;
  met: boolean;
  /** What fell short, size by size; empty when met. */
  shortfalls: Shortfall[];
}

export interface PipelineEffectResult {
  durationMs: number;
  warmupMs: number;
  churn: { everyMs: number; fraction: number };
  pairs: PairEffect[];
  verdicts: CandidateVerdict[];
}

function summarizeVariant(reports: AgentReport[], index: 0 | 1): VariantEffect {
  const own = reports.map((r) => r.variants[index]);
  const series = own.map((v) => v.series).filter((x): x is number => x !== null);
  const retention = own.map((v) => v.criticalRetention).filter((x): x is number => x !== null);
  const cpu = own.map((v) => v.cpuPercent).filter((x): x is number => x !== null);
  const rss = own.map((v) => v.rssBytes).filter((x): x is number => x !== null);
  return {
    variant: own[0]!.name,
    series: median(series),
    seriesMin: series.length ? Math.min(...series) : null,
    seriesMax: series.length ? Math.max(...series) : null,
    reduction: index === 0 ? null : median(reports.map((r) => r.comparison.cardinalityReduction)),
    retentionMin: retention.length ? Math.min(...retention) : null,
    missing: [...new Set(own.flatMap((v: VariantReport) => v.criticalMissing))].sort(),
    cpuPercentMean: mean(cpu),
    rssBytesMean: mean(rss),
    rssBytesPeak: rss.length ? Math.max(...rss) : null,
    restarts: Math.max(...own.map((v) => v.restarts)),
  };
}

async function runPair(size: number, pair: [string, string], warmupMs: number, durationMs: number, signal?: AbortSignal): Promise<PairEffect> {
  const agent = await startAgentProcess({ variants: pair, ...(signal ? { signal } : {}) });
  let stop: AgentStop | undefined;
  try {
    await agent.waitReady();
    const from = Date.now() + warmupMs;
    await agent.reportAfter(from, warmupMs + 120_000);
    const machineBefore = machineTicks();
    const until = from + durationMs;
    const measured = () => agent.reports.filter((r) => Date.parse(r.generatedAt) >= from);
    while (Date.now() < until || measured().length < 2) await agent.reportAfter(Date.now());
    const reports = measured();
    const machineBusy = busyPercent(machineBefore, machineTicks());
    stop = await agent.stop();
    return {
      size,
      hostProcesses: median(reports.map((r) => r.host.processCount)),
      criticalRunning: [...new Set(reports.flatMap((r) => r.critical.running))].sort(),
      reports: reports.length,
      machineBusyPercent: machineBusy,
      variants: [summarizeVariant(reports, 0), summarizeVariant(reports, 1)],
      stop,
    };
  } finally {
    if (!stop) await agent.stop();
  }
}

/** A candidate meets the goal when, at every size, it cuts ≥95% of the series, keeps every critical process, and its collector uses no more CPU than the baseline's. */
function verdictFor(candidate: string, pairs: readonly PairEffect[]): CandidateVerdict {
  const shortfalls: Shortfall[] = [];
  for (const pair of pairs) {
    const [base, mine] = pair.variants;
    if (mine.variant !== candidate) continue;
    const add = (kind: ShortfallKind, text: string) => shortfalls.push({ kind, size: pair.size, text: `${pair.size} processes: ${text}` });
    if (mine.reduction === null || mine.reduction < REDUCTION_GOAL) {
      add('reduction', `reduction ${fmt.ratio(mine.reduction)} < ${REDUCTION_GOAL * 100}% (${fmt.int(mine.series)} of ${fmt.int(base.series)} series)`);
    }
    if (pair.criticalRunning.length === 0) add('retention', 'no critical process ran, retention unproven');
    else if (mine.retentionMin === null || mine.retentionMin < 1) add('retention', `retention ${fmt.ratio(mine.retentionMin, 0)} (missing ${mine.missing.join(', ')})`);
    if (mine.cpuPercentMean === null || base.cpuPercentMean === null || mine.cpuPercentMean > base.cpuPercentMean) {
      add('cpu', `collector CPU ${fmt.pct(mine.cpuPercentMean)} > baseline's ${fmt.pct(base.cpuPercentMean)}`);
    }
    if (pair.stop.collectorsLeft.length > 0) add('cleanup', `collectors ${pair.stop.collectorsLeft.join(', ')} outlived the agent`);
  }
  return { variant: candidate, met: shortfalls.length === 0, shortfalls };
}

export async function runPipelineEffect(options: PipelineEffectOptions): Promise<PipelineEffectResult> {
  const candidates = options.candidates ?? ['optimized-a', 'optimized-b'];
  const churn = options.churn ?? { everyMs: 10_000, fraction: 0.1 };
  const warmupMs = options.warmupMs ?? DEFAULT_WARMUP_MS;
  const pairs: PairEffect[] = [];
  for (const size of options.sizes) {
    const simulator = await startSimulator({
      count: size,
      criticalNames: BENCH_CRITICAL_NAMES,
      churn,
      namePrefix: 'phx-bench',
      logger: silentLogger(),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    try {
      for (const candidate of candidates) {
        process.stderr.write(`pipeline effect: ${size} processes, baseline vs ${candidate}\n`);
        pairs.push(await runPair(size, ['baseline', candidate], warmupMs, options.durationMs, options.signal));
      }
    } finally {
      await simulator.close();
    }
  }
  return { durationMs: options.durationMs, warmupMs, churn, pairs, verdicts: candidates.map((c) => verdictFor(c, pairs)) };
}

/** What limits a built-in variant, per kind of shortfall (from its pipeline and the README's "Things learned the hard way"); shown only for shortfalls measured. */
const LIMITS: Record<string, Partial<Record<ShortfallKind, string>>> = {
  'optimized-a': {
    reduction:
      'its output is a floor, not a share of the host: 7 series per critical executable name plus the host-wide `system.processes.*` ' +
      'series, whatever else runs, so on a host with fewer than about 20× that floor in baseline series it cannot cut 95%. Dropping ' +
      'metrics nobody alerts on for the kept processes (`process.memory.virtual`, `process.disk.io`) or the `processes` scraper lowers the floor.',
    retention:
      'the receiver keeps only names its anchored `include` regexp matches; a critical process the collector names differently ' +
      '(a 15-character `comm` it cannot extend from argv[0]) is not scraped at all.',
    cpu: 'it scrapes only the allowlisted processes, so a higher CPU than the baseline points at machine noise; rerun.',
  },
  'optimized-b': {
    reduction:
      'every process over the CPU or memory threshold keeps its own 7 series, processes near a threshold flap between their own ' +
      'series and `_other` (both stay on the endpoint for the metric expiration), and no stock processor ranks processes to keep ' +
      'only the top N: that needs a custom processor in the builder manifest, or a receiver-side `include` by name as optimized-a has.',
    retention: 'the classifying transform keeps critical names by the same anchored regexp; a name the collector reports otherwise falls into `_other`.',
    cpu:
      'a threshold needs every process scraped: it cannot use the receiver-side `include` that makes optimized-a cheap, it also ' +
      'collects `process.cpu.utilization`, and runs two transform passes, a filter and groupbyattrs over every process; it saves ' +
      'only the export of the per-process series, which on a small host is less than that work.',
  },
};

const GENERIC_LIMITS: Record<ShortfallKind, string> = {
  reduction: 'see which series its output keeps (`seriesByMetric` in the reports) and which processors could merge them.',
  retention: 'compare the missing names with the names its output carries (`process_executable_name`).',
  cpu: 'compare its processors with the baseline\'s; per-stage items are in the reports\' `telemetry.processors`.',
  cleanup: 'the agent did not stop its collectors: a supervision bug, not a pipeline limit.',
};

/** Markdown for one or more runs of the same settings: medians over runs, then each run's value in brackets. */
export function renderPipelineEffect(runs: readonly PipelineEffectResult[]): string {
  const first = runs[0];
  if (!first) return '## Pipeline effect\n\nNo runs.\n';
  const cell = (pick: (r: PipelineEffectResult) => number | null, show: (x: number | null) => string) => {
    const values = runs.map(pick);
    return runs.length === 1 ? show(values[0]!) : `${show(median(values))} (${values.map((v) => show(v)).join(', ')})`;
  };
  const rows: string[] = [];
  first.pairs.forEach((pair, p) => {
    pair.variants.forEach((v, i) => {
      const pick = (f: (x: VariantEffect) => number | null) => (r: PipelineEffectResult) => {
        const same = r.pairs[p];
        return same ? f(same.variants[i]!) : null;
      };
      const missing = [...new Set(runs.flatMap((r) => r.pairs[p]?.variants[i]?.missing ?? []))];
      rows.push(
        `| ${pair.size} | ${v.variant}${i === 0 ? ` (vs ${pair.variants[1].variant})` : ''} | ${cell(pick((x) => x.series), fmt.int)} | ` +
          `${i === 0 ? '–' : cell(pick((x) => x.reduction), (x) => fmt.ratio(x, 2))} | ${cell(pick((x) => x.retentionMin), (x) => fmt.ratio(x, 0))} | ` +
          `${missing.join(', ') || 'none'} | ${cell(pick((x) => x.cpuPercentMean), fmt.pct)} | ${cell(pick((x) => x.rssBytesMean), fmt.mib)} |`,
      );
    });
  });
  const hostProcesses = first.pairs.map((p) => `${p.size} → ${fmt.int(p.hostProcesses)}`).join(', ');
  const busy = runs.flatMap((r) => r.pairs.map((p) => p.machineBusyPercent)).filter((x): x is number => x !== null);
  const left = runs.flatMap((r) => r.pairs.flatMap((p) => p.stop.collectorsLeft));
  const verdicts = first.verdicts.map((v) => {
    const all = runs.map((r) => r.verdicts.find((x) => x.variant === v.variant)!);
    const met = all.filter((x) => x.met).length;
    const shortfalls = all.flatMap((x) => x.shortfalls);
    const head = `- **${v.variant}**: ${met === all.length ? 'met' : met === 0 ? 'not met' : `met in ${met} of ${all.length} runs`}`;
    if (shortfalls.length === 0) return `${head}.`;
    const limits = [...new Set(shortfalls.map((x) => x.kind))].map((kind) => `  What limits it (${kind}): ${LIMITS[v.variant]?.[kind] ?? GENERIC_LIMITS[kind]}`);
    return [`${head}: ${[...new Set(shortfalls.map((x) => x.text))].join('; ')}.`, ...limits].join('\n');
  });
  return `## Pipeline effect

For each host size, the process simulator holds that many processes (${BENCH_CRITICAL_NAMES.length} named like critical daemons, which
never churn) and replaces ${first.churn.fraction * 100}% of the others with newly named ones every ${first.churn.everyMs / 1000} s. A real agent
(default settings: collectors scrape every 10 s, series of exited processes expire after 1 min, a report every 15 s)
runs the baseline against one candidate at a time; after ${first.warmupMs / 1000} s of warm-up (the expiration, so the baseline's
count is steady) its reports over ${(first.durationMs / 1000).toFixed(0)} s are taken. Series, retention and the collectors' CPU (% of one
core) and RSS are the report's own: the baseline and candidate of a pair run at the same time, so each CPU pair
shares the same machine load. Host processes including the machine's own: ${hostProcesses}. The baseline
counts every process on the host, other work's short-lived ones included (for the minute they stay on its endpoint),
so its count moves between pairs; each reduction compares two collectors over the same host at the same time.
The whole machine was ${busy.length ? `${Math.min(...busy).toFixed(0)}–${Math.max(...busy).toFixed(0)}%` : 'n/a'} busy (all cores, other work included) while pairs were measured.

| simulated processes | variant | series | reduction | critical retention (worst) | missing | collector CPU | collector RSS |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Goal (issue 6): an optimized variant with at least 95% fewer series than the baseline and retention 1.0 at
every size, whose collector uses no more CPU than the baseline's:
${verdicts.join('\n')}

Collectors left running after an agent exited: ${left.length === 0 ? 'none' : left.join(', ')}.
`;
}
