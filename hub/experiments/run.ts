// One running experiment's state at the hub: its hosts and waves, its guardrails, its assignment; every change
// written through to the store (and an event) so that a restarted hub carries on where it was.
import type { Assignment } from '../../protocol/assignment.js';
import { buildAssignment, type StoredDefinition } from './assignment.js';
import type { ExperimentEvent, ExperimentHostRecord, ExperimentRecord, ExperimentStore, HostFiguresRecord, HostState } from './experiment-store.js';
import type { ExperimentWrites } from './experiment-writes.js';
import { GuardrailWatch, type GuardrailTrip } from './guardrails.js';
import { waveSizes } from './rollout.js';
import { experimentResults } from './results.js';

/** Host states in which the host still runs (or is about to run) the experiment's pair. */
const ACTIVE: ReadonlySet<HostState> = new Set(['pending', 'applying', 'measuring']);

export class ExperimentRun {
  readonly record: ExperimentRecord;
  readonly stored: StoredDefinition;
  readonly hosts: Map<string, ExperimentHostRecord>;
  /** When each started wave started. */
  readonly waveStarts: number[];
  readonly watch: GuardrailWatch;
  /** Where its changes go (batched by the engine). */
  readonly #writes: ExperimentWrites;
  readonly #sizes: number[];
  #assignment: Assignment | null = null;
  #guardDirty = false;

  private constructor(record: ExperimentRecord, hosts: readonly ExperimentHostRecord[], writes: ExperimentWrites, waveStarts: number[], watch: GuardrailWatch) {
    this.record = { ...record };
    this.stored = JSON.parse(record.spec) as StoredDefinition;
    this.hosts = new Map(hosts.map((h) => [h.agentId, { ...h }]));
    this.#writes = writes;
    this.waveStarts = waveStarts;
    this.watch = watch;
    this.#sizes = waveSizes(hosts.length, this.stored.definition.rollout);
  }

  /** A draft starts now: running, its end time fixed from its duration. */
  static begin(record: ExperimentRecord, hosts: readonly ExperimentHostRecord[], writes: ExperimentWrites, now: number, by: string): ExperimentRun {
    const run = new ExperimentRun({ ...record, state: 'running', startedAt: now }, hosts, writes, [], new GuardrailWatch(JSON.parse(record.spec).definition.guardrails));
    writes.updateExperiment(record.id, { state: 'running', startedAt: now });
    run.event('started', null, by, { waves: run.#sizes, endsAt: run.endsAt === null ? null : new Date(run.endsAt).toISOString() }, now);
    return run;
  }

  /** Its hosts and the starts of its waves, as the store has them. */
  static async readHosts(record: ExperimentRecord, store: ExperimentStore): Promise<{ hosts: ExperimentHostRecord[]; waves: number[] }> {
    const definition = (JSON.parse(record.spec) as StoredDefinition).definition;
    const hosts = await store.hosts(record.id);
    const waves = (await store.events(record.id, { kind: 'wave', limit: waveSizes(hosts.length, definition.rollout).length })).map((e) => e.at);
    return { hosts, waves };
  }

  /** A running experiment read back from the store after a hub restart (or started by another hub process). */
  static async resume(record: ExperimentRecord, store: ExperimentStore, writes: ExperimentWrites): Promise<ExperimentRun> {
    const definition = (JSON.parse(record.spec) as StoredDefinition).definition;
    const { hosts, waves } = await ExperimentRun.readHosts(record, store);
    const watch = record.guard ? GuardrailWatch.from(definition.guardrails, JSON.parse(record.guard)) : new GuardrailWatch(definition.guardrails);
    return new ExperimentRun(record, hosts, writes, waves, watch);
  }

  get id(): string {
    return this.record.id;
  }

  /** When its duration ends (null: it runs until stopped). */
  get endsAt(): number | null {
    const duration = this.stored.definition.duration;
    return duration === null || duration === undefined || this.record.startedAt === null ? null : this.record.startedAt + duration;
  }

  get totalWaves(): number {
    return this.#sizes.length;
  }

  assignment(): Assignment {
    return (this.#assignment ??= buildAssignment(this.id, this.record.revision, this.endsAt, this.stored));
  }

  active(host: ExperimentHostRecord): boolean {
    return ACTIVE.has(host.state);
  }

  event(kind: string, hostId: string | null, actor: string | null, detail: Record<string, unknown>, at = Date.now()): void {
    const event: Omit<ExperimentEvent, 'id'> = { experimentId: this.id, at, kind, hostId, actor, detail: JSON.stringify(detail) };
    this.#writes.addEvent(event);
  }

  setHost(host: ExperimentHostRecord, state: HostState, message: string | null, now: number): void {
    if (host.state === state && host.message === message) return;
    host.state = state;
    host.message = message;
    host.updatedAt = now;
    if (state !== 'measuring') host.healthySince = null;
    this.#writes.putHost(host);
    this.event(`host.${state}`, host.hostId, null, message === null ? {} : { message }, now);
  }

  /** A tagged report (`lost`: the critical processes the candidate lost): the host measures; healthy since its first report without a loss. */
  observeReport(host: ExperimentHostRecord, lost: readonly string[], now: number): GuardrailTrip | null {
    if (host.state !== 'measuring') this.setHost(host, 'measuring', null, now);
    const healthy = lost.length === 0;
    if (healthy !== (host.healthySince !== null)) {
      host.healthySince = healthy ? now : null;
      host.updatedAt = now;
      this.#writes.putHost(host);
    }
    this.#guardDirty = true;
    return this.watch.observeReport(host.hostId, lost);
  }

  /**
   * The next wave may start: every host of the started waves that still runs the experiment has held the criteria
   * (measuring, no candidate loss since it started) for the hold time, and at least one such host exists.
   */
  mayWiden(now: number): boolean {
    if (this.waveStarts.length === 0 || this.waveStarts.length >= this.#sizes.length) return false;
    const hold = this.stored.definition.rollout.hold;
    const started = [...this.hosts.values()].filter((h) => h.wave !== null && this.active(h));
    if (started.length === 0) return false;
    return started.every((h) => h.state === 'measuring' && h.healthySince !== null && now - Math.max(h.healthySince, this.waveStarts[h.wave!]!) >= hold);
  }

  /** Puts the next hosts in the rollout order into wave `wave`; returns them. */
  beginWave(wave: number, now: number): ExperimentHostRecord[] {
    const from = this.#sizes.slice(0, wave).reduce((a, b) => a + b, 0);
    const to = from + (this.#sizes[wave] ?? 0);
    const hosts = [...this.hosts.values()].filter((h) => h.order >= from && h.order < to);
    for (const host of hosts) {
      host.wave = wave;
      host.updatedAt = now;
      this.#writes.putHost(host);
    }
    this.waveStarts[wave] = now;
    this.event('wave', null, null, { wave, hosts: hosts.map((h) => h.hostId) }, now);
    return hosts;
  }

  persistGuard(): void {
    if (!this.#guardDirty) return;
    this.#guardDirty = false;
    this.#writes.updateExperiment(this.id, { guard: JSON.stringify(this.watch.toJSON()) });
  }

  /** Ends it: the final results (from its `figures`, as stored), the hosts' last states, the record; returns the outcome kept with it. */
  finish(state: 'completed' | 'stopped' | 'aborted', detail: Record<string, unknown>, figures: readonly HostFiguresRecord[], now: number, by: string): Record<string, unknown> {
    const results = experimentResults(figures, this.stored.definition);
    // Completed, it passed or it failed: a criterion that could not be judged by the end is not met.
    const unjudged = state === 'completed' && results.verdict === 'pending';
    const outcome = {
      ...detail,
      verdict: state === 'completed' ? (unjudged ? 'failed' : results.verdict) : state,
      summary: unjudged ? `failed, not judged by its end: ${results.summary.replace(/^pending: /, '')}` : results.summary,
      criteria: results.criteria,
    };
    for (const host of this.hosts.values()) {
      if (this.active(host) && host.wave !== null) this.setHost(host, state === 'completed' ? 'done' : 'rolled-back', null, now);
    }
    Object.assign(this.record, { state, endedAt: now, outcome: JSON.stringify(outcome) });
    this.#writes.updateExperiment(this.id, { state, endedAt: now, outcome: this.record.outcome, guard: JSON.stringify(this.watch.toJSON()) });
    this.event(state, null, by, outcome, now);
    return outcome;
  }

  /**
   * Takes the hosts and wave starts as the store has them (other hub processes on the store changed them); returns
   * the hosts whose wave started meanwhile. Calling rule: only once this process's own changes are stored.
   */
  refresh(hosts: readonly ExperimentHostRecord[], waveStarts: readonly number[]): ExperimentHostRecord[] {
    const started: ExperimentHostRecord[] = [];
    for (const stored of hosts) {
      const host = this.hosts.get(stored.agentId);
      if (!host) continue;
      if (host.wave === null && stored.wave !== null) started.push(host);
      // In place: the engine and the guardrails hold these objects.
      Object.assign(host, stored);
    }
    waveStarts.forEach((at, wave) => (this.waveStarts[wave] = at));
    return started;
  }

  /** The hosts an assignment was meant for (their wave started), to withdraw it from. */
  withdrawn(): ExperimentHostRecord[] {
    return [...this.hosts.values()].filter((h) => h.wave !== null && h.state !== 'refused');
  }
}
