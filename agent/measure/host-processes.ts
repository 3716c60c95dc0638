// Ground truth about the host: how many processes run and what they are, read from /proc (systeminformation
// where there is no /proc).
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import si from 'systeminformation';
import { identityFromComm, readOrNull, readProcessStat, type ProcessIdentity, type ProcessStat } from './process-identity.js';

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
const PID_ENTRY = /^[1-9]\d*$/;

interface Known {
  stat: ProcessStat;
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

  constructor(procRoot = '/proc') {
    this.procRoot = procRoot;
  }

  read(exclude?: ReadonlySet<number>): HostProcesses {
    this.#bootMs ??= bootTimeMs(this.procRoot);
    const bootMs = this.#bootMs;
    const pids = readdirSync(this.procRoot)
      .filter((entry) => PID_ENTRY.test(entry))
      .map(Number)
      .filter((pid) => !exclude?.has(pid));
    const round = ++this.#round;
    const processes: HostProcess[] = [];
    for (const pid of pids) {
      const stat = readProcessStat(pid, this.procRoot);
      if (stat === null) continue; // gone since the listing
      const known = this.#known.get(pid);
      if (known && known.stat.startTicks === stat.startTicks && known.stat.comm === stat.comm) {
        known.round = round;
        processes.push(known.entry);
        continue;
      }
      const startedAt = bootMs === null || stat.startTicks < 0 ? null : bootMs + (stat.startTicks * 1000) / USER_HZ;
      const entry: HostProcess = { ...identityFromComm(pid, stat.comm, this.procRoot), startedAt };
      this.#known.set(pid, { stat, entry, round });
      processes.push(entry);
    }
    for (const [pid, known] of this.#known) if (known.round !== round) this.#known.delete(pid);
    return { count: pids.length, processes };
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
