// The PostgreSQL store's window thread (started by postgres-window-thread.ts): the comparison over the whole fleet read
// and built here, on a pool of its own, so that parsing its rows, carrying its edges and aggregating its points never
// hold the event loop that acknowledges reports. The loop sends what it heard since its last call with each call.
import { workerData } from 'node:worker_threads';
import type { GroupBy } from '../compare.js';
import { createLogger } from '../../common/logger.js';
import { postgresPool } from './postgres-open.js';
import { postgresWindow } from './postgres-window.js';
import { parsePostgresUrl } from './store-url.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import { serveThread, yieldToTheLoop } from './thread-rpc.js';
import { applyHeard, type Heard } from './window-hearing.js';
import type { LevelWithSilent } from 'pino';

export interface WindowThreadData {
  /** The store's URL (with its password: a thread's data is never logged). */
  url: string;
  tiers: TierOptions;
  connections: number;
  connectTimeoutMs: number;
  logLevel: LevelWithSilent;
}

const data = workerData as WindowThreadData;
yieldToTheLoop();
serveThread(() => {
  const location = parsePostgresUrl(data.url, 'the hub store');
  const logger = createLogger({ level: data.logLevel, format: 'json', name: 'phoenix-hub' }).child({ component: 'store-window-thread' });
  const pool = postgresPool(location, logger, { max: data.connections, connectTimeoutMs: data.connectTimeoutMs });
  const window = postgresWindow(pool, resolveTiers(data.tiers), true);
  return {
    comparison(from: number, to: number, groupBy: GroupBy, heard: Heard) {
      applyHeard(window, heard);
      return window.reads.comparison(from, to, groupBy);
    },
    close: () => pool.end(),
  };
});
