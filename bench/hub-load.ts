// Hub scale bench: a real hub process, N simulated agents from a separate load process, the comparison
// API timed while it ingests, and the hub's memory sampled throughout.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import pidusage from 'pidusage';
import { autoPort } from '../agent/supervisor/ports.js';

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

const here = path.dirname(fileURLToPath(import.meta.url));
const TOKEN = 'bench-token-0123456789abcdef';

function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function timeGet(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url);
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - started;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

export async function runHubLoad(agents: number, intervalMs: number, durationMs: number): Promise<HubLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-bench-hub-'));
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN}\n`);
  const port = await autoPort();
  const hub = spawn(process.execPath, [path.join(here, '..', 'hub', 'bin.js'), '--port', String(port), '--data-dir', path.join(dir, 'data'), '--token-file', tokens, '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const base = `http://127.0.0.1:${port}`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`${base}/readyz`).catch(() => null))?.ok) break;
      await delay(100);
    }
    const load = spawn(process.execPath, [path.join(here, 'load-agents.js'), `ws://127.0.0.1:${port}/ws/agent`, TOKEN, String(agents), String(intervalMs), String(durationMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    load.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
    const loadDone = once(load, 'exit');
    let running = true;
    void loadDone.then(() => (running = false));

    const comparisonTimes: number[] = [];
    const rss: number[] = [];
    const cpu: number[] = [];
    let lastSample = 0;
    await pidusage(hub.pid!); // prime
    while (running) {
      comparisonTimes.push(await timeGet(`${base}/api/v1/comparison?window=1h`));
      if (Date.now() - lastSample >= 1000) {
        lastSample = Date.now();
        const stat = await pidusage(hub.pid!);
        rss.push(stat.memory);
        cpu.push(stat.cpu);
      }
      await delay(200);
    }
    await loadDone;
    const idle: number[] = [];
    for (let i = 0; i < 40; i++) idle.push(await timeGet(`${base}/api/v1/comparison?window=1h`));
    pidusage.clear();
    const result = JSON.parse(output.trim().split('\n').at(-1)!) as { agents: number; acked: number; seconds: number; ackP50: number | null; ackP99: number | null };
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
    await stop(hub);
    await rm(dir, { recursive: true, force: true });
  }
}
