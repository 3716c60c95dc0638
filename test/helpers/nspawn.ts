// A booted systemd in a container (systemd-nspawn): start it over an overlay of a cached tree, run commands in it, stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { describeResult, runCommand, type CommandOptions, type CommandResult } from './nspawn-command.js';
import { isAlive, waitFor } from './process.js';

/** Put in the container init's environment with the test's pid, so a later run can recognise the container of a run that died. */
const MARKER = 'PHOENIX_TEST_NSPAWN';
/** What commands run with inside: the tree's own tools, no host locale, pager or colours. */
const INSIDE_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', SYSTEMD_PAGER: 'cat', SYSTEMD_COLORS: '0', TERM: 'dumb' };

export interface Bind {
  host: string;
  container: string;
}

export interface ContainerOptions {
  /** The cached tree: the overlay's read-only lower layer, never written. */
  tree: string;
  /** A scratch directory of the caller's: the overlay's upper layer goes here (removing it is the caller's). */
  work: string;
  /** Machine name; also the container's hostname. */
  name: string;
  /** Host directories visible read-only inside. */
  binds?: Bind[];
  bootTimeoutMs?: number;
}

export interface ProcessEntry {
  pid: number;
  ppid: number;
  comm: string;
}

export interface Container {
  readonly name: string;
  /** Host pid of the container's systemd (PID 1 inside). */
  readonly initPid: number;
  /** The container's PID namespace (`pid:[inode]`): every host process in it belongs to the container. */
  readonly pidNamespace: string;
  /** Runs a program of the tree in every namespace of the container (its files, PIDs, network, hostname). */
  run(argv: string[], options?: CommandOptions): Promise<CommandResult>;
  /** Like run, but throws (naming the command and its output) unless it exits 0; resolves to its stdout. */
  check(argv: string[], options?: CommandOptions): Promise<string>;
  /** Runs a host program in the container's network namespace only (the tree has no HTTP client). */
  runInNetwork(argv: string[], options?: CommandOptions): Promise<CommandResult>;
  /** The container's processes as its own /proc shows them (the tree has no ps): PIDs of its namespace. */
  processes(): Promise<ProcessEntry[]>;
  /** `systemctl show UNIT` properties. */
  unit(name: string, properties: string[]): Promise<Record<string, string>>;
  /** Output the container's console wrote (systemd-nspawn's own messages included), for failure messages. */
  console(): string;
  /**
   * SIGTERM to systemd-nspawn (the container's systemd shuts down), wait; if it is still there after the grace,
   * SIGKILL the container's init (its whole PID namespace goes with it) and then nspawn. Resolves once nspawn has
   * exited; safe to call more than once.
   */
  close(graceMs?: number): Promise<void>;
}

/** Host pids of processes in PID namespace `ns`. */
export function processesInNamespace(ns: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/pid`) === ns) pids.push(Number(entry));
    } catch {
      // Exited while we looked, or a kernel thread.
    }
  }
  return pids;
}

/** Parses `/proc/PID/stat` lines: the command name sits in parentheses and may itself hold spaces or parentheses. */
export function parseStatLines(text: string): ProcessEntry[] {
  const out: ProcessEntry[] = [];
  for (const line of text.split('\n')) {
    const open = line.indexOf(' (');
    const close = line.lastIndexOf(') ');
    if (open < 0 || close < open) continue;
    const rest = line.slice(close + 2).split(' ');
    out.push({ pid: Number(line.slice(0, open)), comm: line.slice(open + 2, close), ppid: Number(rest[1]) });
  }
  return out;
}

/**
 * Containers of earlier runs whose test process died before its teardown (SIGKILL, or a tap timeout, which is
 * SIGALRM and runs no handler): nspawn outlives its parent, and the container with it. Recognised by the marker in
 * their init's environment, which names the test process that booted it; killing the init ends its PID namespace,
 * and nspawn exits with it.
 */
export function killOrphanedContainers(): number[] {
  const killed: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const marker = readFileSync(`/proc/${entry}/environ`, 'latin1').split('\0').find((v) => v.startsWith(`${MARKER}=`));
      if (!marker || readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'systemd' || isAlive(Number(marker.slice(MARKER.length + 1)))) continue;
      process.kill(Number(entry), 'SIGKILL');
      killed.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return killed;
}

const WORK_PREFIX = 'phx-nspawn-';

/**
 * A scratch directory for one run (the .deb, the overlay's upper layer), named with the test's pid; those of
 * runs that died before their teardown are removed first (call killOrphanedContainers before: their containers
 * use them).
 */
export function containerWorkDir(parent = tmpdir()): string {
  for (const name of readdirSync(parent)) {
    const owner = name.startsWith(WORK_PREFIX) ? Number(name.slice(WORK_PREFIX.length).split('-')[0]) : NaN;
    if (Number.isInteger(owner) && owner !== process.pid && !isAlive(owner)) rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  return mkdtempSync(path.join(parent, `${WORK_PREFIX}${process.pid}-`));
}

/** The first child of `pid`, once it runs systemd (before that it is nspawn's own set-up child). */
function initOf(pid: number): number | undefined {
  try {
    const child = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
    return child && readFileSync(`/proc/${child}/comm`, 'utf8').trim() === 'systemd' ? child : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Boots the tree's systemd in a container: its own PID, mount, IPC, UTS and network namespaces (only a loopback, so
 * its agent's fixed ports cannot meet anything on the host), root = overlay of the cached tree with an upper layer
 * in `work`. Resolves once `systemctl is-system-running --wait` answers; a boot that fails is stopped before the
 * rejection. No machined on the host, hence --register=no; --keep-unit: stay in the caller's cgroup.
 */
export async function bootContainer(options: ContainerOptions): Promise<Container> {
  const upper = path.join(options.work, 'upper');
  mkdirSync(upper, { recursive: true });
  const args = [
    '-q', '--register=no', '--keep-unit', '--private-network', `--setenv=${MARKER}=${process.pid}`,
    '-D', options.tree, `--overlay=${options.tree}:${upper}:/`,
    ...(options.binds ?? []).map((b) => `--bind-ro=${b.host}:${b.container}`),
    '-M', options.name, '-b', '--console=pipe',
  ];
  const nspawn = spawn('systemd-nspawn', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let consoleText = '';
  const keep = (d: Buffer) => (consoleText = (consoleText + d.toString('utf8')).slice(-20_000));
  nspawn.stdout.on('data', keep);
  nspawn.stderr.on('data', keep);
  // Settles on exit, or with the error when nspawn could not be started at all.
  const exited = once(nspawn, 'exit').catch((error: unknown) => error);
  let initPid = 0;
  const closer = closing(nspawn, exited, () => initPid);
  // If the test process ends without its teardown (an uncaught error), the container must not outlive it.
  const onExit = () => closer.killNow();
  process.once('exit', onExit);
  try {
    initPid = await waitFor('the container to start systemd', () => {
      if (nspawn.exitCode !== null || nspawn.signalCode !== null) throw new Error(`systemd-nspawn ${args.join(' ')} exited: ${consoleText}`);
      return initOf(nspawn.pid!);
    }, options.bootTimeoutMs ?? 60_000);
    const pidNamespace = readlinkSync(`/proc/${initPid}/ns/pid`);
    const enter = ['-t', String(initPid), '-m', '-u', '-i', '-n', '-p', '--'];
    const run = (argv: string[], o: CommandOptions = {}) => runCommand('nsenter', [...enter, ...argv], { env: INSIDE_ENV, ...o });
    const check = async (argv: string[], o: CommandOptions = {}) => {
      const r = await run(argv, o);
      if (r.code !== 0) throw new Error(describeResult(`in ${options.name}: ${argv.join(' ')}`, r));
      return r.stdout;
    };
    // Until its bus is up, systemctl cannot connect and prints nothing (or 'offline'); then --wait waits for the boot to finish.
    const state = await waitFor('systemd in the container to answer', async () => {
      const r = await run(['systemctl', 'is-system-running', '--wait'], { timeoutMs: options.bootTimeoutMs ?? 60_000 });
      // 'offline' is also what systemctl says while the container's manager is not up yet: keep waiting.
      const said = r.stdout.trim();
      return said && said !== 'offline' ? r : null;
    }, options.bootTimeoutMs ?? 60_000, 100);
    if (state.stdout.trim() !== 'running') {
      const failed = await run(['systemctl', '--failed', '--no-legend']);
      throw new Error(`${options.name} booted '${state.stdout.trim()}', not running; failed units: ${failed.stdout.trim() || '(none)'}`);
    }
    const container: Container = {
      name: options.name,
      initPid,
      pidNamespace,
      run,
      check,
      runInNetwork: (argv, o = {}) => runCommand('nsenter', ['-t', String(initPid), '-n', '--', ...argv], o),
      processes: async () => parseStatLines(await check(['sh', '-c', 'cat /proc/[0-9]*/stat 2>/dev/null; true'])),
      unit: async (name, properties) => {
        const text = await check(['systemctl', 'show', name, ...properties.map((p) => `--property=${p}`)]);
        return Object.fromEntries(text.split('\n').filter(Boolean).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      },
      console: () => consoleText,
      close: async (graceMs) => {
        await closer.close(graceMs);
        process.off('exit', onExit);
      },
    };
    return container;
  } catch (error) {
    await closer.close();
    process.off('exit', onExit);
    throw error;
  }
}

/** Stopping nspawn: one shutdown shared by every caller. */
function closing(nspawn: ChildProcess, exited: Promise<unknown>, init: () => number) {
  let done: Promise<void> | undefined;
  const running = () => nspawn.exitCode === null && nspawn.signalCode === null;
  const kill = (pid: number | undefined) => {
    try {
      if (pid && running()) process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  // Init first: its PID namespace goes with it (killing only nspawn would leave the container running).
  const killNow = () => [init(), nspawn.pid].forEach(kill);
  const exitsWithin = async (ms: number) => {
    const ac = new AbortController();
    try {
      return await Promise.race([exited.then(() => true), delay(ms, false, { signal: ac.signal })]);
    } finally {
      ac.abort();
    }
  };
  const close = async (graceMs = 30_000) => {
    if (!running()) return;
    nspawn.kill('SIGTERM');
    if (await exitsWithin(graceMs)) return;
    // nspawn, init's parent, reaps it and exits.
    kill(init());
    if (await exitsWithin(5_000)) return;
    kill(nspawn.pid);
    await exited;
  };
  return {
    killNow,
    close: (graceMs?: number) => (done ??= close(graceMs)),
  };
}
