// Experiment fan-out bench: a real hub process and 1,000 v2 load agents; the time from the POST that creates and
// starts an experiment over all of them until every host is applied, and the ack latency meanwhile against a run
// of the same load with no experiment.
import { mkdtemp, rm } from 'node:fs/promises';
import os, { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { ExperimentListResponse, ExperimentResponse } from '../hub/http/experiment-types.js';
import { BENCH_ADMIN_TOKEN, BENCH_TOKEN, startHubProcess, type HubProcess } from './hub-process.js';
import { startLoadAgents, type LoadAgentsResult } from './load-process.js';
import { busyPercent, cpuSeconds, machineTicks } from './proc-cpu.js';
import { median, medianRow, ms, percent, percentile, verdict } from './stats.js';

export interface FanoutOptions {
  agents: number;
  /** Each agent reports this often. */
  intervalMs: number;
  /** Steady reporting before the experiment is created (or, without one, before the window opens). */
  warmupMs: number;
  /** The window the acks are compared over, from the POST (the goal's 10 s). */
  windowMs: number;
  /** How long after the POST the hosts may take to be applied before the run gives up on them (past the window). */
  patienceMs: number;
}

export interface FanoutRun {
  withExperiment: boolean;
  agents: number;
  /** Hosts the experiment targeted (0 without one). */
  hosts: number;
  /** The POST's own answer (create, start, every assignment sent). */
  postMs: number | null;
  /** From the POST until the last agent received its assignment / said applied (the agents' clocks). */
  lastAssignedMs: number | null;
  lastAppliedMs: number | null;
  medianAppliedMs: number | null;
  /** From the POST until the hub's list showed every host measuring (polled every 200 ms). */
  allAppliedAtHubMs: number | null;
  appliedAtHub: number;
  ackP50WindowMs: number | null;
  ackP99WindowMs: number | null;
  windowAcks: number;
  ackP99WholeMs: number | null;
  /** The hub's CPU over the window, % of one core. */
  hubCpuWindowPercent: number | null;
  /** Everything but the hub and the load process, % of all cores, over the run: other work on the machine. */
  otherCpuPercent: number | null;
  hubErrors: number;
  hubWarnings: number;
  /** A few distinct messages of the hub's warnings and errors. */
  hubMessages: string[];
  unexpectedMessages: number;
}

const POLL_MS = 200;
const wallMs = () => performance.timeOrigin + performance.now();

/** Every host the load agents say hello as (simulated-report.ts: env is prod or staging); the guardrail kept off. */
export function fanoutDefinition(): Record<string, unknown> {
  return {
    name: 'bench-fanout',
    description: 'npm run bench -- --only experiments',
    baseline: { pipeline: 'baseline' },
    candidate: { pipeline: 'optimized-b' },
    target: { labels: ['env in (prod, staging)'] },
    rollout: { canary: '100%', hold: '0s' },
    // One simulated host in 50 loses postgres under the candidate: an abort mid-window would withdraw it from all.
    guardrails: { criticalLossReports: 10_000 },
  };
}

async function api<T>(hub: HubProcess, method: 'GET' | 'POST', route: string, body?: unknown): Promise<T> {
  const res = await fetch(`${hub.base}${route}`, {
    method,
    headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${route}: HTTP ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

async function waitForAgents(hub: HubProcess, agents: number, until: Promise<unknown>): Promise<void> {
  let gone = false;
  void until.then(() => (gone = true), () => (gone = true));
  while (!gone) {
    const ready = (await (await fetch(`${hub.base}/readyz`)).json()) as { agents: number };
    if (ready.agents >= agents) return;
    await delay(POLL_MS);
  }
  throw new Error(`the load process ended before ${agents} agents said hello`);
}

/** Creates and starts the experiment, then polls the list until every host measures (or `deadline`, or the load ends). */
async function fanOut(hub: HubProcess, t0: number, deadline: number, loadDone: Promise<unknown>): Promise<Pick<FanoutRun, 'hosts' | 'postMs' | 'allAppliedAtHubMs' | 'appliedAtHub'>> {
  const created = await api<ExperimentResponse>(hub, 'POST', '/api/v1/experiments', { definition: fanoutDefinition(), start: true });
  const postMs = wallMs() - t0;
  const { id, hosts } = created.experiment;
  let done = false;
  void loadDone.then(() => (done = true), () => (done = true));
  let appliedAtHub = 0;
  while (!done && wallMs() < deadline) {
    const list = await api<ExperimentListResponse>(hub, 'GET', '/api/v1/experiments');
    appliedAtHub = list.experiments.find((e) => e.id === id)?.hostStates.measuring ?? 0;
    if (appliedAtHub >= hosts) return { hosts, postMs, allAppliedAtHubMs: wallMs() - t0, appliedAtHub };
    await delay(POLL_MS);
  }
  return { hosts, postMs, allAppliedAtHubMs: null, appliedAtHub };
}

function hubLogSummary(log: string): Pick<FanoutRun, 'hubErrors' | 'hubWarnings' | 'hubMessages'> {
  let hubErrors = 0;
  let hubWarnings = 0;
  const messages = new Set<string>();
  for (const line of log.split('\n')) {
    if (!line.trim()) continue;
    let entry: { level?: number; msg?: string };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = { level: 50, msg: line.slice(0, 200) };
    }
    if ((entry.level ?? 0) >= 50) hubErrors += 1;
    else if (entry.level === 40) hubWarnings += 1;
    else continue;
    if (messages.size < 3) messages.add(String(entry.msg));
  }
  return { hubErrors, hubWarnings, hubMessages: [...messages] };
}

/** From the POST (t0), per agent: the last time over all agents, and the median. */
function agentTimes(load: LoadAgentsResult, t0: number): Pick<FanoutRun, 'lastAssignedMs' | 'lastAppliedMs' | 'medianAppliedMs'> {
  const times = (load.assignments ?? []).filter((a) => a !== null);
  if (times.length === 0) return { lastAssignedMs: null, lastAppliedMs: null, medianAppliedMs: null };
  const applied = times.map((a) => a.appliedAt - t0);
  return { lastAssignedMs: Math.max(...times.map((a) => a.assignedAt - t0)), lastAppliedMs: Math.max(...applied), medianAppliedMs: median(applied) };
}

/** What a run measured before the hub stopped (its log is read after). */
type Measured = Omit<FanoutRun, 'hubErrors' | 'hubWarnings' | 'hubMessages'>;

/** When the run began: the machine's and our CPU counters, the wall clock. */
interface RunStart {
  machine: ReturnType<typeof machineTicks>;
  ours: ReturnType<typeof cpuSeconds>;
  at: number;
}

async function measure(o: FanoutOptions, withExperiment: boolean, hub: HubProcess, loadResult: Promise<LoadAgentsResult>, start: RunStart): Promise<Measured> {
  await waitForAgents(hub, o.agents, loadResult);
  await delay(o.warmupMs);
  const t0 = wallMs();
  const hubCpuBefore = cpuSeconds(hub.child.pid!).self;
  // Read at the window's end, whether or not the fan-out is over by then.
  const hubCpuWindow = delay(o.windowMs).then(() => ((cpuSeconds(hub.child.pid!).self - hubCpuBefore) / ((wallMs() - t0) / 1000)) * 100, () => null);
  const fan = withExperiment ? await fanOut(hub, t0, t0 + o.patienceMs, loadResult) : { hosts: 0, postMs: null, allAppliedAtHubMs: null, appliedAtHub: 0 };
  const hubCpuWindowPercent = await hubCpuWindow;
  const result = await loadResult;
  const elapsed = (wallMs() - start.at) / 1000;
  const ours = cpuSeconds(process.pid);
  const used = cpuSeconds(hub.child.pid!).self + ours.self - start.ours.self + ours.children - start.ours.children;
  const machine = busyPercent(start.machine, machineTicks());
  const windowLatencies = (result.samples ?? []).filter(([at]) => at >= t0 && at < t0 + o.windowMs).map(([, latency]) => latency);
  return {
    withExperiment,
    agents: result.agents,
    ...fan,
    ...agentTimes(result, t0),
    ackP50WindowMs: percentile(windowLatencies, 50),
    ackP99WindowMs: percentile(windowLatencies, 99),
    windowAcks: windowLatencies.length,
    ackP99WholeMs: result.ackP99,
    hubCpuWindowPercent,
    otherCpuPercent: machine === null ? null : Math.max(0, machine - (used / (elapsed * os.cpus().length)) * 100),
    unexpectedMessages: result.unexpected ?? 0,
  };
}

/** One run: a fresh hub, the load, and after the warm-up either the experiment or nothing. */
export async function runFanout(o: FanoutOptions, withExperiment: boolean): Promise<FanoutRun> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-bench-exp-'));
  const hub = await startHubProcess(dir, path.join(dir, 'data'), { captureLog: true });
  // The load process is this process's only child that ends in the run: its CPU is what the children's grows by.
  const start: RunStart = { machine: machineTicks(), ours: cpuSeconds(process.pid), at: wallMs() };
  let measured: Measured;
  try {
    // The load reports for the warm-up, the window and the patience, and a tail so that their last reports are acknowledged.
    const durationMs = o.warmupMs + Math.max(o.windowMs, o.patienceMs) + 5000;
    const load = startLoadAgents({ url: `ws://127.0.0.1:${hub.port}/ws/agent`, token: BENCH_TOKEN, agents: o.agents, intervalMs: o.intervalMs, durationMs, protocol: 2, samples: true });
    try {
      measured = await measure(o, withExperiment, hub, load.result, start);
    } finally {
      // On a failure the load would report on to a hub that is gone: it is ended, and awaited.
      if (load.child.exitCode === null && load.child.signalCode === null) load.child.kill('SIGTERM');
      await load.result.catch(() => undefined);
    }
  } finally {
    await hub.stop();
    await rm(dir, { recursive: true, force: true });
  }
  // Read once the hub has stopped, so that what it logged on the way out counts too.
  return { ...measured, ...hubLogSummary(hub.log()) };
}

/** A control run and an experiment run, in turn (which goes first alternates, so drift falls on both). */
export interface FanoutPair {
  control: FanoutRun;
  experiment: FanoutRun;
}

const ratio = (a: number | null, b: number | null) => (a === null || b === null || b === 0 ? null : a / b);
const times = (x: number | null) => (x === null ? 'n/a' : `${x.toFixed(2)}×`);
const seconds = (x: number | null) => (x === null ? 'n/a' : `${(x / 1000).toFixed(2)} s`);

/** The BENCHMARKS.md section: medians of the runs, each run's figure beside them, the goals. */
export function fanoutSection(o: FanoutOptions, pairs: readonly FanoutPair[], note: string): string {
  const exp = pairs.map((p) => p.experiment);
  const ctl = pairs.map((p) => p.control);
  const both = pairs.flatMap((p) => [p.control, p.experiment]);
  const row = medianRow<FanoutRun>;
  const applied = median(exp.map((r) => r.allAppliedAtHubMs ?? Number.POSITIVE_INFINITY));
  const p99Ratio = median(pairs.map((p) => ratio(p.experiment.ackP99WindowMs, p.control.ackP99WindowMs)));
  const everyHost = exp.every((r) => r.hosts === o.agents && r.appliedAtHub === o.agents);
  const errors = both.reduce((n, r) => n + r.hubErrors, 0);
  const warnings = both.reduce((n, r) => n + r.hubWarnings, 0);
  const messages = [...new Set(both.flatMap((r) => r.hubMessages))];
  const other = median(both.map((r) => r.otherCpuPercent));
  const shared = other !== null && other >= 5
    ? `\nThe runs shared the machine with other work (other tests ran meanwhile): ${percent(other)} of all cores went to processes other than the hub, the load and this bench (last row), so the figures are those of a busy machine.\n`
    : '';
  return `## Experiment fan-out to ${o.agents.toLocaleString('en')} agents

A real \`phoenix-hub\` process; a separate load process opens ${o.agents.toLocaleString('en')} real WebSocket connections on
loopback as protocol-v2 agents that take experiments (each answers an assignment with \`applying\` then \`applied\`, as
the agent does once its collectors serve data — here at once, no collector runs — and tags its later reports with the
experiment); each sends a report every ${o.intervalMs / 1000} s. After ${o.warmupMs / 1000} s of steady load, one \`POST /api/v1/experiments\`
(admin token) creates and starts an experiment targeting \`env in (prod, staging)\` — all of them — with a canary of
100% (every host assigned at once); the hub's experiment list is polled every ${POLL_MS} ms until every host is
\`measuring\` (applied). Each pair of runs is that and a control run of the same load with no experiment, each on a
fresh hub; the ack latencies compared are those of the reports sent in the ${o.windowMs / 1000} s from the POST (the same
offset in the control run). A run waits at most ${o.patienceMs / 1000} s for every host to be applied. ${note}

| metric | median | runs |
|---|---|---|
${[
  row('agents connected', exp, (r) => r.agents, (x) => String(x)),
  row('hosts targeted', exp, (r) => r.hosts, (x) => String(x)),
  row('POST answered (created, started, assignments sent)', exp, (r) => r.postMs, ms),
  row('last agent received its assignment (from the POST)', exp, (r) => r.lastAssignedMs, ms),
  row('half of the agents said applied', exp, (r) => r.medianAppliedMs, ms),
  row('last agent said applied', exp, (r) => r.lastAppliedMs, ms),
  row(`every host applied at the hub (its list, polled every ${POLL_MS} ms)`, exp, (r) => r.allAppliedAtHubMs, seconds),
  row('ack p50 in the window, with the experiment', exp, (r) => r.ackP50WindowMs, ms),
  row('ack p50 in the window, no experiment', ctl, (r) => r.ackP50WindowMs, ms),
  row('ack p99 in the window, with the experiment', exp, (r) => r.ackP99WindowMs, ms),
  row('ack p99 in the window, no experiment', ctl, (r) => r.ackP99WindowMs, ms),
  medianRow('ack p99 in the window, with ÷ without (per pair)', pairs, (p) => ratio(p.experiment.ackP99WindowMs, p.control.ackP99WindowMs), times),
  row('reports acknowledged in the window, with the experiment', exp, (r) => r.windowAcks, (x) => String(x)),
  row('ack p99 over the whole run, with the experiment', exp, (r) => r.ackP99WholeMs, ms),
  row('ack p99 over the whole run, no experiment', ctl, (r) => r.ackP99WholeMs, ms),
  row('hub CPU in the window, with the experiment (% of one core)', exp, (r) => r.hubCpuWindowPercent, (x) => percent(x)),
  row('hub CPU in the window, no experiment (% of one core)', ctl, (r) => r.hubCpuWindowPercent, (x) => percent(x)),
  row('other work on the machine (% of all cores)', both, (r) => r.otherCpuPercent, (x) => percent(x)),
].join('\n')}
${shared}
The hub's log (at warn) over all ${both.length} runs: ${errors} errors, ${warnings} warnings${messages.length ? ` (${messages.map((m) => `"${m}"`).join(', ')})` : ''}; messages the load agents could not validate: ${both.reduce((n, r) => n + r.unexpectedMessages, 0)}.

Goals (issue 14): every targeted host applied at the hub in under 10 s — ${verdict(everyHost && applied !== null && applied < 10_000)} (${seconds(applied)}); ack p99 during the fan-out within 10% of the same load without it — ${verdict(p99Ratio !== null && p99Ratio <= 1.1)} (${times(p99Ratio)}).
`;
}
