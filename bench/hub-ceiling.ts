// The one-process ceiling (issue 16): the most agents one hub process (the embedded SQLite store) carries at the
// default 15 s interval with ack p99 under 100 ms. Steps of a growing fleet, each on a fresh hub; the largest step
// is what this machine's open-file limit leaves room for (every connection is a file descriptor of the hub's).
import { openFileLimits } from '../common/open-files.js';
import { runEngineLoad, type EngineLoadResult } from './hub-engines.js';
import { mib, ms, percent } from './stats.js';

/** The ack p99 a step must stay under. */
export const CEILING_P99_MS = 100;
/** Descriptors a hub holds besides its agents' sockets (store files, listeners, stdio, the event loop's own), with room to spare. */
const HUB_OWN_FILES = 500;

export interface CeilingStep extends EngineLoadResult {
  underGoal: boolean;
}

export interface CeilingResult {
  /** The soft and hard open-file limits processes start with here (a hub cannot hold more sockets). */
  openFiles: { soft: number; hard: number } | null;
  steps: CeilingStep[];
}

/** The fleet sizes to step through: `sizes` up to what the open-file limit leaves room for, and that room itself. */
export function ceilingSizes(sizes: readonly number[], softLimit: number | null): number[] {
  const room = softLimit === null ? Infinity : Math.floor((softLimit - HUB_OWN_FILES) / 500) * 500;
  const fitting = sizes.filter((n) => n <= room);
  return Number.isFinite(room) && room > (fitting.at(-1) ?? 0) && room < Math.max(...sizes) ? [...fitting, room] : fitting;
}

/** Each size on a fresh hub, two load processes (each holds its own sockets, under the same limit), no API reads. */
export async function runCeiling(sizes: readonly number[], durationMs: number, progress?: (line: string) => void): Promise<CeilingResult> {
  // Child processes (the hub, the load processes) inherit this process's limits.
  const openFiles = openFileLimits();
  const steps: CeilingStep[] = [];
  for (const agents of ceilingSizes(sizes, openFiles?.soft ?? null)) {
    progress?.(`${agents.toLocaleString('en')} agents every 15 s for ${durationMs / 1000} s`);
    const r = await runEngineLoad({ engine: 'sqlite', replicas: 1, agents, intervalMs: 15_000, durationMs, apiEveryMs: 0, loadsPerHub: 2 });
    steps.push({ ...r, underGoal: r.connected === agents && r.ackP99Ms !== null && r.ackP99Ms < CEILING_P99_MS });
  }
  return { openFiles, steps };
}

/** The BENCHMARKS.md section. */
export function ceilingSection(result: CeilingResult, machine: string, goal: number): string {
  const best = result.steps.filter((s) => s.underGoal).at(-1);
  const limit = result.openFiles ? `${result.openFiles.soft.toLocaleString('en')} (soft) / ${result.openFiles.hard.toLocaleString('en')} (hard)` : 'not known';
  const capped = result.openFiles !== null && result.openFiles.hard < goal + HUB_OWN_FILES;
  const rows = result.steps.map(
    (s) =>
      `| ${s.agents.toLocaleString('en')} | ${s.connected.toLocaleString('en')} | ${s.reportsPerSecond} | ${ms(s.ackP50Ms)} | ${ms(s.ackP99Ms)} | ${mib(s.hubRssPeakBytes)} | ${percent(s.hubCpuPercentMean)} | ${s.underGoal ? 'yes' : 'no'} |`,
  );
  return `## One hub process's ceiling at the default 15 s interval (issue 16)

A fresh \`phoenix-hub\` process (embedded SQLite store) per fleet size; two load processes open the agents' real
WebSocket connections on loopback (spread over 127.0.0.x source addresses) and each agent reports every 15 s for
${(result.steps[0]?.durationMs ?? 0) / 1000} s once all are connected; nobody reads the API meanwhile. One run per size. The machine that day: ${machine};
its open-file limit per process: ${limit}.

| agents | connected | reports/s | ack p50 | ack p99 | hub RSS, peak | hub CPU, mean (% of one core) | p99 under ${CEILING_P99_MS} ms |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

Ceiling measured: ${best ? `${best.agents.toLocaleString('en')} agents (ack p99 ${ms(best.ackP99Ms)})` : 'no step under the goal'}; the goal is ${goal.toLocaleString('en')}.
${
  capped
    ? `The largest step is what the open-file limit leaves room for, not where the acks gave out: every agent connection is
one of the hub's file descriptors, and processes here may open at most ${result.openFiles!.hard.toLocaleString('en')} (a hard limit this machine's
user cannot raise), so ${goal.toLocaleString('en')} connections to one process cannot be opened on it. The report rate of ${goal.toLocaleString('en')} agents at 15 s
(${Math.round(goal / 15).toLocaleString('en')} reports a second) is the one the engines section acknowledges at 10,000 agents every 5 s. A hub under
systemd or in a container starts with a higher limit (Node raises its soft limit to the hard one).`
    : ''
}
`;
}
