// Gives the host N real processes with distinct executable names (hard links of sleep/yes) for tests, benchmarks and demos.
// Past ~300 lines on purpose: spawning, churn and duty cycling share the process table and its clean-up on every
// path (start, abort, close, closeSync); the options and their validation are options.ts.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants, rmSync } from 'node:fs';
import { access, chmod, copyFile, link, mkdtemp, readlink, realpath, rm, stat, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimulatorError } from './errors.js';
import { UsageError, showValue } from '../../common/errors.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { DEFAULT_NAME_PREFIX, validateSimulatorOptions, type SimulatorOptions } from './options.js';

export { DEFAULT_NAME_PREFIX, MAX_PROCESSES, MIN_CHURN_EVERY_MS, validateSimulatorOptions, type OptionLabels, type SimulatorOptions } from './options.js';

export interface SimulatedProcess {
  pid: number;
  name: string;
  /** The hard link it was executed from: what readlink /proc/PID/exe shows. */
  path: string;
  critical: boolean;
  burner: boolean;
}

/**
 * A running set of simulated processes. Create it with startSimulator; call close() exactly when done
 * (further calls return the same promise). closeSync() is only for a process 'exit' handler.
 */
export interface Simulator {
  readonly dir: string;
  /** The processes currently alive, in slot order; a churned process is listed only once its replacement is alive. */
  processes(): SimulatedProcess[];
  /** Stops churn and duty cycling, SIGKILLs every child, resolves once each has exited, removes what it created in dir. Idempotent. */
  close(): Promise<void>;
  /** Last resort for a process 'exit' handler: SIGKILLs every child and removes created files without waiting. close() still works after it. */
  closeSync(): void;
}

const BINARIES = { sleep: ['/usr/bin/sleep', '/bin/sleep'], yes: ['/usr/bin/yes', '/bin/yes'] } as const;
const DUTY_PERIOD_MS = 100;
const READY_TIMEOUT_MS = 5_000;
/** Spawns in flight at once: enough to start 5000 in seconds, few enough not to stall the event loop for long. */
const SPAWN_BATCH = 64;

/** Starts every process; resolves once each is alive with /proc/PID/exe at its own link. On failure nothing is left behind. */
export async function startSimulator(options: SimulatorOptions): Promise<Simulator> {
  validateSimulatorOptions(options);
  options.signal?.throwIfAborted();
  if (process.platform !== 'linux') {
    throw new SimulatorError('PHX_SIMULATOR_UNSUPPORTED', `the process simulator needs Linux's /proc, got platform '${process.platform}'`);
  }
  const logger = (options.logger ?? silentLogger()).child({ component: 'simulator' });
  const sources = { sleep: await findBinary(BINARIES.sleep), yes: await findBinary(BINARIES.yes) };
  let dir: string;
  if (options.dir === undefined) {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'phx-sim-')));
  } else {
    const info = await stat(options.dir).catch(() => undefined);
    if (!info?.isDirectory()) throw new UsageError(`dir must be an existing directory, got ${showValue(options.dir)}`);
    // /proc/PID/exe shows the resolved path, so compare against the resolved dir.
    dir = await realpath(options.dir);
  }
  const simulator = new ProcessSimulator(options, dir, options.dir === undefined, logger);
  const abortStart = (): void => simulator.abortStart(options.signal?.reason);
  options.signal?.addEventListener('abort', abortStart, { once: true });
  try {
    await simulator.start(sources);
  } catch (error) {
    await simulator.close();
    throw error;
  } finally {
    options.signal?.removeEventListener('abort', abortStart);
  }
  return simulator;
}

async function findBinary(candidates: readonly string[]): Promise<string> {
  for (const candidate of candidates) {
    if (await access(candidate, constants.X_OK).then(() => true, () => false)) return candidate;
  }
  throw new SimulatorError('PHX_SIMULATOR_UNSUPPORTED', `no executable found at ${candidates.join(' or ')} (GNU coreutils is needed)`);
}

interface Slot {
  readonly baseName: string;
  readonly critical: boolean;
  readonly burner: boolean;
  child?: Child;
}

interface Child {
  readonly pid: number;
  readonly name: string;
  readonly path: string;
  readonly proc: ChildProcess;
  /** Resolves on the child's 'exit', i.e. once it is reaped and its pid is gone. */
  readonly exited: Promise<void>;
  /** Spawn order, so churn can replace the oldest first. */
  readonly born: number;
  /** Set before the simulator kills it on purpose, so its exit is not reported as unexpected. */
  retired: boolean;
}

class ProcessSimulator implements Simulator {
  private readonly slots: Slot[] = [];
  /** Every spawned child that has not exited yet, listed or not (in verification, or being retired). */
  private readonly children = new Set<Child>();
  /** Every file (and the template directory) this simulator created in dir. */
  private readonly files = new Set<string>();
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private templates = { sleep: '', yes: '' };
  private born = 0;
  private generation = 0;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly options: SimulatorOptions,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly logger: Logger,
  ) {
    const critical = options.criticalNames ?? [];
    const burners = options.cpuBurners ?? 0;
    for (const name of critical) this.slots.push({ baseName: name, critical: true, burner: false });
    const prefix = options.namePrefix ?? DEFAULT_NAME_PREFIX;
    for (let n = 1; n <= options.count - critical.length; n++) {
      this.slots.push({ baseName: `${prefix}-${String(n).padStart(4, '0')}`, critical: false, burner: n <= burners });
    }
  }

  async start(sources: { sleep: string; yes: string }): Promise<void> {
    // One template per binary on dir's filesystem, in a private subdirectory so simulators may share a dir;
    // every name is then a hard link of a template, which works even where linking the system binary does not.
    const templateDir = await mkdtemp(join(this.dir, '.phx-sim-templates-'));
    this.files.add(templateDir);
    this.templates = {
      sleep: await this.linkOrCopy(sources.sleep, join(templateDir, 'sleep')),
      yes: await this.linkOrCopy(sources.yes, join(templateDir, 'yes')),
    };
    for (let i = 0; i < this.slots.length; i += SPAWN_BATCH) {
      // allSettled: the whole batch is tracked before a failure makes startSimulator close everything.
      const results = await Promise.allSettled(
        this.slots.slice(i, i + SPAWN_BATCH).map(async (slot) => {
          slot.child = await this.spawnChild(slot, slot.baseName);
        }),
      );
      const failure = results.find((result) => result.status === 'rejected');
      if (failure) throw failure.reason;
    }
    const { churn, burnDutyPercent = 100 } = this.options;
    if (churn) this.loops.push(this.churnLoop(churn.everyMs, churn.fraction));
    if (burnDutyPercent < 100 && this.slots.some((s) => s.burner)) this.loops.push(this.dutyLoop(burnDutyPercent));
    this.logger.info({ dir: this.dir, count: this.slots.length, churn, burnDutyPercent }, 'simulated processes ready');
  }

  /** Makes a start in progress fail at its next spawn; startSimulator then closes what was made. */
  abortStart(reason: unknown): void {
    this.abort.abort(reason);
  }

  processes(): SimulatedProcess[] {
    const list: SimulatedProcess[] = [];
    for (const { child, critical, burner } of this.slots) {
      if (child) list.push({ pid: child.pid, name: child.name, path: child.path, critical, burner });
    }
    return list;
  }

  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  closeSync(): void {
    this.abort.abort();
    for (const child of this.children) {
      child.retired = true;
      child.proc.kill('SIGKILL');
    }
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
    else for (const file of this.files) rmSync(file, { recursive: true, force: true });
    this.files.clear();
  }

  private async shutdown(): Promise<void> {
    // Phase one: stop creating processes. Phase two: kill and reap all of them, then remove the files.
    this.abort.abort();
    await Promise.all(this.loops);
    await Promise.all([...this.children].map((child) => this.kill(child)));
    for (const slot of this.slots) slot.child = undefined;
    if (this.ownsDir) await rm(this.dir, { recursive: true, force: true });
    else await Promise.all([...this.files].map((file) => rm(file, { recursive: true, force: true })));
    this.files.clear();
    this.logger.info({ dir: this.dir }, 'simulated processes stopped');
  }

  private kill(child: Child): Promise<void> {
    child.retired = true;
    child.proc.kill('SIGKILL');
    return child.exited;
  }

  private async linkOrCopy(source: string, target: string): Promise<string> {
    try {
      await link(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // EEXIST is someone else's file (a caller's dir shared with another simulator): not ours to replace.
      if (code === 'EEXIST') throw new UsageError(`dir already holds ${showValue(target)}; use another dir or namePrefix`);
      // EXDEV across filesystems, EPERM under fs.protected_hardlinks for a binary we do not own.
      this.logger.debug({ source, target, code }, 'hard link failed; copying');
      await copyFile(source, target);
      await chmod(target, 0o755);
    }
    this.files.add(target);
    return target;
  }

  private async spawnChild(slot: Slot, name: string): Promise<Child> {
    const path = await this.linkOrCopy(slot.burner ? this.templates.yes : this.templates.sleep, join(this.dir, name));
    this.abort.signal.throwIfAborted();
    // stdio 'ignore' gives the child /dev/null, which is where `yes` should write.
    const proc = spawn(path, slot.burner ? [] : ['infinity'], { stdio: 'ignore' });
    if (proc.pid === undefined) {
      // Node reports EAGAIN (a process limit), ENOENT, EACCES… as an 'error' on the next tick.
      const [error] = (await once(proc, 'error')) as [Error];
      throw new SimulatorError('PHX_SIMULATOR_START_FAILED', `could not spawn ${showValue(path)}: ${error.message}`, { cause: error });
    }
    const pid = proc.pid;
    const child: Child = {
      pid,
      name,
      path,
      proc,
      born: this.born++,
      retired: false,
      exited: new Promise((resolve) => proc.once('exit', () => resolve())),
    };
    // Tracked before any await, so a close() that starts meanwhile kills it too.
    this.children.add(child);
    proc.on('error', (error) => this.logger.warn({ err: error, pid, name }, 'simulated process error'));
    proc.once('exit', (code, signal) => {
      this.children.delete(child);
      if (child.retired) return;
      this.logger.warn({ pid, name, code, signal }, 'simulated process exited unexpectedly');
      if (slot.child === child) slot.child = undefined;
    });
    try {
      await this.waitUntilExecuted(child);
    } catch (error) {
      await this.kill(child);
      throw error;
    }
    return child;
  }

  /** Polls /proc until the child runs its own link; libuv returns after exec, so this normally passes at once. */
  private async waitUntilExecuted(child: Child): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    let seen = '';
    while (Date.now() < deadline && child.proc.exitCode === null && child.proc.signalCode === null) {
      seen = await readlink(`/proc/${child.pid}/exe`).catch(() => '');
      if (seen === child.path) return;
      // No abort signal on this sleep: thousands of them at once would each add a listener to it.
      this.abort.signal.throwIfAborted();
      await sleep(5);
    }
    throw new SimulatorError(
      'PHX_SIMULATOR_START_FAILED',
      `pid ${child.pid} did not come up as ${showValue(child.path)} within ${READY_TIMEOUT_MS} ms (exe ${showValue(seen)}, exit code ${child.proc.exitCode}, signal ${child.proc.signalCode})`,
    );
  }

  private async churnLoop(everyMs: number, fraction: number): Promise<void> {
    const { signal } = this.abort;
    try {
      while (!signal.aborted) {
        await sleep(everyMs, undefined, { signal });
        await this.churnOnce(fraction);
      }
    } catch (error) {
      if (!signal.aborted) this.logger.error({ err: error }, 'churn stopped');
    }
  }

  /** Replaces the oldest non-critical processes (empty slots first): the new one is alive before the old one is listed out and killed. */
  private async churnOnce(fraction: number): Promise<void> {
    const generation = ++this.generation;
    const candidates = this.slots.filter((slot) => !slot.critical);
    const take = Math.max(1, Math.round(candidates.length * fraction));
    const chosen = candidates.sort((a, b) => (a.child?.born ?? -1) - (b.child?.born ?? -1)).slice(0, take);
    const results = await Promise.allSettled(
      chosen.map(async (slot) => ({ slot, fresh: await this.spawnChild(slot, `${slot.baseName}-g${generation}`) })),
    );
    const retiring: Child[] = [];
    for (const result of results) {
      if (result.status === 'rejected') {
        // Spawns abort when close() begins; anything else is worth a line, and the old process stays.
        if (!this.abort.signal.aborted) this.logger.warn({ err: result.reason, generation }, 'churn could not replace a process');
        continue;
      }
      const { slot, fresh } = result.value;
      if (slot.child) retiring.push(slot.child);
      slot.child = fresh;
    }
    this.logger.debug({ generation, replaced: retiring.length }, 'churned');
    await Promise.all(
      retiring.map(async (old) => {
        await this.kill(old);
        this.files.delete(old.path);
        await unlink(old.path).catch(() => undefined);
      }),
    );
  }

  /** SIGCONT/SIGSTOP cycling: cheap, coarse (100 ms period) CPU shaping without a burner binary of our own. */
  private async dutyLoop(dutyPercent: number): Promise<void> {
    const { signal } = this.abort;
    const onMs = Math.max(1, Math.round((DUTY_PERIOD_MS * dutyPercent) / 100));
    const sendToBurners = (sig: NodeJS.Signals): void => {
      for (const slot of this.slots) if (slot.burner) slot.child?.proc.kill(sig);
    };
    try {
      while (!signal.aborted) {
        sendToBurners('SIGCONT');
        await sleep(onMs, undefined, { signal });
        sendToBurners('SIGSTOP');
        await sleep(DUTY_PERIOD_MS - onMs, undefined, { signal });
      }
    } catch {
      // Aborted by close(), which SIGKILLs the burners whether stopped or not.
    }
  }
}
