// A real `phoenix-agent run --json` process for the benchmarks: its config in a temp dir, its NDJSON
// reports, its health endpoint, its collectors' pids, and a clean stop that proves they are gone.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { locateCollector } from '../agent/collector/locate.js';
import type { AgentStatus } from '../agent/health-server.js';
import type { AgentReport } from '../protocol/report.js';
import { autoPort } from '../agent/supervisor/ports.js';
import { isAlive, readPidFile } from '../agent/supervisor/pidfile.js';

/** The executable behind a pid, or null when it is gone. */
function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`);
  } catch {
    return null;
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
const AGENT_BIN = path.join(here, '..', 'agent', 'bin.js');
/** Longer than the agent's own 30 s shutdown deadline, so a SIGKILL here means the agent itself hung. */
const STOP_TIMEOUT_MS = 45_000;

/**
 * Executable names the benchmarks give simulated processes so that the agent's default critical
 * patterns find them: common daemons, and two longer than the kernel's 15-character name.
 */
export const BENCH_CRITICAL_NAMES = ['sshd', 'postgres', 'containerd', 'kubelet', 'dockerd', 'kube-proxy', 'kube-controller-manager', 'containerd-shim-runc-v2'];

export interface AgentProcessOptions {
  /** The A/B pair, e.g. ['baseline', 'optimized-a']. */
  variants: [string, string];
  /** More agent config (merged over the bench defaults: free ports, a health port, a temp state dir, warn logs). */
  config?: Record<string, unknown>;
  /** The agent's `loss.enabled` (default true, as the agent's own default): false measures critical retention only. */
  loss?: boolean;
  /** Node flags for the agent process (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Aborting it makes a pending wait reject (the caller then stops the agent). */
  signal?: AbortSignal;
}

export interface AgentStop {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** The agent did not exit within STOP_TIMEOUT_MS of SIGTERM and was killed. */
  forced: boolean;
  /** Collector pids seen during the run that still ran after the agent exited (should be none). */
  collectorsLeft: number[];
}

export interface AgentProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  readonly dir: string;
  readonly healthUrl: string;
  /** Every report printed so far, in order. */
  readonly reports: AgentReport[];
  /** Collector pid per variant, from the agent's pid file (no request to the agent, so it costs it nothing). */
  collectorPids(): Map<string, number>;
  status(): Promise<AgentStatus>;
  /** Resolves when both collectors run (/readyz 200); rejects if the agent exits or `timeoutMs` passes. */
  waitReady(timeoutMs?: number): Promise<void>;
  /** Resolves with the first report generated at or after `since` (ms since the epoch). */
  reportAfter(since: number, timeoutMs?: number): Promise<AgentReport>;
  /** SIGTERM, wait for the exit (SIGKILL after a deadline), check no collector outlived it, remove the temp dir. */
  stop(): Promise<AgentStop>;
}

/** Starts the agent daemon (`run --json`) against the real collector. Call `stop()` exactly once, in `finally`. */
export async function startAgentProcess(options: AgentProcessOptions): Promise<AgentProcess> {
  const collector = locateCollector().path;
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-bench-agent-'));
  const stateDir = path.join(dir, 'state');
  const healthPort = await autoPort();
  const config = {
    host: { id: 'bench' },
    ports: { base: 0 },
    health: { port: healthPort },
    stateDir,
    log: { level: 'warn', format: 'json' },
    ...options.config,
    ...(options.loss === undefined ? {} : { loss: { ...(options.config?.loss as Record<string, unknown> | undefined), enabled: options.loss } }),
    experiment: { variants: options.variants },
  };
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, stringify(config));
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), AGENT_BIN, 'run', '--json', '--config', file, '--otelcol', collector], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  const reports: AgentReport[] = [];
  const stderrTail: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    if (line.startsWith('{')) reports.push(JSON.parse(line) as AgentReport);
  });
  createInterface({ input: child.stderr! }).on('line', (line) => {
    stderrTail.push(line);
    if (stderrTail.length > 20) stderrTail.shift();
  });
  const signal = options.signal ?? new AbortController().signal;
  const seenPids = new Set<number>();
  const healthUrl = `http://127.0.0.1:${healthPort}`;
  const running = () => child.exitCode === null && child.signalCode === null;
  const failure = (what: string) => new Error(`phoenix-agent ${what}; its last log lines:\n${stderrTail.join('\n')}`);

  const collectorPids = () => {
    const pids = new Map<string, number>();
    for (const entry of readPidFile(path.join(stateDir, 'collectors.json'))) {
      pids.set(entry.variant, entry.pid);
      seenPids.add(entry.pid);
    }
    return pids;
  };

  let stopping: Promise<AgentStop> | undefined;
  const agent: AgentProcess = {
    child,
    pid: child.pid!,
    dir,
    healthUrl,
    reports,
    collectorPids,
    async status() {
      const status = (await (await fetch(`${healthUrl}/status`)).json()) as AgentStatus;
      for (const c of status.collectors) if (c.pid !== null) seenPids.add(c.pid);
      return status;
    },
    async waitReady(timeoutMs = 90_000) {
      const deadline = Date.now() + timeoutMs;
      while (running()) {
        const res = await fetch(`${healthUrl}/readyz`).catch(() => null);
        if (res?.ok) {
          await agent.status();
          return;
        }
        if (Date.now() > deadline) throw failure(`was not ready within ${timeoutMs} ms`);
        await delay(250, undefined, { signal });
      }
      throw failure(`exited (code ${child.exitCode}, signal ${child.signalCode}) before both collectors ran`);
    },
    async reportAfter(since, timeoutMs = 120_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const report = reports.find((r) => Date.parse(r.generatedAt) >= since);
        if (report) return report;
        if (!running()) throw failure(`exited (code ${child.exitCode}) while a report was awaited`);
        if (Date.now() > deadline) throw failure(`printed no report within ${timeoutMs} ms`);
        await delay(200, undefined, { signal });
      }
    },
    stop() {
      stopping ??= (async () => {
        collectorPids();
        for (const r of reports) for (const v of r.variants) if (v.pid !== null) seenPids.add(v.pid);
        let forced = false;
        if (running()) {
          child.kill('SIGTERM');
          const settled = new AbortController();
          const deadline = delay(STOP_TIMEOUT_MS, 'deadline', { signal: settled.signal }).catch(() => 'settled');
          const first = await Promise.race([exited.then(() => 'exited'), deadline]);
          settled.abort();
          if (first === 'deadline' && running()) {
            forced = true;
            child.kill('SIGKILL');
          }
        }
        const [code, exitSignal] = await exited;
        const collectorsLeft = [...seenPids].filter(isAlive);
        // Reported as a failure, but not left behind: only pids still running this collector binary.
        for (const pid of collectorsLeft) if (exeOf(pid) === collector) process.kill(pid, 'SIGKILL');
        await rm(dir, { recursive: true, force: true });
        return { code, signal: exitSignal, forced, collectorsLeft };
      })();
      return stopping;
    },
  };
  return agent;
}
