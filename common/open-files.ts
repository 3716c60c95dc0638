// The open-file limits a process runs under (Linux: /proc/self/limits). Every socket is one of a process's files, so
// the hub's limit caps how many agents it holds at once; Node raises its soft limit to the hard one at start.
import { readFileSync } from 'node:fs';

export interface OpenFileLimits {
  soft: number;
  hard: number;
}

/** Parses the "Max open files" line of a /proc/<pid>/limits text; null when there is none. */
export function parseOpenFileLimits(text: string): OpenFileLimits | null {
  const m = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text);
  const value = (s: string) => (s === 'unlimited' ? Infinity : Number(s));
  return m ? { soft: value(m[1]!), hard: value(m[2]!) } : null;
}

/** This process's limits; null where the system does not say (not Linux). */
export function openFileLimits(): OpenFileLimits | null {
  try {
    return parseOpenFileLimits(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return null;
  }
}
