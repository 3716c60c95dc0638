// The SQLite store's window thread (started by sqlite-window-thread.ts): the comparison over the whole fleet read and
// built here on a read-only connection (WAL: it reads while the loop's connection writes), its edges and the agents
// kept between calls; the loop sends what it wrote and who said hello since its last call with each call.
import { workerData } from 'node:worker_threads';
import type { GroupBy } from '../compare.js';
import { openSqliteReader } from './sqlite-reader.js';
import type { TierOptions } from './tiers.js';
import { serveThread, yieldToTheLoop } from './thread-rpc.js';
import { applyHeard, type Heard } from './window-hearing.js';

export interface SqliteWindowData {
  file: string;
  tiers: TierOptions;
}

const data = workerData as SqliteWindowData;
yieldToTheLoop();
serveThread(() => {
  const reader = openSqliteReader(data.file, data.tiers, true);
  return {
    comparison(from: number, to: number, groupBy: GroupBy, heard: Heard) {
      applyHeard(reader, heard);
      return reader.comparison(from, to, groupBy);
    },
    close: () => reader.close(),
  };
});
