// The host's ground truth that a variant's losses are measured against: totals, top consumers, blind spots.
import type { HostProcess, HostProcesses } from '../host-processes.js';
import type { HostTruth } from '../../../protocol/report.js';
import { showsName, type VariantView } from '../variant-view.js';

/** Blind-spot names reported at most (the count is exact). */
export const BLIND_SPOT_NAMES = 20;

/** The processes a round measures against, sorted out once. */
export interface TruthRound {
  /** Processes old enough for the collectors to have scraped them, the agent's collectors left out. */
  population: HostProcess[];
  /** The K using the most CPU since the previous read (most first); null on the first read. */
  topCpu: HostProcess[] | null;
  /** The K largest by RSS, largest first. */
  topRss: HostProcess[];
  /** Seconds the CPU figures cover; null on the first read. */
  intervalSeconds: number | null;
  /** Total CPU-time rate (cores) and RSS of the population and the agent's collectors, which every variant sees too. */
  cpuCores: number | null;
  rssBytes: number;
}

/**
 * Sorts a read of the host out for one round. `seenBefore`: a process that started later may not have been scraped
 * yet, so it is measured from the next round on. Kernel threads count (the collector reports them, with no executable
 * path and no memory); the agent's collectors are counted in the totals (the variants show them too) but are never top consumers
 * or blind spots (they are the instrument, not the workload).
 */
export function truthRound(host: HostProcesses, seenBefore: number, k: number): TruthRound {
  const old = (p: HostProcess) => p.startedAt === null || p.startedAt <= seenBefore;
  const population = host.processes.filter(old);
  const counted = [...population, ...host.excluded.filter(old)];
  const intervalSeconds = host.intervalMs === null || host.intervalMs <= 0 ? null : host.intervalMs / 1000;
  const measuredCpu = counted.filter((p) => p.cpuSecondsDelta !== null);
  const cpuKnown = intervalSeconds !== null && measuredCpu.length > 0;
  const byPid = (x: HostProcess, y: HostProcess) => x.pid - y.pid;
  return {
    population,
    topCpu: cpuKnown
      ? population
          .filter((p) => (p.cpuSecondsDelta ?? 0) > 0)
          .sort((x, y) => y.cpuSecondsDelta! - x.cpuSecondsDelta! || byPid(x, y))
          .slice(0, k)
      : null,
    topRss: population
      .filter((p) => (p.rssBytes ?? 0) > 0)
      .sort((x, y) => y.rssBytes! - x.rssBytes! || byPid(x, y))
      .slice(0, k),
    intervalSeconds,
    cpuCores: cpuKnown ? measuredCpu.reduce((sum, p) => sum + p.cpuSecondsDelta!, 0) / intervalSeconds : null,
    rssBytes: counted.reduce((sum, p) => sum + (p.rssBytes ?? 0), 0),
  };
}

/**
 * The population's processes that no variant shows: by pid where any variant has pids (the fullest one does), else
 * by name. Named by the largest first, distinct, at most BLIND_SPOT_NAMES.
 */
export function blindSpots(population: readonly HostProcess[], views: readonly VariantView[]): HostTruth['blindSpots'] {
  const withPids = views.filter((v) => v.pids !== null);
  const shown = withPids.length > 0 ? (p: HostProcess) => withPids.some((v) => v.pids!.has(p.pid)) : (p: HostProcess) => views.some((v) => showsName(v, p));
  const blind = population.filter((p) => !shown(p)).sort((x, y) => (y.rssBytes ?? 0) - (x.rssBytes ?? 0) || x.pid - y.pid);
  return { count: blind.length, names: [...new Set(blind.map((p) => p.name))].slice(0, BLIND_SPOT_NAMES) };
}

/** The report's figures of the round. */
export function hostTruth(round: TruthRound, k: number, views: readonly VariantView[]): HostTruth {
  const consumer = (value: (p: HostProcess) => number) => (p: HostProcess) => ({ name: p.name, pid: p.pid, value: value(p) });
  return {
    k,
    intervalMs: round.intervalSeconds === null ? null : Math.round(round.intervalSeconds * 1000),
    processes: round.population.length,
    cpuCores: round.cpuCores === null ? null : round6(round.cpuCores),
    rssBytes: round.rssBytes,
    topCpu: round.topCpu?.map(consumer((p) => round6(p.cpuSecondsDelta! / round.intervalSeconds!))) ?? null,
    topRss: round.topRss.map(consumer((p) => p.rssBytes!)),
    blindSpots: blindSpots(round.population, views),
  };
}

export const round6 = (x: number) => Math.round(x * 1e6) / 1e6;
