// The embedded store as the hub runs it: the SQLite store on the event loop (its group commits are milliseconds), and
// the comparison over the whole fleet in a window thread of its own (sqlite-window-worker.ts), told with each call
// where the loop's commits wrote and who said hello. A comparison over 10,000 hosts held the loop ~70 ms a second.
import type { Logger } from '../../common/logger.js';
import { asyncStore } from './async-store.js';
import { openSqliteStore, type SqliteStoreOptions } from './sqlite.js';
import type { SqliteWindowData } from './sqlite-window-worker.js';
import { tierOptionsOf } from './tiers.js';
import { threadScript } from './thread-script.js';
import type { Store } from './types.js';
import type { WindowHearing } from './window-hearing.js';
import { viaThread, WindowThread } from './window-thread.js';

/** The window thread's script in a release, beside the executable. */
export const RELEASE_SQLITE_WINDOW_WORKER = 'phoenix-hub-sqlite-window-worker.cjs';

/**
 * Opens the store in `options.file` (errors as openSqliteStore's), then its window thread; without the thread's script
 * (logged), or while a thread that failed is started again, the comparison is read on the loop. Rejects when the thread cannot start.
 */
export async function openSqliteHubStore(options: Omit<SqliteStoreOptions, 'hearing'>, logger: Logger): Promise<Store> {
  let via: ReturnType<typeof viaThread> | null = null;
  // What the loop's store does before the thread is there is in the file the thread opens; a thread that failed hears nothing.
  const relay: Pick<WindowHearing, 'wrote' | 'changed'> = { wrote: (ts) => via?.hearing()?.wrote(ts), changed: (ids) => via?.hearing()?.changed(ids) };
  const sync = openSqliteStore({ ...options, hearing: relay });
  const data: SqliteWindowData = { file: options.file, tiers: tierOptionsOf(options) };
  const start = () => WindowThread.start({ script: threadScript('sqlite-window-worker', RELEASE_SQLITE_WINDOW_WORKER), data, name: 'phoenix-store-window', display: options.file }, logger);
  let thread: WindowThread | null;
  try {
    thread = await start();
  } catch (error) {
    sync.close();
    throw error;
  }
  const store = asyncStore(sync);
  const threaded = viaThread(thread, start, store.comparison, logger);
  via = threaded;
  let closed: Promise<void> | null = null;
  return {
    ...store,
    comparison: threaded.comparison,
    close: () => (closed ??= threaded.close().then(() => store.close())),
  };
}
