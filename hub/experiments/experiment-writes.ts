// What running experiments change in the store, written in one transaction a short while later instead of one
// commit (and fsync) each: a wave of 1,000 hosts or 2,000 statuses arriving together becomes a few commits.
import type { Logger } from '../../common/logger.js';
import type { ExperimentEvent, ExperimentHostRecord, ExperimentPatch as Patch, ExperimentStore } from './experiment-store.js';

/** The writes ExperimentRun makes. */
export interface ExperimentWrites {
  putHost(host: ExperimentHostRecord): void;
  addEvent(event: Omit<ExperimentEvent, 'id'>): void;
  updateExperiment(id: string, patch: Patch): void;
}

/**
 * Calling rules: await `flush()` before reading what was written from the store (the engine does, before each API
 * read and at the end of each API write, so an answer is stored); `close()` once, when the hub closes (it flushes).
 * Flushes are stored in the order they were made, one at a time. A hub killed meanwhile loses at most `delayMs` of
 * host states and events: an agent's hello says again where it stands.
 */
export class BufferedExperimentWrites implements ExperimentWrites {
  readonly #store: ExperimentStore;
  readonly #delayMs: number;
  readonly #log: Logger;
  /** The latest row of each changed host (experiment id + agent id). */
  readonly #hosts = new Map<string, ExperimentHostRecord>();
  readonly #events: Omit<ExperimentEvent, 'id'>[] = [];
  readonly #patches: [string, Patch][] = [];
  #timer: NodeJS.Timeout | null = null;
  /** The flush being stored (each waits for the one before). */
  #storing: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(store: ExperimentStore, delayMs: number, logger: Logger) {
    this.#store = store;
    this.#delayMs = delayMs;
    this.#log = logger;
  }

  putHost(host: ExperimentHostRecord): void {
    this.#hosts.set(`${host.experimentId}\0${host.agentId}`, { ...host });
    this.#schedule();
  }

  addEvent(event: Omit<ExperimentEvent, 'id'>): void {
    this.#events.push(event);
    this.#schedule();
  }

  updateExperiment(id: string, patch: Patch): void {
    this.#patches.push([id, { ...patch }]);
    this.#schedule();
  }

  /**
   * Writes what is pending in one transaction; resolves once it, and every flush before it, is settled (rejects when
   * this one failed: its writes are lost, as a crash would lose them, and later flushes go on).
   */
  flush(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#hosts.size > 0 || this.#events.length > 0 || this.#patches.length > 0) {
      const writes = { hosts: [...this.#hosts.values()], events: this.#events.splice(0), patches: this.#patches.splice(0) };
      this.#hosts.clear();
      this.#storing = this.#storing.catch(() => undefined).then(() => this.#store.applyWrites(writes));
      return this.#storing;
    }
    // Nothing new: what was flushed before is stored (an earlier failure was its own caller's to hear).
    return this.#storing.catch(() => undefined);
  }

  /** Stores what is pending; later writes are stored at once, each on its own. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.flush();
  }

  #schedule(): void {
    if (this.#closed) {
      this.#background();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      this.#background();
    }, this.#delayMs);
  }

  #background(): void {
    this.flush().catch((error: unknown) => this.#log.error({ err: error }, 'writing experiment changes failed'));
  }
}

