// Ground truth about the host: how many processes run, what they are and what they use, read from /proc
// (systeminformation where there is no /proc).
import { closeSync, existsSync, openSync, readdirSync, readSync } from 'node:fs';
import path from 'node:path';
import si from 'systeminformation';
import { identityFromComm, readOrNull, readProcessStat, type ProcessIdentity, type ProcessStat } from './process-identity.js';

export interface HostProcess extends ProcessIdentity {
  /** When it started (ms since the epoch), or null when unknown. */
  startedAt: number | null;
  /** User + system CPU time so far, in seconds; null where unknown (the portable listing). */
  cpuSeconds: number | null;
  /** CPU seconds used since the previous read; null for a process that read did not see (or on the first read). */
  cpuSecondsDelta: number | null;
  /** Resident set size in bytes; null where unknown. */
  rssBytes: number | null;
}

export interface HostProcesses {
  /** Processes on the host, the excluded ones left out. */
  count: number;
  processes: HostProcess[];
  /** The excluded pids that run (the agent's collectors): not the host's workload, but they use its CPU and memory. */
  excluded: HostProcess[];
  /** Since the previous read, in ms (what cpuSecondsDelta covers); null on the first. */
  intervalMs: number | null;
}

export interface HostProcessOptions {
  procRoot?: string;
  /** Pids to leave out of the picture (the agent's own collectors are not the host's workload). */
  exclude?: ReadonlySet<number>;
}

/** /proc/PID/stat counts start and CPU times in USER_HZ ticks, which Linux fixes at 100 for user space. */
const USER_HZ = 100;
/** The kernel's page size (rss in /proc/PID/stat is in pages), read once from the first mapping in /proc/self/smaps. */
export const PAGE_SIZE = kernelPageSize();
const PID_ENTRY = /^[1-9]\d*$/;

interface Known {
  /** As first read: start time and comm identify the process. */
  stat: ProcessStat;
  /** The same object every round; its usage fields are updated in place. */
  entry: HostProcess;
  /** The last read() that found it. */
  round: number;
}

/**
 * The host's processes, read from /proc every round and remembered between rounds. A process is read
 * once in full (its name past 15 characters from cmdline, its executable from the exe link); after that
 * one read of /proc/PID/stat a round tells whether the pid is still the same process (same start time)
 * and still runs the same program (same comm — exec changes it). Against reading status, stat, exe and
 * often cmdline of every process every round this is about a third of the system calls: the agent runs on
 * every host, beside the collectors it must cost far less than.
 *
 * Calling rules: one table per procRoot, `read()` from one place at a time; nothing to close.
 */
export class HostProcessTable {
  readonly procRoot: string;
  readonly #known = new Map<number, Known>();
  /** Read once: a process's start time is fixed when first seen, so a later clock step cannot move it. */
  #bootMs: number | null | undefined;
  #round = 0;
  #lastReadAt: number | null = null;

  constructor(procRoot = '/proc') {
    this.procRoot = procRoot;
  }

  read(exclude?: ReadonlySet<number>): HostProcesses {
    this.#bootMs ??= bootTimeMs(this.procRoot);
    const bootMs = this.#bootMs;
    const now = performance.now();
    const pids = readdirSync(this.procRoot)
      .filter((entry) => PID_ENTRY.test(entry))
      .map(Number);
    const round = ++this.#round;
    const processes: HostProcess[] = [];
    const excluded: HostProcess[] = [];
    for (const pid of pids) {
      const stat = readProcessStat(pid, this.procRoot);
      if (stat === null) continue; // gone since the listing
      const list = exclude?.has(pid) ? excluded : processes;
      const cpuSeconds = stat.cpuTicks / USER_HZ;
      const rssBytes = stat.rssPages * PAGE_SIZE;
      const known = this.#known.get(pid);
      if (known && known.stat.startTicks === stat.startTicks && known.stat.comm === stat.comm) {
        const entry = known.entry;
        // A zombie's counters drop to 0 once its threads are reaped: no negative use.
        entry.cpuSecondsDelta = Math.max(0, cpuSeconds - (entry.cpuSeconds ?? cpuSeconds));
        entry.cpuSeconds = cpuSeconds;
        entry.rssBytes = rssBytes;
        known.round = round;
        list.push(entry);
        continue;
      }
      const startedAt = bootMs === null || stat.startTicks < 0 ? null : bootMs + (stat.startTicks * 1000) / USER_HZ;
      const entry: HostProcess = {
        ...identityFromComm(pid, stat.comm, this.procRoot),
        startedAt,
        cpuSeconds,
        cpuSecondsDelta: null,
        rssBytes,
      };
      this.#known.set(pid, { stat, entry, round });
      list.push(entry);
    }
    for (const [pid, known] of this.#known) if (known.round !== round) this.#known.delete(pid);
    const intervalMs = this.#lastReadAt === null ? null : now - this.#lastReadAt;
    this.#lastReadAt = now;
    return { count: processes.length, processes, excluded, intervalMs };
  }

  /** Processes remembered from the last round (for tests and diagnostics). */
  get size(): number {
    return this.#known.size;
  }
}

/** Reads the host's processes each time it is called, remembering what it can between calls. */
export type HostProcessReader = (exclude?: ReadonlySet<number>) => Promise<HostProcesses>;

/**
 * The reader for this host: a HostProcessTable over procRoot, or where there is no /proc (a developer's
 * macOS, say) systeminformation's portable listing. A procRoot that was configured is used or fails —
 * never silently replaced by the agent's own view.
 */
export function hostProcessReader(procRoot?: string): HostProcessReader {
  if (procRoot === undefined && !existsSync('/proc/self')) return (exclude) => listWithSysteminformation(exclude ? { exclude } : {});
  const table = new HostProcessTable(procRoot);
  return async (exclude) => table.read(exclude);
}

/** One listing with nothing remembered (tests, one-off checks). */
export function readHostProcesses(options: HostProcessOptions = {}): Promise<HostProcesses> {
  return hostProcessReader(options.procRoot)(options.exclude);
}

/** The kernel's boot time (`btime` in /proc/stat), or null when unreadable. */
function bootTimeMs(procRoot: string): number | null {
  const match = /^btime (\d+)$/m.exec(readOrNull(path.join(procRoot, 'stat')) ?? '');
  return match ? Number(match[1]) * 1000 : null;
}

/**
 * The portable listing: systeminformation's process list (it runs `ps`), with the identity it gives — the
 * executable's name, and the command's basename for the executable. Used only where /proc is missing.
 */
export async function listWithSysteminformation(options: Pick<HostProcessOptions, 'exclude'> = {}): Promise<HostProcesses> {
  const all = (await si.processes()).list.map(
    (p): HostProcess => ({
      pid: p.pid,
      name: p.name,
      exeBase: p.command ? path.basename(p.command) : null,
      startedAt: parseStarted(p.started),
      cpuSeconds: null,
      cpuSecondsDelta: null,
      rssBytes: Number.isFinite(p.memRss) ? p.memRss * 1024 : null,
    }),
  );
  const processes = all.filter((p) => !options.exclude?.has(p.pid));
  return { count: processes.length, processes, excluded: all.filter((p) => options.exclude?.has(p.pid)), intervalMs: null };
}

function kernelPageSize(): number {
  const buffer = Buffer.alloc(4096);
  try {
    const fd = openSync('/proc/self/smaps', 'r');
    try {
      const match = /KernelPageSize:\s+(\d+) kB/.exec(buffer.toString('latin1', 0, readSync(fd, buffer, 0, buffer.length, 0)));
      if (match) return Number(match[1]) * 1024;
    } finally {
      closeSync(fd);
    }
  } catch {
    // not Linux, or no /proc: the portable listing gives bytes
  }
  return 4096;
}

// systeminformation gives local time as "YYYY-MM-DD hh:mm:ss".
function parseStarted(text: string | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}
