// Ground truth about the host: how many processes run and what they are, read from /proc (systeminformation
// where there is no /proc).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import si from 'systeminformation';
import { readIdentitySync, readOrNull, type ProcessIdentity } from './process-identity.js';

export interface HostProcess extends ProcessIdentity {
  /** When it started (ms since the epoch), or null when unknown. */
  startedAt: number | null;
}

export interface HostProcesses {
  count: number;
  processes: HostProcess[];
}

export interface HostProcessOptions {
  procRoot?: string;
  /** Pids to leave out of the picture (the agent's own collectors are not the host's workload). */
  exclude?: ReadonlySet<number>;
}

/** /proc/PID/stat counts start times in USER_HZ ticks, which Linux fixes at 100 for user space. */
const USER_HZ = 100;

/**
 * Lists the host's processes from procRoot and reads each one's collector-visible identity. Read
 * directly and synchronously: through `ps` (systeminformation) it spawned a shell, `ps` and a `cat` per
 * process every interval, and through fs/promises the thread-pool round trips cost ~5× the reads
 * themselves. The event loop is held for ~10 ms per 400 processes.
 */
export async function readHostProcesses(options: HostProcessOptions = {}): Promise<HostProcesses> {
  // No /proc (a developer's macOS, say): systeminformation lists the processes portably. A procRoot that
  // was configured is used or fails — never silently replaced by the agent's own view.
  if (options.procRoot === undefined && !existsSync('/proc/self')) return listWithSysteminformation(options);
  const procRoot = options.procRoot ?? '/proc';
  const bootMs = bootTimeMs(procRoot);
  const pids = readdirSync(procRoot)
    .filter((entry) => /^[1-9]\d*$/.test(entry))
    .map(Number)
    .filter((pid) => !options.exclude?.has(pid));
  const processes: HostProcess[] = [];
  for (const pid of pids) {
    const identity = readIdentitySync(pid, procRoot);
    if (identity !== null) processes.push({ ...identity, startedAt: startedAt(pid, procRoot, bootMs) });
  }
  return { count: pids.length, processes };
}

/** The kernel's boot time (`btime` in /proc/stat), or null when unreadable. */
function bootTimeMs(procRoot: string): number | null {
  const match = /^btime (\d+)$/m.exec(readOrNull(path.join(procRoot, 'stat')) ?? '');
  return match ? Number(match[1]) * 1000 : null;
}

/** Field 22 of /proc/PID/stat (start time in ticks since boot) as ms since the epoch; null when unknown. */
function startedAt(pid: number, procRoot: string, bootMs: number | null): number | null {
  if (bootMs === null) return null;
  const stat = readOrNull(path.join(procRoot, String(pid), 'stat'));
  if (stat === null) return null;
  // The name in parentheses may hold spaces and parentheses: count fields from the last ')'.
  const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
  return Number.isFinite(ticks) ? bootMs + (ticks * 1000) / USER_HZ : null;
}

/**
 * The portable listing: systeminformation's process list (it runs `ps`), with the identity it gives — the
 * executable's name, and the command's basename for the executable. Used only where /proc is missing.
 */
export async function listWithSysteminformation(options: Pick<HostProcessOptions, 'exclude'> = {}): Promise<HostProcesses> {
  const listed = (await si.processes()).list.filter((p) => !options.exclude?.has(p.pid));
  const processes = listed.map((p) => ({
    pid: p.pid,
    name: p.name,
    exeBase: p.command ? path.basename(p.command) : null,
    startedAt: parseStarted(p.started),
  }));
  return { count: listed.length, processes };
}

// systeminformation gives local time as "YYYY-MM-DD hh:mm:ss".
function parseStarted(text: string | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}
