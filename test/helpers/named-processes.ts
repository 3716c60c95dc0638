// Real processes under names of a test's choosing: CPU burners (`yes`), memory hogs (`perl` holding a string) and
// idlers (`sleep`), each run from its own hard link so /proc shows that name; killed and removed in teardown.
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile, link, mkdtemp, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Test } from 'tap';

export interface NamedProcess {
  name: string;
  pid: number;
  path: string;
  proc: ChildProcess;
}

export type Kind = { kind: 'burner' } | { kind: 'idle' } | { kind: 'memory'; bytes: number };

const SOURCES = { burner: '/usr/bin/yes', idle: '/usr/bin/sleep', memory: '/usr/bin/perl' } as const;

/** A directory of links for one test, removed (with every process killed) in its teardown. */
export async function namedProcesses(t: Test): Promise<(name: string, what: Kind, options?: Pick<SpawnOptions, 'uid' | 'gid'>) => Promise<NamedProcess>> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-named-'));
  await chmod(dir, 0o755); // a process may run as another user
  const started: NamedProcess[] = [];
  t.teardown(async () => {
    for (const p of started) p.proc.kill('SIGKILL');
    await Promise.all(started.map((p) => (p.proc.exitCode === null && p.proc.signalCode === null ? once(p.proc, 'exit') : null)));
    await rm(dir, { recursive: true, force: true });
  });
  return async (name, what, options = {}) => {
    const file = path.join(dir, name);
    await link(SOURCES[what.kind], file).catch(() => copyFile(SOURCES[what.kind], file));
    const args = what.kind === 'burner' ? [] : what.kind === 'idle' ? ['infinity'] : ['-e', `my $x = "x" x ${what.bytes}; sleep 100000;`];
    const proc = spawn(file, args, { stdio: 'ignore', ...options });
    if (proc.pid === undefined) throw new Error(`could not spawn ${file}`);
    const named = { name, pid: proc.pid, path: file, proc };
    started.push(named);
    await waitUntil(async () => (await readlink(`/proc/${named.pid}/exe`).catch(() => '')) === file, `${name} to run from ${file}`);
    if (what.kind === 'memory') await waitUntil(async () => (await rssBytes(named.pid)) >= what.bytes, `${name} to hold ${what.bytes} bytes`);
    return named;
  };
}

/** Resident bytes of a process, from /proc/PID/status (VmRSS); 0 when gone. */
export async function rssBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  return match ? Number(match[1]) * 1024 : 0;
}

/**
 * Runs and stops a process in turn (SIGCONT for `onMs`, SIGSTOP for `offMs`) until the returned function is called
 * (which leaves it running); also stopped in teardown.
 */
export function cycle(t: Test, p: NamedProcess, onMs: number, offMs: number): () => Promise<void> {
  const abort = new AbortController();
  const loop = (async () => {
    try {
      while (!abort.signal.aborted) {
        p.proc.kill('SIGCONT');
        await sleep(onMs, undefined, { signal: abort.signal });
        p.proc.kill('SIGSTOP');
        await sleep(offMs, undefined, { signal: abort.signal });
      }
    } catch {
      // aborted
    }
    p.proc.kill('SIGCONT');
  })();
  const stop = async () => {
    abort.abort();
    await loop;
  };
  t.teardown(stop);
  return stop;
}

async function waitUntil(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
