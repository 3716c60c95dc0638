// `run`: the long-lived agent: experiment windows (always, or on a cron schedule), a measurement each interval.
import cron, { type ScheduledTask } from 'node-cron';
import type { AgentConfig } from './config/load.js';
import { Experiment, renderVariants, type ExperimentDeps, type RenderedVariant } from './experiment.js';
import type { PairPlan } from './pair-plan.js';
import { pidFilePath } from './paths.js';
import type { AgentReport } from '../protocol/report.js';
import { reapLeftovers } from './supervisor/pidfile.js';
import { Notifier, type Listener } from '../common/notifier.js';
import { CallingRuleError } from '../common/errors.js';

export type DaemonState = 'idle' | 'running' | 'closed';

/** The experiment window a measurement belongs to, and the interval it covers (ISO times). */
export interface MeasurementWindow {
  openedAt: string;
  from: string;
  to: string;
}

/** What an AgentDaemon tells its listeners. */
export interface DaemonEvents {
  /** A measurement round finished. */
  report: [report: AgentReport, window: MeasurementWindow];
  /** An experiment window opened (collectors started) or closed (collectors stopped). */
  window: [change: 'open' | 'close'];
}

/**
 * Calling rules: `start()` once, `close()` once (it stops any running experiment and resolves when the
 * collectors are gone). Events: see DaemonEvents; a listener that throws is logged as a listener failure.
 */
export class AgentDaemon {
  readonly #config: AgentConfig;
  readonly #deps: ExperimentDeps;
  readonly #events: Notifier<DaemonEvents>;
  #experiment: Experiment | null = null;
  #measureTimer: NodeJS.Timeout | null = null;
  #windowTimer: NodeJS.Timeout | null = null;
  #task: ScheduledTask | null = null;
  #state: DaemonState = 'idle';
  #measuring: Promise<void> | null = null;
  #transition: Promise<void> = Promise.resolve();
  #openedAt = '';
  #lastMeasureAt = '';
  /** Names each pair's rendered files, so a new pair never writes over the running one's. */
  #generation = 0;

  constructor(config: AgentConfig, deps: ExperimentDeps) {
    this.#config = config;
    this.#deps = deps;
    this.#events = new Notifier('agent daemon', deps.logger);
  }

  on<K extends keyof DaemonEvents>(event: K, listener: Listener<DaemonEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  off<K extends keyof DaemonEvents>(event: K, listener: Listener<DaemonEvents[K]>): void {
    this.#events.off(event, listener);
  }

  get state(): DaemonState {
    return this.#state;
  }

  get experiment(): Experiment | null {
    return this.#experiment;
  }

  /** Without a schedule, rejects if the experiment cannot start (e.g. a port is taken). */
  async start(): Promise<void> {
    await reapLeftovers(pidFilePath(this.#config), this.#deps.logger, this.#config.collector.stopGrace);
    const { schedule, durationMs } = this.#config.experiment;
    if (schedule === undefined || durationMs === undefined) {
      await this.#openWindow(null);
      return;
    }
    this.#deps.logger.info({ schedule, durationMs }, 'waiting for the next experiment window');
    // A window that cannot open (e.g. a port taken) is logged; the next scheduled window tries again.
    this.#task = cron.schedule(schedule, () => void this.#openWindow(durationMs).catch(() => undefined), { name: 'phoenix-experiment-window' });
  }

  /**
   * Serialises window changes so a window never opens while the previous one is still closing. The
   * returned promise rejects if this step fails (the caller decides); the queue itself carries on.
   */
  #enqueue(step: () => Promise<void>): Promise<void> {
    const run = this.#transition.then(step);
    this.#transition = run.catch((error: unknown) => {
      this.#deps.logger.error({ err: error }, 'experiment window change failed');
    });
    return run;
  }

  #openWindow(durationMs: number | null): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state !== 'idle') return;
      const experiment = await Experiment.create(this.#config, this.#deps);
      this.#experiment = experiment;
      this.#state = 'running';
      this.#openedAt = new Date().toISOString();
      this.#lastMeasureAt = this.#openedAt;
      experiment.start();
      this.#events.emit('window', 'open');
      this.#deps.logger.info({ variants: experiment.variants.map((v) => v.name) }, 'experiment window open');
      this.#measureTimer = setInterval(() => this.#measure(), this.#config.interval);
      if (durationMs !== null) this.#windowTimer = setTimeout(() => void this.#closeWindow(), durationMs);
    });
  }

  /**
   * Replaces the running pair with `pair` (an experiment's, or the agent's own again), as the collector's OpAMP
   * supervisor applies a pushed config: render both configs and `check` them (policy, `collector validate`) before
   * anything else; start the new pair, and only once both collectors are healthy and serve data, stop the old one.
   * When the ports are fixed (ports.base) the old pair must stop first; a new pair that then fails is closed and the
   * old pair started again (last known good). On automatic ports the old pair runs until the new one is serving, so
   * a failure leaves it untouched, the same processes. Rejects with the failure, after the restore. Continuous
   * running only (not in scheduled windows): rejects with a CallingRuleError otherwise.
   */
  switchPair(pair: PairPlan, check: (rendered: readonly [RenderedVariant, RenderedVariant]) => Promise<void>): Promise<void> {
    return this.#enqueue(async () => {
      const old = this.#experiment;
      if (this.#state !== 'running' || old === null || this.#config.experiment.schedule !== undefined) {
        throw new CallingRuleError('PHX_CALLING_RULE', `agent daemon: switchPair() needs a pair running continuously (state ${this.#state})`);
      }
      const rendered = await renderVariants(this.#config, pair);
      await check(rendered);
      const fixedPorts = this.#config.ports.base !== 0;
      if (fixedPorts) await this.#retire(old);
      try {
        this.#install(await this.#startPair(pair, rendered));
        if (!fixedPorts) await this.#retire(old);
      } catch (error) {
        if (fixedPorts) {
          this.#deps.logger.warn({ err: error }, 'the new pair failed; starting the previous one again');
          await this.#startPair(old.pair).then(
            (restored) => this.#install(restored),
            (restoreError: unknown) => this.#deps.logger.error({ err: restoreError }, 'the previous pair did not start again either; no pair runs'),
          );
        }
        throw error;
      }
    });
  }

  /** Creates and starts a pair, resolving once both collectors are healthy and serve data; closes it on failure. */
  async #startPair(pair: PairPlan, rendered?: readonly [RenderedVariant, RenderedVariant]): Promise<Experiment> {
    this.#generation += 1;
    const experiment = await Experiment.create(this.#config, this.#deps, { pair, fileTag: `g${this.#generation}`, ...(rendered ? { rendered } : {}) });
    try {
      experiment.start();
      await experiment.waitReady(this.#config.collector.startTimeout);
      await experiment.waitForData(this.#config.collector.startTimeout);
      return experiment;
    } catch (error) {
      await experiment.close().catch((closeError: unknown) => this.#deps.logger.error({ err: closeError }, 'closing a pair that failed to start failed too'));
      throw error;
    }
  }

  /** The running pair is now `experiment`: measurements start again from here, as a new window. */
  #install(experiment: Experiment): void {
    this.#experiment = experiment;
    this.#openedAt = new Date().toISOString();
    this.#lastMeasureAt = this.#openedAt;
    this.#deps.logger.info({ variants: experiment.variants.map((v) => v.name), experiment: experiment.pair.experiment }, 'pair running');
  }

  /** Stops a pair that is no longer the running one (a measurement of it under way finishes first). */
  async #retire(experiment: Experiment): Promise<void> {
    if (this.#experiment === experiment) this.#experiment = null;
    await this.#measuring;
    await experiment.close();
  }

  #closeWindow(): Promise<void> {
    return this.#enqueue(async () => {
      if (this.#state !== 'running') return;
      this.#clearTimers();
      await this.#measuring;
      await this.#experiment?.close();
      this.#experiment = null;
      this.#state = 'idle';
      this.#events.emit('window', 'close');
      this.#deps.logger.info('experiment window closed; collectors stopped');
    });
  }

  #measure(): void {
    const experiment = this.#experiment;
    if (experiment === null || this.#measuring !== null) return; // a slow round is not stacked
    const from = this.#lastMeasureAt;
    this.#measuring = experiment
      .measure()
      .then((report: AgentReport) => {
        if (this.#experiment !== experiment) return;
        this.#lastMeasureAt = report.generatedAt;
        const window: MeasurementWindow = { openedAt: this.#openedAt, from, to: report.generatedAt };
        this.#events.emit('report', report, window);
      })
      .catch((error: unknown) => this.#deps.logger.error({ err: error }, 'measurement failed'))
      .finally(() => {
        this.#measuring = null;
      });
  }

  #clearTimers(): void {
    if (this.#measureTimer) clearInterval(this.#measureTimer);
    if (this.#windowTimer) clearTimeout(this.#windowTimer);
    this.#measureTimer = null;
    this.#windowTimer = null;
  }

  async close(): Promise<void> {
    if (this.#state === 'closed') return;
    await this.#task?.destroy();
    this.#task = null;
    try {
      await this.#closeWindow();
    } finally {
      await this.#transition;
      this.#state = 'closed';
      this.#events.clear();
    }
  }
}
