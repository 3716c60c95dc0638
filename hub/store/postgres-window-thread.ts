// The event loop's side of the PostgreSQL store's window thread (postgres-window-worker.ts): it gathers what the
// replica hears between calls (rows written, hellos, resyncs) and sends it with the next comparison. A release built
// without the thread's script, or a thread that died, leaves the comparison to the loop's own window reads.
import { Worker } from 'node:worker_threads';
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../../common/logger.js';
import type { ComparisonGroup, GroupBy } from '../compare.js';
import type { WindowHearing } from './postgres-window.js';
import type { Heard, WindowThreadData } from './postgres-window-worker.js';
import type { PostgresLocation } from './store-url.js';
import { tierOptionsOf, type TierOptions } from './tiers.js';
import { ThreadClient } from './thread-rpc.js';
import { scriptExists, threadEnv, threadScript } from './thread-script.js';

/** The window thread's script in a release, beside the executable. */
export const RELEASE_WINDOW_WORKER = 'phoenix-hub-window-worker.cjs';
/** Connections of the thread's own pool (comparisons rarely overlap: an open page asks once a second). */
const CONNECTIONS = 2;
/** Hellos gathered beyond this many (no page asking meanwhile) are sent as "read every agent again". */
const MAX_AGENTS_HEARD = 10_000;

export class WindowThread implements WindowHearing {
  readonly #client: ThreadClient;
  #heard: Heard = { lowest: Infinity, agents: [], all: false };

  private constructor(client: ThreadClient) {
    this.#client = client;
  }

  /** Starts the thread; null (logged) when this build has no script for it. Rejects when the thread cannot start. */
  static async start(location: PostgresLocation, tiers: TierOptions, logger: Logger, connectTimeoutMs: number): Promise<WindowThread | null> {
    const script = threadScript('postgres-window-worker', RELEASE_WINDOW_WORKER);
    if (!scriptExists(script)) {
      logger.info({ script: script.pathname }, 'store: no window thread in this build; comparisons are read on the event loop');
      return null;
    }
    const data: WindowThreadData = { url: location.url, tiers: tierOptionsOf(tiers), connections: CONNECTIONS, connectTimeoutMs, logLevel: logger.level as LevelWithSilent };
    const client = new ThreadClient(new Worker(script, { workerData: data, name: 'phoenix-store-window', env: threadEnv(script) }), location.display);
    await client.ready;
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
