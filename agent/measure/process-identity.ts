// Reads a process's identity the way the collector's process scraper does (gopsutil on Linux).
import { readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

export interface ProcessIdentity {
  pid: number;
  /** process.executable.name: /proc/PID/status Name, extended from argv[0] when the kernel truncated it. */
  name: string;
  /** Basename of process.executable.path (/proc/PID/exe), or null when unreadable (kernel threads, permissions). */
  exeBase: string | null;
}

/** The kernel keeps at most 15 characters of a process name (TASK_COMM_LEN - 1). */
export const COMM_MAX = 15;

/** Returns null when the process is gone. `procRoot` is `/proc`, or e.g. `/hostfs/proc` in a container. */
export async function readIdentity(pid: number, procRoot = '/proc'): Promise<ProcessIdentity | null> {
  const dir = path.join(procRoot, String(pid));
  let status: string;
  try {
    status = await readFile(path.join(dir, 'status'), 'utf8');
  } catch {
    return null;
  }
  const nameLine = /^Name:\t(.*)$/m.exec(status);
  let name = unescapeStatusName(nameLine?.[1] ?? '');
  if (name.length >= COMM_MAX) {
    // gopsutil: a name cut at 15 characters is replaced by argv[0]'s basename when that starts with it.
    const cmdline = await readFile(path.join(dir, 'cmdline'), 'utf8').catch(() => '');
    const argv0 = cmdline.split('\0')[0] ?? '';
    const extended = path.basename(argv0);
    if (argv0 !== '' && extended.startsWith(name)) name = extended;
  }
  const exe = await readlink(path.join(dir, 'exe')).catch(() => null);
  return { pid, name, exeBase: exe === null ? null : path.basename(exe.replace(/ \(deleted\)$/, '')) };
}

// /proc/PID/status escapes a name's backslashes and newlines ("\\", "\n").
function unescapeStatusName(text: string): string {
  return text.includes('\\') ? text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : text;
}
