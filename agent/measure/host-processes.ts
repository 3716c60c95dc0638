// Ground truth about the host: how many processes run and what they are, from systeminformation and /proc.
import si from 'systeminformation';
import { readIdentity, type ProcessIdentity } from './process-identity.js';

export interface HostProcesses {
  count: number;
  identities: ProcessIdentity[];
}

export interface HostProcessOptions {
  procRoot?: string;
  /** Pids to leave out of the picture (the agent's own collectors are not the host's workload). */
  exclude?: ReadonlySet<number>;
}

/** Lists the host's processes (systeminformation) and reads each one's collector-visible identity (/proc). */
export async function readHostProcesses(options: HostProcessOptions = {}): Promise<HostProcesses> {
  const list = await si.processes();
  const pids = list.list.map((p) => p.pid).filter((pid) => !options.exclude?.has(pid));
  const identities: ProcessIdentity[] = [];
  // Small batches: hundreds of tiny /proc reads, without opening them all at once.
  for (let i = 0; i < pids.length; i += 64) {
    const batch = await Promise.all(pids.slice(i, i + 64).map((pid) => readIdentity(pid, options.procRoot)));
    for (const identity of batch) if (identity !== null) identities.push(identity);
  }
  return { count: pids.length, identities };
}
