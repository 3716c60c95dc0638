// Supervises one collector child: start, readiness through its health check, restart with backoff, stop.
// One file past ~300 lines on purpose: the loop, stop() and the health watch share one child's state (kill reason,
// forced flag, answered time) that would otherwise cross module lines; its output relay is collector-output.ts.
import { spawn as nodeSpawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { setTimeout as delay } from 'node:timers/promises';
import { CollectorStartError } from '../errors.js';
import type { Logger } from '../../common/logger.js';
import { CallingRuleError } from '../../common/errors.js';
import { Notifier, type Listener } from '../../common/notifier.js';
import { Backoff } from './backoff.js';
import { probeHealth } from './health.js';
import { relayOutput } from './collector-output.js';

export type CollectorState = 'starting' | 'running' | 'backoff' | 'stopped';

export interface CollectorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: string;
  /** Why the agent thinks it ended: it exited by itself, failed to spawn, was killed as unhealthy, or was stopped. */
  reason: 'exited' | 'spawn-error' | 'unhealthy' | 'stopped';
  /** SIGKILL was needed after the grace period. */
  forced: boolean;
}

export interface CollectorStatus {
  variant: string;
  state: CollectorState;
  pid: number | null;
  restarts: number;
  lastExit: CollectorExit | null;
  /** When the current state began (ISO time). */
  since: string;
}

export interface CollectorProcessOptions {
  variant: string;
  binary: string;
  args: string[];
  healthPort: number;
  logger: Logger;
  stopGraceMs?: number;
  /** While running, how often the health check is asked. */
  healthIntervalMs?: number;
  /** This many failed checks in a row and the collector is killed and restarted. */
  unhealthyAfter?: number;
  /** While starting, how often readiness is polled. */
  readyPollMs?: number;
  /** A run at least this long resets the backoff. */
  stableAfterMs?: number;
  backoff?: Backoff;
  spawn?: typeof nodeSpawn;
}

/** What a CollectorProcess tells its listeners. */
export interface CollectorEvents {
  /** Its state changed. */
  state: [status: CollectorStatus];
  /** A child answered its first health check. */
  ready: [pid: number];
  /** A child ended (the supervising loop has recorded it). */
  exit: [exit: CollectorExit];
  /** A child was started and has this pid (the pid file hangs here). */
  spawned: [pid: number];
  /** The child with this pid is gone and reaped. */
  exited: [pid: number];
}

/**
 * One supervised collector. Calling rules: `start()` once; `stop()` any time after, any number of
 * times — it resolves only when no child is left. Events: see CollectorEvents; subscribe before `start()`
 * to hear the first child's.
 */
export class CollectorProcess {
  readonly variant: string;
  readonly #options: Required<Omit<CollectorProcessOptions, 'backoff' | 'spawn'>>;
  readonly #events: Notifier<CollectorEvents>;
  readonly #backoff: Backoff;
  readonly #spawn: typeof nodeSpawn;
  readonly #logger: Logger;
  readonly #lifetime = new AbortController();
  #child: ChildProcess | null = null;
  #state: CollectorState = 'stopped';
  #since = new Date().toISOString();
  #restarts = 0;
  #lastExit: CollectorExit | null = null;
  #started = false;
  #loopDone: Promise<void> = Promise.resolve();
  #stopping = false;
  #killReason: CollectorExit['reason'] | null = null;
  #forced = false;
  #stderrTail: string[] = [];
  /** When the running child last answered another request of the agent's (a scrape): ms since the epoch. */
  #answeredAt = 0;

  constructor(options: CollectorProcessOptions) {
    this.variant = options.variant;
    this.#options = {
      stopGraceMs: 10_000,
      healthIntervalMs: 15_000,
      unhealthyAfter: 2,
      readyPollMs: 200,
      stableAfterMs: 30_000,
      ...options,
    };
    this.#backoff = options.backoff ?? new Backoff();
    this.#spawn = options.spawn ?? nodeSpawn;
    this.#logger = options.logger.child({ variant: options.variant });
    this.#events = new Notifier(`collector '${options.variant}'`, this.#logger);
  }

  on<K extends keyof CollectorEvents>(event: K, listener: Listener<CollectorEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /** The arguments of the next `event` (e.g. `const [exit] = await collector.next('exit')`). */
  next<K extends keyof CollectorEvents>(event: K, signal: AbortSignal = new AbortController().signal): Promise<CollectorEvents[K]> {
    return this.#events.next(event, signal);
  }

  listenerCount(event: keyof CollectorEvents): number {
    return this.#events.listenerCount(event);
  }

  status(): CollectorStatus {
    return {
      variant: this.variant,
      state: this.#state,
      pid: this.#child?.pid ?? null,
      restarts: this.#restarts,
      lastExit: this.#lastExit,
      since: this.#since,
    };
  }

  get pid(): number | null {
    return this.#child?.pid ?? null;
  }

  /** The collector's last stderr lines, for error messages. */
  get stderrTail(): readonly string[] {
    return this.#stderrTail;
  }

  /**
   * The collector with this pid just answered a request of the agent's (a scrape of its exporter): proof
   * enough that it is not frozen, so the next health check is due one interval after this instead. Each
   * check costs a new TCP connection (the health_check extension closes every one); with the default
   * intervals the agent's scrapes leave few checks to make. A pid that is no longer the child is ignored.
   */
  noteAnswered(pid: number | null): void {
    if (pid !== null && pid === this.#child?.pid && this.#state === 'running') this.#answeredAt = Date.now();
  }

  start(): void {
    if (this.#started) throw new CallingRuleError('PHX_CALLING_RULE', `collector '${this.variant}': start() may be called only once`);
    this.#started = true;
    this.#loopDone = this.#loop();
  }

  /**
   * Resolves when the collector answers its health check. Rejects with CollectorStartError if it exits
   * first (with its last output) or is not ready within `timeoutMs`.
   */
  async waitReady(timeoutMs: number): Promise<void> {
    if (this.#state === 'running') return;
    // `settled` drops the losing wait's listener at once rather than at the timeout.
    const settled = new AbortController();
    const signal = AbortSignal.any([AbortSignal.timeout(timeoutMs), this.#lifetime.signal, settled.signal]);
    const ready = this.#events.next('ready', signal).then(() => undefined);
    const exited = this.#events.next('exit', signal).then(([exit]) => {
      const output = this.#stderrTail.slice(-5).join('\n  ');
      throw new CollectorStartError(
        this.variant,
        `collector exited before it was ready (${exit!.signal ?? `exit code ${exit!.code}`})${output ? `; last output:\n  ${output}` : ''}`,
      );
    });
    try {
      await Promise.race([ready, exited]);
    } catch (error) {
      if (error instanceof CollectorStartError) throw error;
      if (this.#lifetime.signal.aborted) throw new CollectorStartError(this.variant, 'stopped before it was ready');
      throw new CollectorStartError(this.variant, `not ready within ${timeoutMs} ms (health check on port ${this.#options.healthPort})`);
    } finally {
      ready.catch(() => undefined);
      exited.catch(() => undefined);
      settled.abort();
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#lifetime.abort();
    const child = this.#child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = once(child, 'exit');
      this.#killReason ??= 'stopped';
      child.kill('SIGTERM');
      const graceTimer = new AbortController();
      const outcome = await Promise.race([
        exited.then(() => 'exited' as const),
        delay(this.#options.stopGraceMs, 'grace' as const, { signal: graceTimer.signal }).catch(() => 'exited' as const),
      ]);
      graceTimer.abort();
      if (outcome === 'grace') {
        this.#logger.warn({ pid: child.pid, graceMs: this.#options.stopGraceMs }, 'collector ignored SIGTERM; sending SIGKILL');
        this.#forced = true;
        child.kill('SIGKILL');
        await exited;
      }
    }
    // The loop records the exit, tells the pid file, and ends: only then is the stop complete.
    await this.#loopDone;
    this.#setState('stopped');
  }

  #setState(state: CollectorState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#since = new Date().toISOString();
    this.#logger.info({ state, pid: this.pid, restarts: this.#restarts }, `collector ${state}`);
    this.#events.emit('state', this.status());
  }

  /** The one supervising loop: spawn, wait for exit while health-checking, back off, repeat until stopped. */
  async #loop(): Promise<void> {
    const signal = this.#lifetime.signal;
    while (!signal.aborted) {
      const startedAt = Date.now();
      const exit = await this.#runOnce(signal);
      this.#lastExit = exit;
      this.#events.emit('exit', exit);
      if (this.#stopping) break;
      if (Date.now() - startedAt >= this.#options.stableAfterMs) this.#backoff.reset();
      const wait = this.#backoff.next();
      this.#restarts += 1;
      this.#setState('backoff');
      this.#logger.warn({ exit, restartInMs: wait, restarts: this.#restarts }, 'collector ended; restarting after backoff');
      try {
        await delay(wait, undefined, { signal });
      } catch {
        break;
      }
    }
    this.#setState('stopped');
  }

  async #runOnce(signal: AbortSignal): Promise<CollectorExit> {
    this.#setState('starting');
    this.#killReason = null;
    this.#forced = false;
    let child: ChildProcess;
    try {
      child = this.#spawn(this.#options.binary, this.#options.args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    } catch (error) {
      this.#logger.error({ err: error }, 'cannot spawn the collector');
      return { code: null, signal: null, at: new Date().toISOString(), reason: 'spawn-error', forced: false };
    }
    this.#child = child;
    this.#answeredAt = 0;
    const exited = new Promise<CollectorExit>((resolve) => {
      child.once('error', (error) => {
        this.#logger.error({ err: error }, 'collector process error');
        if (child.pid === undefined) resolve({ code: null, signal: null, at: new Date().toISOString(), reason: 'spawn-error', forced: false });
      });
      child.once('exit', (code, sig) => {
        const exit: CollectorExit = { code, signal: sig, at: new Date().toISOString(), reason: this.#killReason ?? 'exited', forced: this.#forced };
        // Its last output (often the reason it exited) may still be in the pipes: wait for them, briefly.
        void settleWithin(once(child, 'close'), STDIO_DRAIN_MS).then(() => resolve(exit));
      });
    });
    if (child.pid !== undefined) {
      relayOutput(child, this.#logger.child({ collectorPid: child.pid }), this.#stderrTail);
      this.#events.emit('spawned', child.pid);
    }
    const watch = new AbortController();
    const watching = this.#watchHealth(child, AbortSignal.any([signal, watch.signal]));
    const exit = await exited;
    watch.abort();
    await watching;
    if (child.pid !== undefined) this.#events.emit('exited', child.pid);
    if (this.#child === child) this.#child = null;
    return exit;
  }

  /** Polls readiness while starting, then health while running; kills a collector that stops answering. */
  async #watchHealth(child: ChildProcess, signal: AbortSignal): Promise<void> {
    const { healthPort, readyPollMs, healthIntervalMs, unhealthyAfter } = this.#options;
    let failures = 0;
    let checkedAt = Date.now();
    try {
      while (!signal.aborted) {
        const running = this.#state === 'running';
        // Running: the next check is due one interval after the last sign of life, a check or an answered
        // scrape, so a collector that froze just after answering is still caught within `unhealthyAfter`
        // intervals of it, and one that keeps answering scrapes is not asked again in between.
        const wait = running ? Math.max(checkedAt, this.#answeredAt) + healthIntervalMs - Date.now() : readyPollMs;
        await delay(Math.max(0, wait), undefined, { signal });
        if (running && Date.now() - this.#answeredAt < healthIntervalMs) {
          failures = 0;
          continue;
        }
        const healthy = await probeHealth(healthPort, Math.min(1000, healthIntervalMs));
        checkedAt = Date.now();
        if (signal.aborted) return;
        if (healthy) {
          failures = 0;
          if (!running) {
            this.#setState('running');
            this.#events.emit('ready', child.pid!);
          }
        } else if (running && ++failures >= unhealthyAfter) {
          this.#logger.warn({ pid: child.pid, failures }, 'collector stopped answering its health check; killing it');
          this.#killReason = 'unhealthy';
          child.kill('SIGKILL');
          return;
        }
      }
    } catch {
      // aborted: the child exited or the process is stopping
    }
  }

}

const STDIO_DRAIN_MS = 500;

/** Resolves when `promise` settles or after `ms`, whichever is first; the timer never outlives it. */
async function settleWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  const timer = new AbortController();
  await Promise.race([promise.catch(() => undefined), delay(ms, undefined, { signal: timer.signal }).catch(() => undefined)]);
  timer.abort();
}
