// The experiments this hub process runs now, and the sending of their assignments to the agents connected to it:
// shared by the engine (which starts and ends them) and the following of other replicas (which adds and drops the
// ones they started and ended).
import type { Logger } from '../../common/logger.js';
import type { AgentConnection } from '../agent-connection.js';
import { ResultsMemo } from './results.js';
import type { ExperimentRun } from './run.js';

/**
 * A wave's assignment goes out SEND_SLICE hosts at a time, SEND_PACE_MS apart: 1,000 hosts in about half a second,
 * the work of their statuses spread as evenly, so that the acks of the fleet's reports are not held up meanwhile.
 */
const SEND_SLICE = 50;
const SEND_PACE_MS = 25;

export interface RunningSetOptions {
  /** The hub's agent connections by agent id. */
  connections: ReadonlyMap<string, AgentConnection>;
  /** Tell an agent that runs an experiment this process is not running to withdraw it. */
  withdrawUnknown: boolean;
  logger: Logger;
}

/** Calling rule: `close()` once, when the engine closes; it stops the waves being sent. */
export class RunningSet {
  readonly #o: RunningSetOptions;
  readonly #runs = new Map<string, ExperimentRun>();
  /** The pending slices of waves being sent. */
  readonly #slices = new Set<NodeJS.Timeout>();
  /** A running experiment's verdict in the list is at most this old. */
  readonly listResults = new ResultsMemo(5_000);

  constructor(options: RunningSetOptions) {
    this.#o = options;
  }

  get(id: string): ExperimentRun | undefined {
    return this.#runs.get(id);
  }

  has(id: string): boolean {
    return this.#runs.has(id);
  }

  /** Whether `run` is (still) the one running under its id. */
  holds(run: ExperimentRun): boolean {
    return this.#runs.get(run.id) === run;
  }

  ids(): string[] {
    return [...this.#runs.keys()];
  }

  runs(): ExperimentRun[] {
    return [...this.#runs.values()];
  }

  add(run: ExperimentRun): void {
    this.#runs.set(run.id, run);
  }

  /** It no longer runs here: no more statuses or reports reach it, its assignment is no longer sent. */
  remove(id: string): void {
    this.#runs.delete(id);
    this.listResults.forget(id);
  }

  /** An agent is connected: sends it what it should run, or withdraws what it runs of an experiment that is not running. */
  offer(agentId: string, connection: AgentConnection): void {
    const current = connection.hello?.experiments?.current ?? null;
    for (const run of this.#runs.values()) {
      const host = run.hosts.get(agentId);
      if (!host || host.wave === null || !run.active(host)) continue;
      if (!connection.manageable) {
        run.setHost(host, 'refused', connection.unmanageableReason, Date.now());
        continue;
      }
      if (current && current.experimentId === run.id && current.revision === run.record.revision && current.state === 'applied') {
        if (host.state !== 'measuring') run.setHost(host, 'measuring', null, Date.now());
      } else {
        connection.assign(run.assignment());
      }
    }
    if (this.#o.withdrawUnknown && current && current.state === 'applied' && !this.#runs.has(current.experimentId)) {
      connection.withdraw(current.experimentId, 'the experiment is not running');
    }
  }

  /** Tells the agents connected here of `run`'s hosts to withdraw it. */
  withdraw(run: ExperimentRun, reason: string): void {
    for (const host of run.withdrawn()) this.#o.connections.get(host.agentId)?.withdraw(run.id, reason);
  }

  startWave(run: ExperimentRun, wave: number, now: number): void {
    const hosts = run.beginWave(wave, now);
    this.#o.logger.info({ experimentId: run.id, wave, hosts: hosts.length }, 'wave started');
    this.send(run, hosts.map((h) => h.agentId));
  }

  /**
   * Sends `run`'s assignment to those of `agentIds` connected here, SEND_SLICE hosts at a time, SEND_PACE_MS apart, so
   * that a wave of thousands does not hold up the acks of the reports arriving meanwhile; a run that ended stops it.
   */
  send(run: ExperimentRun, agentIds: readonly string[], from = 0): void {
    if (!this.holds(run)) return;
    const to = Math.min(from + SEND_SLICE, agentIds.length);
    for (let i = from; i < to; i++) {
      const connection = this.#o.connections.get(agentIds[i]!);
      if (connection) this.offer(agentIds[i]!, connection);
    }
    if (to >= agentIds.length) return;
    const next = setTimeout(() => {
      this.#slices.delete(next);
      try {
        this.send(run, agentIds, to);
      } catch (error) {
        this.#o.logger.error({ err: error, experimentId: run.id }, 'sending a wave failed');
      }
    }, SEND_PACE_MS);
    this.#slices.add(next);
  }

  close(): void {
    for (const slice of this.#slices) clearTimeout(slice);
    this.#slices.clear();
  }
}
