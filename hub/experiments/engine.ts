// Runs the experiments: creates them from a definition, rolls each out in waves to the hosts it targets, follows
// the agents' statuses and tagged reports, trips the guardrails, and ends each (completed, stopped, aborted); with
// replicas on one store, follows what the others changed (following.ts). The running set and the sending of waves
// are running-set.ts.
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import type { AssignmentStatus } from '../../protocol/assignment.js';
import type { ReportMessage } from '../../protocol/messages.js';
import type { Access, Actor } from '../access/access.js';
import type { AgentConnection } from '../agent-connection.js';
import { BadRequestError, HttpRequestError, NotFoundError } from '../errors.js';
import type { Store } from '../store/types.js';
import type { ExperimentDetail, ExperimentSummary } from '../http/experiment-types.js';
import type { StoredDefinition } from './assignment.js';
import type { PipelineCatalog } from './catalog.js';
import type { ExperimentHostRecord, ExperimentRecord, HostState } from './experiment-store.js';
import { candidateLost, type GuardrailTrip } from './guardrails.js';
import { BufferedExperimentWrites } from './experiment-writes.js';
import { ReplicaFollowing } from './following.js';
import { experimentResults } from './results.js';
import { orderHosts } from './rollout.js';
import { ExperimentRun } from './run.js';
import { RunningSet } from './running-set.js';
import { canonicalSpecJson, ExperimentSpecError, parseExperimentSpec, parseExperimentText, type ExperimentSpec } from './spec.js';
import { matchesTarget } from './target.js';
import { experimentDetail, experimentSummary } from './views.js';

export interface EngineOptions {
  store: Store;
  catalog: PipelineCatalog;
  /** The hub's agent connections by agent id. */
  connections: ReadonlyMap<string, AgentConnection>;
  access: Access;
  logger: Logger;
  /** Tell an agent that runs an experiment the engine is not running to withdraw it. */
  withdrawUnknown: boolean;
}

/** Who the engine's own decisions are recorded as, in the audit log and the events. */
const ENGINE: Actor = { name: 'phoenix', role: null, remote: 'hub' };

/**
 * Calling rules: `ExperimentEngine.open` once the store is open (running experiments are resumed from it); `tick(now)`
 * about every second, a tick at a time; `onHello`, `onStatus`, `onReport` as the hub hears of them; the rest any time;
 * `close()` once, before the store closes. Writes are refused with HttpRequestError (400 a bad definition, 404 an
 * unknown id, 409 a wrong state or an overlapping target); every check is made after the store was read, so two
 * calls at once cannot both start (or stop) one experiment.
 */
export class ExperimentEngine {
  readonly #o: EngineOptions;
  readonly #log: Logger;
  readonly #running: RunningSet;
  /** Running experiments' changes, committed together (at most 50 ms later, and before any read of them). */
  readonly #writes: BufferedExperimentWrites;
  /** Experiments being ended (their final figures read and written), by id. */
  readonly #ending = new Map<string, Promise<void>>();
  readonly #following: ReplicaFollowing;

  private constructor(options: EngineOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'experiments' });
    this.#writes = new BufferedExperimentWrites(options.store.experiments, 50, this.#log);
    this.#running = new RunningSet({ connections: options.connections, withdrawUnknown: options.withdrawUnknown, logger: this.#log });
    this.#following = new ReplicaFollowing({ running: this.#running, store: options.store.experiments, writes: this.#writes, settled: () => this.#settled(), logger: this.#log });
  }

  /** The engine over `options.store`, with the experiments it holds as running resumed. */
  static async open(options: EngineOptions): Promise<ExperimentEngine> {
    const engine = new ExperimentEngine(options);
    for (const record of await options.store.experiments.experimentsIn(['running'])) {
      const run = await ExperimentRun.resume(record, options.store.experiments, engine.#writes);
      engine.#running.add(run);
      engine.#log.info({ experimentId: record.id, hosts: run.hosts.size }, 'resuming a running experiment');
    }
    return engine;
  }

  async list(): Promise<ExperimentSummary[]> {
    await this.#settled();
    const now = Date.now();
    const x = this.#o.store.experiments;
    const resultsOf = async (r: ExperimentRecord) => experimentResults(await x.figures(r.id), (JSON.parse(r.spec) as StoredDefinition).definition);
    return Promise.all(
      (await x.experiments()).map(async (r) => {
        const [hosts, verdict] = await Promise.all([this.#hostsOf(r.id), r.state === 'running' ? this.#running.listResults.get(r.id, now, () => resultsOf(r)).then((v) => v.verdict) : 'pending' as const]);
        return experimentSummary(r, hosts, () => verdict);
      }),
    );
  }

  /** Every answer is read after what is pending was written: a user's start or stop answered is stored. */
  async detail(id: string): Promise<ExperimentDetail> {
    await this.#settled();
    const record = await this.#record(id);
    return experimentDetail(record, await this.#hostsOf(id), this.#o.store, this.#o.connections);
  }

  async create(actor: Actor, definition: string | object, options: { start: boolean }): Promise<ExperimentDetail> {
    const id = await this.createDraft(actor, definition);
    return options.start ? this.start(actor, id) : this.detail(id);
  }

  /** Stores the definition as a draft over the hosts it targets now; returns its id. */
  async createDraft(actor: Actor, definition: string | object): Promise<string> {
    let spec: ExperimentSpec;
    try {
      spec = typeof definition === 'string' ? parseExperimentText(definition, 'definition') : parseExperimentSpec(definition, 'definition');
    } catch (error) {
      if (error instanceof ExperimentSpecError) throw new BadRequestError(error.message);
      throw error;
    }
    const baseline = await this.#resolve(spec.baseline.pipeline, 'baseline.pipeline');
    const candidate = await this.#resolve(spec.candidate.pipeline, 'candidate.pipeline');
    const targeted = (await this.#o.store.agents()).filter((a) => matchesTarget(spec.target, { hostId: a.hostId, hostKind: a.hostKind, labels: a.labels }));
    if (targeted.length === 0) throw new BadRequestError('target: it matches none of the hosts this hub knows');
    const id = `${spec.name.slice(0, 50)}-${randomBytes(4).toString('hex')}`;
    this.#refuseOverlap(id, new Set(targeted.map((a) => a.agentId)));
    const now = Date.now();
    const byAgent = new Map(targeted.map((a) => [a.agentId, a]));
    const hosts: ExperimentHostRecord[] = orderHosts(targeted.map((a) => a.agentId), id).map((agentId, order) => ({
      experimentId: id,
      agentId,
      hostId: byAgent.get(agentId)!.hostId,
      order,
      wave: null,
      state: 'pending',
      message: null,
      updatedAt: now,
      healthySince: null,
    }));
    const stored: StoredDefinition = {
      definition: spec,
      templates: {
        baseline: { pipeline: baseline.name, sha256: baseline.sha256, content: baseline.content },
        candidate: { pipeline: candidate.name, sha256: candidate.sha256, content: candidate.content },
      },
    };
    const record: ExperimentRecord = {
      id,
      name: spec.name,
      description: spec.description ?? null,
      spec: JSON.stringify({ definition: JSON.parse(canonicalSpecJson(spec)), templates: stored.templates }),
      state: 'draft',
      revision: 1,
      baseline: { pipeline: baseline.name, sha256: baseline.sha256 },
      candidate: { pipeline: candidate.name, sha256: candidate.sha256 },
      createdBy: actor.name,
      createdAt: now,
      startedAt: null,
      endedAt: null,
      outcome: null,
      guard: null,
    };
    await this.#o.store.experiments.createExperiment(record, hosts, { experimentId: id, at: now, kind: 'created', hostId: null, actor: actor.name, detail: JSON.stringify({ hosts: hosts.length }) });
    await this.#o.access.record(actor, 'experiment.create', id, 'ok', { name: spec.name, hosts: hosts.length });
    this.#log.info({ experimentId: id, hosts: hosts.length, by: actor.name }, 'experiment created');
    return id;
  }

  async start(actor: Actor, id: string): Promise<ExperimentDetail> {
    await this.#settled();
    const record = await this.#record(id);
    const hosts = await this.#o.store.experiments.hosts(id);
    // Checked after the reads: another start may have begun it meanwhile.
    const state = this.#running.has(id) ? 'running' : record.state;
    if (state !== 'draft') throw new HttpRequestError('conflict', `experiment '${id}' is ${state}; only a draft can be started`);
    this.#refuseOverlap(id, new Set(hosts.map((h) => h.agentId)));
    const run = ExperimentRun.begin(record, hosts, this.#writes, Date.now(), actor.name);
    this.#running.add(run);
    this.#running.startWave(run, 0, Date.now());
    await this.#o.access.record(actor, 'experiment.start', id, 'ok', { hosts: hosts.length });
    return this.detail(id);
  }

  async stop(actor: Actor, id: string): Promise<ExperimentDetail> {
    const record = await this.#record(id);
    const run = this.#running.get(id);
    if (!run) throw new HttpRequestError('conflict', `experiment '${id}' is ${record.state}; only a running experiment can be stopped`);
    await this.#end(run, 'stopped', { stoppedBy: actor.name }, actor);
    return this.detail(id);
  }

  /** An agent said hello: (re)send what it should run, or withdraw what it runs of an experiment that ended. */
  onHello(agentId: string, connection: AgentConnection): void {
    this.#running.offer(agentId, connection);
  }

  onStatus(agentId: string, status: AssignmentStatus): void {
    const run = this.#running.get(status.experimentId);
    if (!run) {
      if (this.#o.withdrawUnknown && status.state === 'applied') this.#o.connections.get(agentId)?.withdraw(status.experimentId, 'the experiment is not running');
      return;
    }
    const host = run.hosts.get(agentId);
    if (!host || status.revision !== run.record.revision) return;
    const now = Date.now();
    const next: Record<AssignmentStatus['state'], HostState> = { applying: 'applying', applied: 'measuring', failed: 'failed', refused: 'refused', reverted: 'rolled-back' };
    run.setHost(host, next[status.state], status.message, now);
    if (status.state === 'failed') {
      const trip = run.watch.observeFailure(host.hostId, status.message ?? 'failed');
      if (trip) this.#abort(run, trip);
    }
  }

  onReport(agentId: string, message: ReportMessage): void {
    const tag = message.report.experiment;
    if (!tag) return;
    const run = this.#running.get(tag.id);
    const host = run?.hosts.get(agentId);
    if (!run || !host || !run.active(host)) return;
    const trip = run.observeReport(host, candidateLost(message.report), Date.now());
    if (trip) this.#abort(run, trip);
  }

  /**
   * Widens rollouts whose hosts held the criteria long enough; completes experiments whose time is up (resolves once
   * they are stored). With other hub processes on the store, only the one that leads does, after reading the hosts as
   * they all left them (a host that failed on another process counts towards the guardrail here).
   */
  async tick(now: number): Promise<void> {
    const peers = this.#o.store.peers;
    if (peers.shared) {
      if (!(await peers.leads())) return;
      await this.#following.refresh((run, trip) => this.#abort(run, trip));
    }
    const ended: Promise<void>[] = [];
    for (const run of this.#running.runs()) {
      if (run.endsAt !== null && now >= run.endsAt) {
        ended.push(this.#end(run, 'completed', {}, ENGINE));
        continue;
      }
      if (run.mayWiden(now)) this.#running.startWave(run, run.waveStarts.length, now);
      run.persistGuard();
    }
    await Promise.all(ended);
  }

  /** Other hub processes on the store created or changed these experiments (following.ts). */
  changedElsewhere(ids: readonly string[]): Promise<void> {
    return this.#following.changed(ids);
  }

  /** Notices from other processes may have been missed: everything running here or in the store is followed again. */
  resync(): Promise<void> {
    return this.#following.resync();
  }

  /** Ends what is being ended and writes what is pending. Calling rule: once, when the hub closes, before its store. */
  async close(): Promise<void> {
    this.#running.close();
    await this.#following.close();
    await Promise.allSettled(this.#ending.values());
    await this.#writes.close();
  }

  /** What was written is stored, and the experiments being ended are (their failures were logged or answered). */
  async #settled(): Promise<void> {
    await Promise.allSettled(this.#ending.values());
    await this.#writes.flush();
  }

  /** Aborts `run` (the guardrail's trip is logged); a failure to store the end is logged too. */
  #abort(run: ExperimentRun, trip: GuardrailTrip): void {
    this.#log.warn({ experimentId: run.id, guardrail: trip.guardrail, hosts: trip.hostIds, processes: trip.processes }, 'guardrail tripped; aborting');
    this.#end(run, 'aborted', { guardrail: trip.guardrail, hostIds: trip.hostIds, processes: trip.processes, detail: trip.detail }, ENGINE).catch((error: unknown) =>
      this.#log.error({ err: error, experimentId: run.id }, 'storing the end of an aborted experiment failed'),
    );
  }

  /**
   * Ends `run` at once (no more statuses or reports reach it; its agents are told to withdraw), then reads its final
   * figures and stores its outcome; resolves once that is stored.
   */
  #end(run: ExperimentRun, state: 'completed' | 'stopped' | 'aborted', detail: Record<string, unknown>, actor: Actor): Promise<void> {
    this.#running.remove(run.id);
    this.#running.withdraw(run, `the experiment was ${state}`);
    const now = Date.now();
    const ending = (async () => {
      const outcome = run.finish(state, detail, await this.#o.store.experiments.figures(run.id), now, actor.name);
      const audit = { verdict: String(outcome.verdict), ...(typeof detail.guardrail === 'string' ? { guardrail: detail.guardrail, hosts: (detail.hostIds as string[]).join(',').slice(0, 200) } : {}) };
      await Promise.all([this.#writes.flush(), this.#o.access.record(actor, `experiment.${state === 'completed' ? 'complete' : state === 'stopped' ? 'stop' : 'abort'}`, run.id, 'ok', audit)]);
    })();
    this.#ending.set(run.id, ending);
    const forget = () => this.#ending.delete(run.id);
    ending.then(forget, forget);
    return ending;
  }

  #refuseOverlap(id: string, agents: ReadonlySet<string>): void {
    for (const run of this.#running.runs()) {
      if (run.id === id) continue;
      const shared = [...run.hosts.values()].filter((h) => agents.has(h.agentId)).map((h) => h.hostId);
      if (shared.length > 0) {
        throw new HttpRequestError('conflict', `the target overlaps running experiment '${run.id}' (${run.record.name}) on ${shared.length} host${shared.length === 1 ? '' : 's'}: ${shared.slice(0, 5).join(', ')}`);
      }
    }
  }

  /** A template the definition names: one the catalog does not hold is the definition's fault (400), not a missing resource. */
  async #resolve(reference: string, field: string) {
    try {
      return await this.#o.catalog.resolve(reference, field);
    } catch (error) {
      if (error instanceof NotFoundError) throw new BadRequestError(`definition: ${error.message}`);
      throw error;
    }
  }

  async #record(id: string): Promise<ExperimentRecord> {
    const record = this.#running.get(id)?.record ?? (await this.#o.store.experiments.experiment(id));
    if (!record) throw new NotFoundError(`no experiment '${id.slice(0, 80)}'`);
    return record;
  }

  /**
   * An experiment's hosts as they stand: a running one's as this process holds them, unless other processes share
   * the store (each holds the states of its own agents' hosts; the store has all of them, this process's flushed).
   */
  async #hostsOf(id: string): Promise<ExperimentHostRecord[]> {
    const run = this.#running.get(id);
    return run && !this.#o.store.peers.shared ? [...run.hosts.values()] : this.#o.store.experiments.hosts(id);
  }
}

