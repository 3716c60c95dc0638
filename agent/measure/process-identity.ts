// Reads a process's identity the way the collector's process scraper does (gopsutil on Linux).
import { readFileSync, readlinkSync } from 'node:fs';
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

/**
 * Returns null when the process is gone. `procRoot` is `/proc`, or e.g. `/hostfs/proc` in a container.
 * Synchronous: /proc reads are answered from kernel memory in microseconds; through fs/promises each cost
 * four thread-pool round trips, which made listing the host's processes the larger part of the agent's CPU.
 */
export function readIdentitySync(pid: number, procRoot = '/proc'): ProcessIdentity | null {
  const dir = path.join(procRoot, String(pid));
  const status = readOrNull(path.join(dir, 'status'));
  if (status === null) return null;
  const nameLine = /^Name:\t(.*)$/m.exec(status);
  let name = unescapeStatusName(nameLine?.[1] ?? '');
  if (name.length >= COMM_MAX) {
    // gopsutil: a name cut at 15 characters is replaced by argv[0]'s basename when that starts with it.
    const argv0 = (readOrNull(path.join(dir, 'cmdline')) ?? '').split('\0')[0] ?? '';
    const extended = path.basename(argv0);
    if (argv0 !== '' && extended.startsWith(name)) name = extended;
  }
  let exe: string | null = null;
  try {
    exe = readlinkSync(path.join(dir, 'exe'));
  } catch {
    // a kernel thread, another user's process without the capability, or gone
  }
  return { pid, name, exeBase: exe === null ? null : path.basename(exe.replace(/ \(deleted\)$/, '')) };
}

/** A /proc file's text, or null when it is gone or unreadable. */
export function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

// /proc/PID/status escapes a name's backslashes and newlines ("\\", "\n").
function unescapeStatusName(text: string): string {
  return text.includes('\\') ? text.replace(/\\(\\|n)/g, (_m, c: string) => (c === 'n' ? '\n' : '\\')) : text;
}
