// Group commit: reports from all connections are stored together in one transaction every few ms.
import { CallingRuleError } from '../common/errors.js';
import type { Logger } from '../common/logger.js';
import type { IncomingReport, Store, StoreOutcome } from './store/types.js';

interface Pending {
  item: IncomingReport;
  resolve: (outcome: StoreOutcome) => void;
  reject: (error: Error) => void;
}

/**
 * Calling rules: `submit()` until `close()`; each promise settles once the report is durably stored
 * (or found a duplicate) — only then may the hub acknowledge it; a batch the store fails rejects every promise in
 * it with the store's error. One batch is with the store at a time, in submission order: what arrives meanwhile waits
 * and goes in the next one (so an agent's reports are stored, and acknowledged, in order). `close()` stores what is
 * pending at once and resolves when the store has answered for all of it; later submits reject with PHX_INGEST_CLOSED.
 */
export class IngestQueue {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #maxBatch: number;
  readonly #maxDelayMs: number;
  #pending: Pending[] = [];
  #timer: NodeJS.Timeout | null = null;
  /** The batch with the store, if any. */
  #storing: Promise<void> | null = null;
  #closed = false;
  stored = 0;
  duplicates = 0;

  constructor(store: Store, logger: Logger, options: { maxBatch?: number; maxDelayMs?: number } = {}) {
    this.#store = store;
    this.#logger = logger;
    this.#maxBatch = options.maxBatch ?? 500;
    this.#maxDelayMs = options.maxDelayMs ?? 5;
  }

  submit(item: IncomingReport): Promise<StoreOutcome> {
    if (this.#closed) {
      const report = `report ${item.message.seq} from agent '${item.agentId}'`;
      return Promise.reject(new CallingRuleError('PHX_INGEST_CLOSED', `ingest queue: submit() after close(), ${report} not stored`));
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ item, resolve, reject });
      this.#schedule();
    });
  }

  /** A full batch goes at once, a partial one after the delay; nothing while a batch is with the store. */
  #schedule(): void {
    if (this.#storing || this.#pending.length === 0) return;
    if (this.#pending.length >= this.#maxBatch || this.#closed) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), this.#maxDelayMs);
  }

  #flush(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    if (this.#storing) return;
    const batch = this.#pending.splice(0, this.#maxBatch);
    if (batch.length === 0) return;
    this.#storing = this.#store.storeReports(batch.map((p) => p.item)).then(
      (outcomes) => {
        outcomes.forEach((outcome, i) => {
          if (outcome === 'stored') this.stored += 1;
          else this.duplicates += 1;
          batch[i]!.resolve(outcome);
        });
      },
      (error: unknown) => {
        // Nothing in the batch is acknowledged: the agents keep the reports and send them again.
        this.#logger.error({ err: error, reports: batch.length }, 'cannot store reports');
        for (const p of batch) p.reject(error as Error);
      },
    );
    void this.#storing.then(() => {
      this.#storing = null;
      this.#schedule();
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#schedule();
    while (this.#storing) await this.#storing.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
  }
}
