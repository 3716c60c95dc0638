// The load process (bench/load-agents.ts) as the benches start it: its arguments, and its one JSON line of results.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** When one v2 load agent heard of its assignment and said applied (wall-clock ms, as Date.now()). */
export interface AgentAssignmentTimes {
  experimentId: string;
  assignedAt: number;
  appliedAt: number;
}

export interface LoadAgentsResult {
  agents: number;
  failedConnections: number;
  sent: number;
  acked: number;
  seconds: number;
  ackP50: number | null;
  ackP99: number | null;
  /** With --protocol 2: */
  protocol?: 2;
  /** When the agents started reporting (wall-clock ms). */
  startedAt?: number;
  /** Hub messages that did not validate as version 2. */
  unexpected?: number;
  /** Per agent, in agent order; null: no assignment reached it. */
  assignments?: (AgentAssignmentTimes | null)[];
  /** With --samples: [sent at (wall-clock ms), ack latency ms] for every acknowledged report. */
  samples?: [number, number][];
}

export interface LoadOptions {
  /** ws://… of the hub's agent endpoint. */
  url: string;
  token: string;
  agents: number;
  /** Each agent reports this often. */
  intervalMs: number;
  /** How long the agents report, from when they are all connected. */
  durationMs: number;
  protocol?: 1 | 2;
  samples?: boolean;
  /** Spread the connections over this many loopback source addresses, 127.0.0.1 to 127.0.0.N (default: one per 5,000 agents). */
  sources?: number;
  /** The first agent's number (sim-N): load processes beside each other take disjoint ranges. */
  first?: number;
}

/** One source address per 5,000 connections: far below a source address's ~28,000 ephemeral ports to one hub port. */
export const sourcesFor = (agents: number): number => Math.min(254, Math.max(1, Math.ceil(agents / 5000)));

/**
 * Starts the load process (its stderr is this process's). `result` resolves with its results once it exits, and
 * rejects when it exits without them; SIGTERM to `child` ends it early, with its results. Calling rules: await
 * `result` (or kill `child`) before the hub goes away.
 */
export function startLoadAgents(o: LoadOptions): { child: ChildProcess; result: Promise<LoadAgentsResult> } {
  // Compiled, the script is load-agents.js beside this file; under tap it is the .ts, run with tap's loader.
  const self = fileURLToPath(import.meta.url);
  const ts = self.endsWith('.ts');
  const script = self.replace(/load-process\.(ts|js)$/, `load-agents.${ts ? 'ts' : 'js'}`);
  const args = [o.url, o.token, String(o.agents), String(o.intervalMs), String(o.durationMs), '--protocol', String(o.protocol ?? 1), ...(o.samples ? ['--samples'] : []), '--sources', String(o.sources ?? sourcesFor(o.agents)), '--first', String(o.first ?? 0)];
  const child = spawn(process.execPath, [...(ts ? process.execArgv : []), script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    ...(ts ? { env: { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } } : {}),
  });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  const result = once(child, 'exit').then(([code]) => {
    const line = output.trim().split('\n').at(-1);
    if (code !== 0 || !line) throw new Error(`load-agents exited with code ${String(code)} and no results`);
    try {
      return JSON.parse(line) as LoadAgentsResult;
    } catch (error) {
      throw new Error(`load-agents printed ${line.length} characters of results that are not JSON`, { cause: error });
    }
  });
  return { child, result };
}
