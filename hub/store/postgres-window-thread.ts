// PostgreSQL's window thread (postgres-window-worker.ts; the loop's side is window-thread.ts): the comparison read on a
// pool of the thread's own.
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../../common/logger.js';
import type { WindowThreadData } from './postgres-window-worker.js';
import type { PostgresLocation } from './store-url.js';
import { tierOptionsOf, type TierOptions } from './tiers.js';
import { threadScript } from './thread-script.js';
import { WindowThread } from './window-thread.js';

/** The window thread's script in a release, beside the executable. */
export const RELEASE_WINDOW_WORKER = 'phoenix-hub-window-worker.cjs';
/** Connections of the thread's own pool (comparisons rarely overlap: an open page asks once a second). */
const CONNECTIONS = 2;

/** Starts the thread; null (logged) when this build has no script for it. Rejects when the thread cannot start. */
export function startPostgresWindowThread(location: PostgresLocation, tiers: TierOptions, logger: Logger, connectTimeoutMs: number): Promise<WindowThread | null> {
  const data: WindowThreadData = { url: location.url, tiers: tierOptionsOf(tiers), connections: CONNECTIONS, connectTimeoutMs, logLevel: logger.level as LevelWithSilent };
  return WindowThread.start({ script: threadScript('postgres-window-worker', RELEASE_WINDOW_WORKER), data, name: 'phoenix-store-window', display: location.display }, logger);
}
