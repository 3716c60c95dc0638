// A real phoenix-hub process for the benchmarks, and the timing helpers they share.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { autoPort } from '../agent/supervisor/ports.js';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BENCH_TOKEN = 'bench-token-0123456789abcdef';
/** The hub's admin token (--admin-token-file): the API reads below are made with it, as a dashboard would. */
export const BENCH_ADMIN_TOKEN = 'bench-admin-token-0123456789abcdef';

export interface HubProcess {
  child: ChildProcess;
  port: number;
  /** http://127.0.0.1:PORT */
  base: string;
  stop(): Promise<void>;
  /** What the hub wrote to stderr (its JSON log lines), when started with `captureLog`; otherwise ''. */
  log(): string;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** Milliseconds for one GET, body read; throws on an HTTP error. */
export async function timeGet(url: string): Promise<number> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${BENCH_ADMIN_TOKEN}` } });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
  return performance.now() - started;
}

/**
 * Starts `phoenix-hub` on `dataDir` (a token file is written into `dir`) and waits until it is ready. `captureLog`:
 * keep its stderr (the log at warn) for `log()` instead of passing it through; `store`: a PostgreSQL store's URL.
 */
export async function startHubProcess(dir: string, dataDir: string, options: { captureLog?: boolean; store?: string } = {}): Promise<HubProcess> {
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${BENCH_TOKEN}\n`);
  const admin = path.join(dir, 'admin-token');
  await writeFile(admin, `${BENCH_ADMIN_TOKEN}\n`, { mode: 0o600 });
  const port = await autoPort();
  const child = spawn(
    process.execPath,
    [path.join(here, '..', 'hub', 'bin.js'), '--port', String(port), '--data-dir', dataDir, '--token-file', tokens, '--admin-token-file', admin, '--log-level', 'warn'],
    { stdio: ['ignore', 'ignore', options.captureLog ? 'pipe' : 'inherit'], env: { ...process.env, ...(options.store ? { PHOENIX_HUB_STORE: options.store } : {}) } },
  );
  let logged = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (logged += d));
  const log = () => logged;
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if ((await fetch(`${base}/readyz`).catch(() => null))?.ok) return { child, port, base, stop, log };
    if (child.exitCode !== null) break;
    await delay(100);
  }
  await stop();
  throw new Error(`phoenix-hub on port ${port} did not become ready`);
}
