// With replicas on one store: follows what the other hub processes changed of the experiments (told by the store's
// notices, or found again after a reconnect), and, on the leading process, reads the hosts as they all left them
// before a tick.
import type { Logger } from '../../common/logger.js';
import type { ExperimentStore, LossStreakRecord } from './experiment-store.js';
import type { ExperimentWrites } from './experiment-writes.js';
import type { GuardrailTrip } from './guardrails.js';
import type { RunningSet } from './running-set.js';
import { ExperimentRun } from './run.js';

export interface FollowingOptions {
  running: RunningSet;
  store: ExperimentStore;
  writes: ExperimentWrites;
  /** Resolves once what this process wrote is stored and what it is ending has ended. */
  settled: () => Promise<void>;
  logger: Logger;
}

/** Calling rule: `close()` once, when the engine closes; it resolves once what was being followed is. */
export class ReplicaFollowing {
  readonly #o: FollowingOptions;
  /** The changes other processes made, followed one after another. */
  #chain: Promise<void> = Promise.resolve();

  constructor(options: FollowingOptions) {
    this.#o = options;
  }

  /**
   * Other hub processes created or changed these experiments: one that runs now is followed here (its agents
   * connected here get its assignment, also when a wave started elsewhere), one that ended is let go (its agents here
   * told to withdraw). Resolves once each is followed; they are followed one at a time.
   */
  changed(ids: readonly string[]): Promise<void> {
    const next = this.#chain.then(async () => {
      for (const id of new Set(ids)) await this.#follow(id);
    });
    this.#chain = next.catch((error: unknown) => this.#o.logger.error({ err: error }, 'following an experiment changed elsewhere failed'));
    return next;
  }

  /** Notices from other processes may have been missed: every experiment running here or in the store is followed again. */
  resync(): Promise<void> {
    return this.#chain.then(async () => {
      const running = (await this.#o.store.experimentsIn(['running'])).map((r) => r.id);
      await this.changed([...new Set([...running, ...this.#o.running.ids()])]);
    });
  }

  /**
   * Before the leader's tick: each running experiment's hosts as every process left them; a host that failed on
   * another process, and a host's run of lost reports as the store counted it over every process (an agent that moved
   * between replicas), count towards the guardrails here, and `abort` is called with the first trip of each.
   */
  async refresh(abort: (run: ExperimentRun, trip: GuardrailTrip) => void): Promise<void> {
    await this.#o.settled();
    for (const run of this.#o.running.runs()) {
      const { hosts, waves } = await ExperimentRun.readHosts(run.record, this.#o.store);
      if (!this.#o.running.holds(run)) continue;
      run.refresh(hosts, waves);
      const trip = failedTrip(run) ?? lossTrip(run, await this.#o.store.lossStreaks(run.record.id, run.watch.criticalLossReports));
      if (trip && this.#o.running.holds(run)) abort(run, trip);
    }
  }

  async close(): Promise<void> {
    await this.#chain;
  }

  async #follow(id: string): Promise<void> {
    await this.#o.settled();
    const running = this.#o.running;
    const record = await this.#o.store.experiment(id);
    const run = running.get(id);
    if (!record || record.state !== 'running') {
      if (!run) return;
      running.remove(id);
      running.withdraw(run, `the experiment was ${record?.state ?? 'deleted'}`);
      this.#o.logger.info({ experimentId: id, state: record?.state }, 'an experiment ended elsewhere');
      return;
    }
    if (!run) {
      const resumed = await ExperimentRun.resume(record, this.#o.store, this.#o.writes);
      if (running.has(id)) return;
      running.add(resumed);
      this.#o.logger.info({ experimentId: id, hosts: resumed.hosts.size }, 'following an experiment started elsewhere');
      running.send(resumed, [...resumed.hosts.values()].filter((h) => h.wave !== null).map((h) => h.agentId));
      return;
    }
    const { hosts, waves } = await ExperimentRun.readHosts(run.record, this.#o.store);
    if (!running.holds(run)) return;
    const started = run.refresh(hosts, waves);
    if (started.length > 0) running.send(run, started.map((h) => h.agentId));
  }
}

/** The failedHosts guardrail over the hosts as every process left them. */
function failedTrip(run: ExperimentRun): GuardrailTrip | null {
  for (const host of run.hosts.values()) {
    const trip = host.state === 'failed' ? run.watch.observeFailure(host.hostId, host.message ?? 'failed') : null;
    if (trip) return trip;
  }
  return null;
}

/** The criticalLoss guardrail over the store's counts (`streaks`), for the hosts that still run the experiment. */
function lossTrip(run: ExperimentRun, streaks: readonly LossStreakRecord[]): GuardrailTrip | null {
  for (const streak of streaks) {
    const host = run.hosts.get(streak.agentId);
    const trip = host && run.active(host) ? run.watch.observeStored(streak.hostId, streak.reports, streak.processes) : null;
    if (trip) return trip;
  }
  return null;
}
