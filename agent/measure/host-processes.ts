// Ground truth about the host: how many processes run and what they are, from systeminformation and /proc.
import si from 'systeminformation';
import { readIdentity, type ProcessIdentity } from './process-identity.js';

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

/** Lists the host's processes (systeminformation) and reads each one's collector-visible identity (/proc). */
export async function readHostProcesses(options: HostProcessOptions = {}): Promise<HostProcesses> {
  const list = await si.processes();
  const listed = list.list.filter((p) => !options.exclude?.has(p.pid));
  const processes: HostProcess[] = [];
  // Small batches: hundreds of tiny /proc reads, without opening them all at once.
  for (let i = 0; i < listed.length; i += 64) {
    const slice = listed.slice(i, i + 64);
    const batch = await Promise.all(slice.map((p) => readIdentity(p.pid, options.procRoot)));
    batch.forEach((identity, j) => {
      if (identity !== null) processes.push({ ...identity, startedAt: parseStarted(slice[j]!.started) });
    });
  }
  return { count: listed.length, processes };
}

// systeminformation gives local time as "YYYY-MM-DD hh:mm:ss".
function parseStarted(text: string | undefined): number | null {
  if (!text) return null;
  const ms = Date.parse(text.replace(' ', 'T'));
  return Number.isNaN(ms) ? null : ms;
}
