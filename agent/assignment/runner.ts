// Runs the hub's assignments on this host: checks each, switches the pair, keeps it across restarts, ends it on time
// (hub or no hub), and tells the hub where it stands.
import type { Logger } from '../../common/logger.js';
import type { Assignment, AssignmentState, AssignmentStatus, HelloExperiments } from '../../protocol/assignment.js';
import type { AgentConfig } from '../config/load.js';
import type { AgentDaemon } from '../daemon.js';
import { assignedPair, ownPair } from '../pair-plan.js';
import { checkAssignment, pushedPairCheck } from './check.js';
import { loadAssignment, removeAssignment, saveAssignment } from './assignment-file.js';

export interface AssignmentRunnerOptions {
  config: AgentConfig;
  daemon: AgentDaemon;
  collectorBinary: string;
  logger: Logger;
  /** Tells the hub (best effort: the next hello carries the latest status too). */
  send: (status: AssignmentStatus) => void;
}

/** setTimeout's longest delay; a later end time is reached in steps. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Calling rules: `start()` once, after the daemon started (assignments received before wait for it); `assign()` and
 * `withdraw()` any time, applied one after another in arrival order; `close()` once, before the daemon closes (it
 * waits for a switch under way). `hello()` is the hello's experiment part.
 */
export class AssignmentRunner {
  readonly #o: AssignmentRunnerOptions;
  readonly #log: Logger;
  readonly #refusal: string | null;
  /** The assignment whose pair runs now (null: the agent's own pair). */
  #running: Assignment | null = null;
  /** The latest word on the latest assignment, for the hello. */
  #last: AssignmentStatus | null = null;
  #endTimer: NodeJS.Timeout | null = null;
  #started!: () => void;
  #queue: Promise<void> = new Promise((resolve) => (this.#started = resolve));
  #closed = false;

  constructor(options: AssignmentRunnerOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'assignments' });
    const { config } = options;
    this.#refusal =
      config.hub?.acceptExperiments === false
        ? 'hub.acceptExperiments is false in this agent’s config'
        : config.experiment.schedule !== undefined
          ? 'this agent measures in scheduled windows (experiment.schedule); it takes no experiments'
          : null;
    const kept = loadAssignment(config, this.#log);
    if (kept && this.#refusal !== null) removeAssignment(config);
    else if (kept) {
      // A hello sent before start() already says what this agent is about to run again.
      if (!this.#ended(kept)) this.#last = { experimentId: kept.experimentId, revision: kept.revision, state: 'applying', message: 'resuming after a restart', at: new Date().toISOString() };
      // First in the queue: the hub answers that hello by sending the assignment again, which must find it applied
      // (and be answered), not apply it a second time after the resumption.
      this.#enqueue(() => this.#resume(kept));
    }
  }

  hello(): HelloExperiments {
    return { accepts: this.#refusal === null, reason: this.#refusal, current: this.#last };
  }

  /** The assignment whose pair runs now, if any. */
  get running(): Assignment | null {
    return this.#running;
  }

  /** Lets queued work run, first resuming the kept assignment (or dropping it when its end time has passed). */
  start(): void {
    this.#started();
  }

  assign(assignment: Assignment): void {
    this.#enqueue(() => this.#onAssign(assignment));
  }

  withdraw(experimentId: string, reason: string): void {
    this.#enqueue(async () => {
      if (this.#running?.experimentId === experimentId) await this.#revert(`withdrawn by the hub: ${reason}`);
      else if (this.#last?.experimentId === experimentId && this.#last.state !== 'reverted') {
        this.#report(experimentId, this.#last.revision, 'reverted', `withdrawn by the hub: ${reason}`);
      }
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#clearTimer();
    this.#started();
    await this.#queue;
  }

  #enqueue(step: () => Promise<void>): void {
    this.#queue = this.#queue.then(() => (this.#closed ? undefined : step())).catch((error: unknown) => {
      this.#log.error({ err: error }, 'assignment step failed');
    });
  }

  async #resume(kept: Assignment): Promise<void> {
    if (this.#ended(kept)) {
      this.#log.info({ experimentId: kept.experimentId }, 'the kept assignment ended while the agent was down; running its own pair');
      removeAssignment(this.#o.config);
      this.#last = null;
      return;
    }
    this.#log.info({ experimentId: kept.experimentId, revision: kept.revision }, 'resuming the kept assignment');
    await this.#apply(kept);
  }

  async #onAssign(assignment: Assignment): Promise<void> {
    const { experimentId, revision } = assignment;
    if (this.#refusal !== null) return this.#report(experimentId, revision, 'refused', this.#refusal);
    const last = this.#last;
    // The hub sends the assignment again after each reconnect: what is already answered is answered again.
    if (last && last.experimentId === experimentId && last.revision >= revision && last.state !== 'applying') {
      this.#o.send(last);
      return;
    }
    if (this.#ended(assignment)) return this.#report(experimentId, revision, 'reverted', `its end time ${assignment.endsAt} has passed`);
    await this.#apply(assignment);
  }

  async #apply(assignment: Assignment): Promise<void> {
    const { experimentId, revision } = assignment;
    this.#report(experimentId, revision, 'applying', null);
    try {
      checkAssignment(assignment);
      await this.#o.daemon.switchPair(assignedPair(assignment), pushedPairCheck(this.#o.config, this.#o.collectorBinary));
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#log.warn({ experimentId, revision, err: error }, 'assignment failed; the previous pair runs on');
      this.#report(experimentId, revision, 'failed', message);
      return;
    }
    this.#running = assignment;
    try {
      saveAssignment(this.#o.config, assignment);
    } catch (error) {
      this.#log.warn({ err: error }, 'cannot keep the assignment in the state directory; a restart will run the agent’s own pair');
    }
    this.#armEnd(assignment);
    this.#report(experimentId, revision, 'applied', null);
  }

  /** Back to the agent's own pair (withdrawn, or ended). */
  async #revert(why: string): Promise<void> {
    const running = this.#running;
    if (!running) return;
    this.#clearTimer();
    try {
      await this.#o.daemon.switchPair(await ownPair(this.#o.config), async () => undefined);
    } catch (error) {
      this.#log.error({ err: error, experimentId: running.experimentId }, 'cannot start the agent’s own pair again');
      this.#report(running.experimentId, running.revision, 'failed', `going back to the agent's own pair failed: ${(error as Error).message}`);
      return;
    }
    this.#running = null;
    removeAssignment(this.#o.config);
    this.#report(running.experimentId, running.revision, 'reverted', why);
  }

  #ended(assignment: Assignment): boolean {
    return assignment.endsAt !== null && Date.parse(assignment.endsAt) <= Date.now();
  }

  #armEnd(assignment: Assignment): void {
    this.#clearTimer();
    if (assignment.endsAt === null) return;
    const due = Date.parse(assignment.endsAt);
    const tick = () => {
      const left = due - Date.now();
      if (left > 0) {
        this.#endTimer = setTimeout(tick, Math.min(left, MAX_TIMER_MS));
        return;
      }
      this.#endTimer = null;
      this.#enqueue(async () => {
        if (this.#running === assignment) await this.#revert(`its end time ${assignment.endsAt} was reached`);
      });
    };
    tick();
  }

  #clearTimer(): void {
    if (this.#endTimer) clearTimeout(this.#endTimer);
    this.#endTimer = null;
  }

  #report(experimentId: string, revision: number, state: AssignmentState, message: string | null): void {
    const status: AssignmentStatus = { experimentId, revision, state, message: message === null ? null : message.slice(0, 2048), at: new Date().toISOString() };
    this.#last = status;
    this.#log.info({ experimentId, revision, state, message }, `assignment ${state}`);
    this.#o.send(status);
  }
}
