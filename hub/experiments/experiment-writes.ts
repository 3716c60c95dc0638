// What running experiments change in the store, written in one transaction a short while later instead of one
// commit (and fsync) each: a wave of 1,000 hosts or 2,000 statuses arriving together becomes a few commits.
import type { Logger } from '../../common/logger.js';
import type { ExperimentEvent, ExperimentHostRecord, ExperimentStore } from './experiment-store.js';

type Patch = Parameters<ExperimentStore['updateExperiment']>[1];

/** The writes ExperimentRun makes. */
export interface ExperimentWrites {
  putHost(host: ExperimentHostRecord): void;
  addEvent(event: Omit<ExperimentEvent, 'id'>): void;
  updateExperiment(id: string, patch: Patch): void;
}

/**
 * Calling rules: `flush()` before reading what was written from the store (the engine does, before each API read and
 * at the end of each API write, so an answer is stored); `close()` once, when the hub closes (it flushes). A hub
 * killed meanwhile loses at most `delayMs` of host states and events: an agent's hello says again where it stands.
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

  /** Writes what is pending in one transaction. */
  flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#hosts.size === 0 && this.#events.length === 0 && this.#patches.length === 0) return;
    const hosts = [...this.#hosts.values()];
    const events = this.#events.splice(0);
    const patches = this.#patches.splice(0);
    this.#hosts.clear();
    this.#store.batch(() => {
      for (const host of hosts) this.#store.putHost(host);
      for (const event of events) this.#store.addEvent(event);
      for (const [id, patch] of patches) this.#store.updateExperiment(id, patch);
    });
  }

  close(): void {
    this.#closed = true;
    this.flush();
  }

  #schedule(): void {
    if (this.#closed) {
      this.flush();
      return;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = null;
      try {
        this.flush();
      } catch (error) {
        this.#log.error({ err: error }, 'writing experiment changes failed');
      }
    }, this.#delayMs);
  }
}

