// Reads a process's identity the way the collector's process scraper does (gopsutil on Linux).
import { closeSync, openSync, readFileSync, readlinkSync, readSync } from 'node:fs';
import path from 'node:path';

export interface ProcessIdentity {
  pid: number;
  /** process.executable.name: the kernel's comm, extended from argv[0] when the kernel truncated it. */
  name: string;
  /** Basename of process.executable.path (/proc/PID/exe), or null when unreadable (kernel threads, permissions). */
  exeBase: string | null;
}

/** What one read of /proc/PID/stat tells: the kernel's name for the process, when it started, what it uses. */
export interface ProcessStat {
  /** comm, at most COMM_MAX characters (gopsutil's Name from /proc/PID/status is the same text, escaped). */
  comm: string;
  /** Field 22: start time in clock ticks since boot. With the pid it identifies one process for good. */
  startTicks: number;
  /** Fields 14 + 15: user and system CPU time so far, in clock ticks (USER_HZ). */
  cpuTicks: number;
  /** Field 24: resident set size, in pages. */
  rssPages: number;
}

/** The kernel keeps at most 15 characters of a process name (TASK_COMM_LEN - 1). */
export const COMM_MAX = 15;

// /proc/PID/stat is one line of about 300 bytes (a comm of at most 16 bytes, 52 numbers): one shared buffer,
// one read, no fstat and no string for the whole file. A line that fills it is read again the long way.
const statBuffer = Buffer.allocUnsafe(4096);

/**
 * Reads /proc/PID/stat; null when the process is gone or unreadable. Synchronous: /proc reads are answered
 * from kernel memory in microseconds; through fs/promises each cost thread-pool round trips. Parsed from
 * the bytes: only the name becomes a string (this runs for every process on the host, every round).
 */
export function readProcessStat(pid: number, procRoot = '/proc'): ProcessStat | null {
  const file = `${procRoot}/${pid}/stat`;
  let buffer = statBuffer;
  let length: number;
  try {
    const fd = openSync(file, 'r');
    try {
      length = readSync(fd, statBuffer, 0, statBuffer.length, 0);
    } finally {
      closeSync(fd);
    }
    if (length === statBuffer.length) {
      buffer = readFileSync(file);
      length = buffer.length;
    }
  } catch {
    return null;
  }
  // The name in parentheses may hold spaces and parentheses: it runs from the first '(' to the last ')'.
  const open = buffer.indexOf(0x28);
  const close = buffer.lastIndexOf(0x29, length - 1);
  if (open < 0 || close < open) return null;
  const fields = statFields(buffer, close + 2, length);
  return {
    comm: buffer.toString('utf8', open + 1, close),
    startTicks: fields[F_START],
    cpuTicks: fields[F_UTIME] >= 0 && fields[F_STIME] >= 0 ? fields[F_UTIME] + fields[F_STIME] : 0,
    rssPages: Math.max(0, fields[F_RSS]),
  };
}

// The numeric fields read, by their number in proc(5), and where each lands in statFields' result.
const WANTED = [14, 15, 22, 24] as const;
const [F_UTIME, F_STIME, F_START, F_RSS] = [0, 1, 2, 3] as const;
const scratch = new Float64Array(WANTED.length);

/**
 * The WANTED fields as numbers, read digit by digit from field 3 (the state, at `from`) on; -1 for one that is
 * absent or not a number. Returns a shared array: read it before the next call.
 */
function statFields(buffer: Buffer, from: number, length: number): Float64Array {
  scratch.fill(-1);
  let field = 3;
  let want = 0;
  let i = from;
  while (i < length && want < WANTED.length) {
    let end = i;
    while (end < length && buffer[end] !== 0x20 && buffer[end] !== 0x0a) end++;
    if (field === WANTED[want]) {
      let value = 0;
      let j = i;
      for (; j < end; j++) {
        const c = buffer[j]!;
        if (c < 0x30 || c > 0x39) break;
        value = value * 10 + (c - 0x30);
      }
      if (j === end && end > i) scratch[want] = value;
      want++;
    }
    field++;
    i = end + 1;
  }
  return scratch;
}

/**
 * The identity of a process whose comm is known: the name gopsutil reports and the executable's basename.
 * Returns the name even when /proc/PID/exe cannot be read (kernel threads, other users' processes).
 */
export function identityFromComm(pid: number, comm: string, procRoot = '/proc'): ProcessIdentity {
  const dir = path.join(procRoot, String(pid));
  let name = comm;
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

/** Returns null when the process is gone. `procRoot` is `/proc`, or e.g. `/hostfs/proc` in a container. */
export function readIdentitySync(pid: number, procRoot = '/proc'): ProcessIdentity | null {
  const stat = readProcessStat(pid, procRoot);
  return stat === null ? null : identityFromComm(pid, stat.comm, procRoot);
}

/** A /proc file's text, or null when it is gone or unreadable. */
export function readOrNull(file: string): string | null {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
