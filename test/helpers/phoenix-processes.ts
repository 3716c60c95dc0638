// The hub and the agent as real child processes, to be killed with SIGKILL: the hub's bin on a port and data dir
// kept across restarts, the agent's `run --json` on a config (and state dir) kept across restarts.
import type { Test } from 'tap';
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { autoPort } from '../../agent/supervisor/ports.js';
import type { AgentReport } from '../../protocol/report.js';
import { AGENT_TOKEN } from './assignment.js';
import { realCollector } from './collector.js';
import { waitFor } from './process.js';
import { spawnTs } from './spawn-ts.js';

const HUB_BIN = fileURLToPath(new URL('../../hub/bin.ts', import.meta.url));
const AGENT_BIN = fileURLToPath(new URL('../../agent/bin.ts', import.meta.url));
/** Longer than either program's own 30 s shutdown deadline: past it, the process hung and is killed. */
const STOP_DEADLINE_MS = 40_000;

export interface Spawned {
  child: ChildProcess;
  readonly pid: number;
  running(): boolean;
  /** Its last lines on stderr (its log), for failure messages. */
  stderrTail(): string;
  /** kill -9; resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM (SIGKILL after a deadline); resolves with how it ended. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Watches a spawned child: its stderr tail, its exit; stopped with SIGTERM in teardown if it still runs. */
function own(t: Test, child: ChildProcess, name: string): Spawned {
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const tail: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    tail.push(line);
    if (tail.length > 40) tail.shift();
  });
  const running = () => child.exitCode === null && child.signalCode === null;
  const spawned: Spawned = {
    child,
    pid: child.pid!,
    running,
    stderrTail: () => tail.join('\n'),
    async kill9() {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (running()) {
        child.kill('SIGTERM');
        const settled = new AbortController();
        const late = await Promise.race([exited.then(() => false), delay(STOP_DEADLINE_MS, true, { signal: settled.signal }).catch(() => false)]);
        settled.abort();
        if (late && running()) child.kill('SIGKILL');
      }
      const [code, signal] = await exited;
      return { code, signal };
    },
  };
  t.teardown(async () => {
    const wasRunning = running();
    const end = await spawned.stop();
    if (!t.passing()) t.comment(`${name} (pid ${spawned.pid}, ${wasRunning ? `stopped in teardown: ${JSON.stringify(end)}` : 'had exited'}) stderr:\n${spawned.stderrTail()}`);
  });
  return spawned;
}

/** Where a hub process listens and keeps its data, and the secrets it is started with: the same for every restart. */
export interface HubProcessSetup {
  port: number;
  dataDir: string;
  tokenFile: string;
  adminTokenFile: string;
  /** The admin API token (--admin-token-file): it may create and stop experiments. */
  adminToken: string;
  /** http://127.0.0.1:PORT */
  url: string;
  agentUrl: string;
  /** A PostgreSQL store's URL ($PHOENIX_HUB_STORE); absent: the SQLite store in dataDir. */
  store?: string;
}

/** Writes the agents' token (AGENT_TOKEN) and an admin token into `dir` and picks a port. */
export async function hubProcessSetup(dir: string): Promise<HubProcessSetup> {
  const tokenFile = path.join(dir, 'agent-tokens');
  await writeFile(tokenFile, `${AGENT_TOKEN}\n`);
  const adminToken = 'kill-test-admin-token-0123456789';
  const adminTokenFile = path.join(dir, 'admin-token');
  await writeFile(adminTokenFile, `${adminToken}\n`, { mode: 0o600 });
  const port = await autoPort();
  return { port, dataDir: path.join(dir, 'hub-data'), tokenFile, adminTokenFile, adminToken, url: `http://127.0.0.1:${port}`, agentUrl: `ws://127.0.0.1:${port}/ws/agent` };
}

/** `count` replicas on the PostgreSQL store `store`: the same secrets, each its own port and data directory. */
export async function replicaSetups(dir: string, store: string, count: number): Promise<HubProcessSetup[]> {
  const first = await hubProcessSetup(dir);
  const setups = [{ ...first, store, dataDir: path.join(dir, 'hub-data-0') }];
  for (let i = 1; i < count; i++) {
    const port = await autoPort();
    setups.push({ ...first, store, port, dataDir: path.join(dir, `hub-data-${i}`), url: `http://127.0.0.1:${port}`, agentUrl: `ws://127.0.0.1:${port}/ws/agent` });
  }
  return setups;
}

/** Starts `phoenix-hub` as `setup` says and waits for /readyz. */
export async function startHubProcess(t: Test, setup: HubProcessSetup): Promise<Spawned> {
  const child = spawnTs(HUB_BIN, [
    '--port', String(setup.port),
    '--data-dir', setup.dataDir,
    '--token-file', setup.tokenFile,
    '--admin-token-file', setup.adminTokenFile,
    '--log-level', 'warn',
  ], setup.store ? { env: { PHOENIX_HUB_STORE: setup.store } } : {});
  child.stdout!.resume();
  const hub = own(t, child, 'phoenix-hub');
  await waitFor('the hub process ready', async () => {
    if (!hub.running()) throw new Error(`phoenix-hub exited before it was ready:\n${hub.stderrTail()}`);
    return (await fetch(`${setup.url}/readyz`).catch(() => null))?.ok;
  }, 60_000, 100);
  return hub;
}

export interface AgentProcess extends Spawned {
  /** Every report it printed, in order. */
  reports: AgentReport[];
  /** The next report printed after now that `pred` accepts. */
  nextReport(pred: (r: AgentReport) => boolean, what: string, ms?: number): Promise<AgentReport>;
}

/** Starts `phoenix-agent run --json` on `configFile` (its hub token is AGENT_TOKEN) with the real collector. */
export function startAgentProcess(t: Test, configFile: string): AgentProcess {
  const child = spawnTs(AGENT_BIN, ['run', '--json', '--config', configFile, '--otelcol', realCollector()], { env: { PHOENIX_HUB_TOKEN: AGENT_TOKEN } });
  const reports: AgentReport[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) reports.push(JSON.parse(line) as AgentReport);
  });
  const agent = own(t, child, 'phoenix-agent');
  return {
    ...agent,
    reports,
    async nextReport(pred, what, ms = 120_000) {
      const from = reports.length;
      let found: AgentReport | undefined;
      await waitFor(what, () => {
        if (!agent.running()) throw new Error(`phoenix-agent exited while waiting for ${what}:\n${agent.stderrTail()}`);
        return (found = reports.slice(from).find(pred)) !== undefined;
      }, ms, 50);
      return found!;
    },
  };
}

/** The collector pids a report names. */
export const reportPids = (r: AgentReport): number[] => r.variants.map((v) => v.pid).filter((p): p is number => p !== null).sort();

/** The pids of every process on this machine whose command line names `dir` (a collector started on a config in an agent's state dir). */
export function processesUnder(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').some((arg) => arg.includes(dir))) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids.sort();
}
