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

/** The first wait before a window thread that failed is started again; each failure in a row doubles it, to the last. */
export const RESTART_BACKOFF_MS = [1_000, 2_000, 5_000, 15_000, 60_000, 300_000] as const;
/** A restarted thread that answered after living this long counts as well again: the next failure waits the first wait. */
const WELL_AFTER_MS = 60_000;

/**
 * The comparison through the window thread while one lives, else `onLoop`; `hearing()` is the live thread (the loop's
 * reads hear for themselves). A thread error revived as StoreOpenError (it failed or exited) sends that call and the
 * ones after to the loop, and a new thread is started by `restart` after RESTART_BACKOFF_MS (a fresh thread keeps
 * nothing, so its first comparison reads the window whole). Calling rule: `close()` once; it stops the restarts and
 * closes the live thread.
 */
export function viaThread(first: WindowThread | null, restart: () => Promise<WindowThread | null>, onLoop: Comparison, logger: Logger) {
  let live = first;
  let since = Date.now();
  let failures = 0;
  let timer: NodeJS.Timeout | null = null;
  let starting: Promise<void> | null = null;
  let closed = false;
  const schedule = () => {
    const wait = RESTART_BACKOFF_MS[Math.min(failures, RESTART_BACKOFF_MS.length) - 1]!;
    logger.info({ inMs: wait, failures }, 'store: the window thread is started again after a wait');
    timer = setTimeout(() => {
      timer = null;
      starting = restart().then(
        (thread) => {
          if (closed) return void thread?.close();
          if (!thread) return;
          live = thread;
          since = Date.now();
          logger.info({ failures }, 'store: the window thread was started again; comparisons are read there');
        },
        (error: unknown) => {
          failures += 1;
          logger.error({ err: error }, 'store: the window thread could not be started again');
          if (!closed) schedule();
        },
      ).finally(() => (starting = null));
    }, wait);
  };
  const failed = (on: WindowThread, error: StoreOpenError) => {
    if (live !== on) return;
    live = null;
    void on.close();
    failures = Date.now() - since >= WELL_AFTER_MS ? 1 : failures + 1;
    logger.error({ err: error, failures }, 'store: the window thread failed; comparisons are read on the event loop until it is started again');
    if (!closed) schedule();
  };
  return {
    hearing: (): WindowHearing | null => live,
    async comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]> {
      const on = live;
      if (!on) return onLoop(from, to, groupBy);
      try {
        return await on.comparison(from, to, groupBy);
      } catch (error) {
        if (!(error instanceof StoreOpenError)) throw error;
        failed(on, error);
        return onLoop(from, to, groupBy);
      }
    },
    async close(): Promise<void> {
      closed = true;
      if (timer) clearTimeout(timer);
      await starting;
      await live?.close();
      live = null;
    },
  };
}
