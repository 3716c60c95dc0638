// Records the collectors this agent started, so the next agent can stop any that a killed agent left behind.
import { readFileSync, renameSync, writeFileSync, mkdirSync, readlinkSync, rmSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { Logger } from '../../common/logger.js';

export interface PidEntry {
  variant: string;
  pid: number;
  binary: string;
  agentPid: number;
  startedAt: string;
}

/** True while `pid` exists and is not a zombie (an exited child nobody has reaped yet). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** The executable behind a pid, or null when it is gone or unreadable; guards against a reused pid. */
function exeOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  } catch {
    return null;
  }
}

/**
 * A small JSON file of live collector pids. Writes are atomic (temp file + rename); a write that fails
 * (disk full, read-only) is logged and the agent carries on: the file is a safety net, not a dependency.
 * Several instances may share the file (each pair has one, and during a switch the old pair and the new one run
 * side by side, with the same variant names): each change reads the file and adds or removes one pid, so no
 * instance writes over another's entries.
 */
export class PidFile {
  readonly file: string;
  readonly #logger: Logger;

  constructor(file: string, logger: Logger) {
    this.file = file;
    this.#logger = logger;
  }

  add(entry: PidEntry): void {
    this.#write([...readPidFile(this.file).filter((e) => e.pid !== entry.pid), entry]);
  }

  remove(pid: number): void {
    this.#write(readPidFile(this.file).filter((e) => e.pid !== pid));
  }

  #write(entries: PidEntry[]): void {
    try {
      mkdirSync(path.dirname(this.file), { recursive: true });
      if (entries.length === 0) {
        rmSync(this.file, { force: true });
        return;
      }
      const temp = `${this.file}.${process.pid}.tmp`;
      writeFileSync(temp, `${JSON.stringify(entries)}\n`);
      renameSync(temp, this.file);
    } catch (error) {
      this.#logger.warn({ err: error, file: this.file }, 'cannot write the collector pid file; leftover collectors of a killed agent may not be found');
    }
  }
}

export function readPidFile(file: string): PidEntry[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  try {
    const data: unknown = JSON.parse(text);
    if (!Array.isArray(data)) return [];
    return data.filter(
      (e): e is PidEntry =>
        typeof e === 'object' && e !== null && Number.isInteger(e.pid) && e.pid > 1 && typeof e.binary === 'string' && typeof e.variant === 'string',
    );
  } catch {
    return [];
  }
}

/**
 * Stops collectors a previous agent left running (SIGTERM, then SIGKILL after `graceMs`), but only
 * where the pid still runs the recorded binary. Returns the pids it stopped. Removes the file.
 */
export async function reapLeftovers(file: string, logger: Logger, graceMs = 5000): Promise<number[]> {
  const reaped: number[] = [];
  for (const entry of readPidFile(file)) {
    if (entry.pid === process.pid || !isAlive(entry.pid)) continue;
    const exe = exeOf(entry.pid);
    if (exe === null || path.resolve(exe) !== path.resolve(entry.binary)) continue;
    logger.warn({ pid: entry.pid, variant: entry.variant }, 'stopping a collector left behind by a previous agent');
    try {
      process.kill(entry.pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = Date.now() + graceMs;
    while (isAlive(entry.pid) && Date.now() < deadline) await delay(50);
    if (isAlive(entry.pid)) {
      try {
        process.kill(entry.pid, 'SIGKILL');
      } catch {
        // already gone
      }
      while (isAlive(entry.pid)) await delay(20);
    }
    reaped.push(entry.pid);
  }
  rmSync(file, { force: true });
  return reaped;
}
