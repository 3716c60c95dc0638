// The event loop's side of a window thread (PostgreSQL's, SQLite's): the comparison over the whole fleet read and built
// there, so that reading its rows, carrying its edges and aggregating its points never hold the loop that acknowledges
// reports. The loop gathers what it hears between calls and sends it with the next comparison; a build without the
// thread's script, or a thread that died, leaves the comparison to the loop's own window reads (logged).
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../common/logger.js';
import type { ComparisonGroup, GroupBy } from '../compare.js';
import { StoreOpenError } from '../errors.js';
import { ThreadClient } from './thread-rpc.js';
import { scriptExists, threadEnv } from './thread-script.js';
import type { Heard, WindowHearing } from './window-hearing.js';

/** Hellos gathered beyond this many (no page asking meanwhile) are sent as "read every agent again". */
const MAX_AGENTS_HEARD = 10_000;

export interface WindowThreadSpec {
  script: URL;
  /** The thread's workerData (never logged: it may hold a password). */
  data: unknown;
  /** The thread's name (in inspectors and crash reports). */
  name: string;
  /** The store, as messages name it (without a password). */
  display: string;
}

export class WindowThread implements WindowHearing {
  readonly #client: ThreadClient;
  #heard: Heard = { lowest: Infinity, agents: [], all: false };

  private constructor(client: ThreadClient) {
    this.#client = client;
  }

  /** Starts the thread; null (logged) when this build has no script for it. Rejects when the thread cannot start. */
  static async start(spec: WindowThreadSpec, logger: Logger): Promise<WindowThread | null> {
    if (!scriptExists(spec.script)) {
      logger.info({ script: spec.script.pathname }, 'store: no window thread in this build; comparisons are read on the event loop');
      return null;
    }
    const client = new ThreadClient(new Worker(spec.script, { workerData: spec.data, name: spec.name, env: threadEnv(spec.script) }), spec.display);
    await client.ready;
    logger.info({ store: spec.display }, 'store: comparisons are read in a window thread');
    return new WindowThread(client);
  }

  wrote(ts: number): void {
    this.#heard.lowest = Math.min(this.#heard.lowest, ts);
  }

  changed(agentIds: readonly string[]): void {
    if (this.#heard.all) return;
    this.#heard.agents.push(...agentIds);
    if (this.#heard.agents.length > MAX_AGENTS_HEARD) this.#heard = { lowest: this.#heard.lowest, agents: [], all: true };
  }

  changedAll(): void {
    this.#heard = { lowest: 0, agents: [], all: true };
  }

  /** The comparison, read and built in the thread; rejects when the thread is gone. */
  comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]> {
    const heard = this.#heard;
    this.#heard = { lowest: Infinity, agents: [], all: false };
    return this.#client.call('comparison', [from, to, groupBy, heard]);
  }

  close(): Promise<void> {
    return this.#client.close();
  }
}

type Comparison = (from: number, to: number, groupBy: GroupBy) => Promise<ComparisonGroup[]>;

/**
 * The comparison through `thread` while it lives, else `onLoop`; `hearing()` is the thread while it lives (the loop's
 * reads hear for themselves). A thread error revived as StoreOpenError (it failed or exited) ends its use for good.
 */
export function viaThread(thread: WindowThread | null, onLoop: Comparison, logger: Logger) {
  let live = thread;
  return {
    hearing: (): WindowHearing | null => live,
    async comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]> {
      const on = live;
      if (!on) return onLoop(from, to, groupBy);
      try {
        return await on.comparison(from, to, groupBy);
      } catch (error) {
        if (!(error instanceof StoreOpenError)) throw error;
        logger.error({ err: error }, 'store: the window thread failed; comparisons are read on the event loop from now on');
        live = null;
        return onLoop(from, to, groupBy);
      }
    },
    close: async () => thread?.close(),
  };
}
