// The SQLite store off the hub's event loop (issue 16): a writer thread owns the write connection, the running
// totals and each group commit; reader threads answer the window reads (the comparison over the whole fleet, the
// charts), the agents and their latest reports, each on a read-only connection (WAL lets them read while the writer
// writes). The event loop only sends each call and its answer across; what a call does is the SQLite store's own.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isSea } from 'node:sea';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../../common/paths.js';
import type { AccessStore } from '../access/access-store.js';
import type { ExperimentStore } from '../experiments/experiment-store.js';
import { NO_PEERS } from './peers.js';
import type { StoreThreadData } from './sqlite-worker.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import { ThreadClient } from './thread-rpc.js';
import type { Store } from './types.js';

/** The single executable's store thread, bundled beside it (packaging/release.ts). */
export const RELEASE_STORE_WORKER = 'phoenix-hub-store-worker.cjs';

export interface ThreadedSqliteOptions extends TierOptions {
  file: string;
  /** Reader threads (default 1: the writer and one reader keep this 2-core machine's second core). */
  readers?: number;
}

let script: URL | null = null;

/**
 * The thread's script: beside the executable in a release, else beside this file compiled. From the TypeScript
 * sources (the tests, under tap's loader) the compiled one when the build is newer than every source of the store (a
 * thread that compiles its own sources takes seconds to start), else the source itself.
 */
function workerScript(): URL {
  if (script) return script;
  if (isSea()) return (script = pathToFileURL(path.join(path.dirname(process.execPath), RELEASE_STORE_WORKER)));
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.ts')) return (script = new URL('./sqlite-worker.js', import.meta.url));
  const here = path.dirname(self);
  const built = path.join(packageRoot(), 'dist', 'hub', 'store', 'sqlite-worker.js');
  const newest = (dir: string) => Math.max(...readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => statSync(path.join(dir, f)).mtimeMs));
  const sources = [here, ...['..', '../access', '../experiments', '../../common'].map((d) => path.join(here, d))];
  const fresh = existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest));
  return (script = fresh ? pathToFileURL(built) : new URL('./sqlite-worker.ts', import.meta.url));
}

const TIER_KEYS = ['rawRetentionMs', 'rollupRetentionMs', 'coarseRetentionMs', 'bucketMs', 'coarseBucketMs', 'rollupDelayMs'] as const;

function startThread(data: StoreThreadData): ThreadClient {
  // From TypeScript sources (tests), the thread only transpiles what its parent has type-checked already.
  const env = workerScript().pathname.endsWith('.ts') ? { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } : process.env;
  return new ThreadClient(new Worker(workerScript(), { workerData: data, name: `phoenix-store-${data.role}`, env }), data.file);
}

/**
 * Opens the store in `options.file` on its threads: the writer first (it creates or upgrades the file), then the
 * readers. Errors as openSqliteStore's: a bad tier configuration (checked here, before any thread starts), a file that
 * cannot be opened or holds another schema (a StoreOpenError). `close()` stores what is under way and ends the threads.
 */
export async function openThreadedSqliteStore(options: ThreadedSqliteOptions): Promise<Store> {
  resolveTiers(options);
  const tiers = Object.fromEntries(TIER_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as TierOptions;
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
    latest: read('latest'),
    latestAll: read('latestAll'),
    variantPoints: read('variantPoints'),
    history: read('history'),
    fleetHistory: read('fleetHistory'),
    access: part<AccessStore>('access.'),
    experiments: part<ExperimentStore>('experiments.'),
    peers: NO_PEERS,
    close: () => (closed ??= Promise.all([...readers.map((r) => r.close()), writer.close()]).then(() => undefined)),
  } as Store;
}
