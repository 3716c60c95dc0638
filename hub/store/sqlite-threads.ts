// The SQLite store off the hub's event loop (issue 16): a writer thread owns the write connection, the running
// totals and each group commit; reader threads answer the window reads (the comparison over the whole fleet, the
// charts) and the agents, each on a read-only connection (WAL lets them read while the writer
// writes). The event loop only sends each call and its answer across; what a call does is the SQLite store's own.
import { Worker } from 'node:worker_threads';
import type { AccessStore } from '../access/access-store.js';
import type { ExperimentStore } from '../experiments/experiment-store.js';
import { NO_PEERS } from './peers.js';
import type { StoreThreadData } from './sqlite-worker.js';
import { resolveTiers, tierOptionsOf, type TierOptions } from './tiers.js';
import { ThreadClient } from './thread-rpc.js';
import { threadEnv, threadScript } from './thread-script.js';
import type { Store } from './types.js';

/** The single executable's store thread, bundled beside it (packaging/release.ts). */
export const RELEASE_STORE_WORKER = 'phoenix-hub-store-worker.cjs';

export interface ThreadedSqliteOptions extends TierOptions {
  file: string;
  /** Reader threads (default 1: the writer and one reader keep this 2-core machine's second core). */
  readers?: number;
}

const workerScript = () => threadScript('sqlite-worker', RELEASE_STORE_WORKER);

function startThread(data: StoreThreadData): ThreadClient {
  return new ThreadClient(new Worker(workerScript(), { workerData: data, name: `phoenix-store-${data.role}`, env: threadEnv(workerScript()) }), data.file);
}

/**
 * Opens the store in `options.file` on its threads: the writer first (it creates or upgrades the file), then the
 * readers. Errors as openSqliteStore's: a bad tier configuration (checked here, before any thread starts), a file that
 * cannot be opened or holds another schema (a StoreOpenError). `close()` stores what is under way and ends the threads.
 */
export async function openThreadedSqliteStore(options: ThreadedSqliteOptions): Promise<Store> {
  resolveTiers(options);
  const tiers = tierOptionsOf(options);
  const writer = startThread({ role: 'writer', file: options.file, tiers });
  const readers: ThreadClient[] = [];
  let operations: string[];
  try {
    operations = await writer.ready;
    for (let i = 0; i < (options.readers ?? 1); i++) readers.push(startThread({ role: 'reader', file: options.file, tiers }));
    await Promise.all(readers.map((r) => r.ready));
  } catch (error) {
    await Promise.all([writer, ...readers].map((t) => t.close().catch(() => undefined)));
    throw error;
  }
  let turn = 0;
  const write = (op: string) => (...args: unknown[]) => writer.call(op, args);
  // Reads go to the readers in turn.
  const read = (op: string) => (...args: unknown[]) => readers[turn++ % readers.length]!.call(op, args);
  const part = <T>(prefix: string) => Object.fromEntries(operations.filter((op) => op.startsWith(prefix)).map((op) => [op.slice(prefix.length), write(op)])) as T;
  let closed: Promise<void> | null = null;
  return {
    upsertAgent: write('upsertAgent'),
    storeReports: write('storeReports'),
    maintain: write('maintain'),
    agents: read('agents'),
    // The writer keeps the latest reports newer than the file's rows (latest-writes.ts).
    latest: write('latest'),
    latestAll: write('latestAll'),
    variantPoints: read('variantPoints'),
    comparison: read('comparison'),
    history: read('history'),
    fleetHistory: read('fleetHistory'),
    access: part<AccessStore>('access.'),
    experiments: part<ExperimentStore>('experiments.'),
    peers: NO_PEERS,
    close: () => (closed ??= Promise.all([...readers.map((r) => r.close()), writer.close()]).then(() => undefined)),
  } as Store;
}
