// A thread of the SQLite store (issue 16), started by sqlite-threads.ts: the writer owns the write connection, the
// running totals and each group commit; a reader answers window reads on a read-only connection.
import { workerData } from 'node:worker_threads';
import { openSqliteReader } from './sqlite-reader.js';
import { openSqliteStore } from './sqlite.js';
import type { TierOptions } from './tiers.js';
import { serveThread } from './thread-rpc.js';

export interface StoreThreadData {
  role: 'writer' | 'reader';
  file: string;
  tiers: TierOptions;
}

/** An object's functions as handlers, named `prefix` + their names (`access.tokenByHash`). */
const handlersOf = (prefix: string, o: object) =>
  Object.fromEntries(Object.entries(o).filter(([, f]) => typeof f === 'function').map(([name, f]) => [`${prefix}${name}`, f as (...args: never[]) => unknown]));

const data = workerData as StoreThreadData;
serveThread(() => {
  if (data.role === 'reader') return handlersOf('', openSqliteReader(data.file, data.tiers));
  const store = openSqliteStore({ file: data.file, ...data.tiers });
  const { access, experiments, ...rest } = store;
  return { ...handlersOf('', rest), ...handlersOf('access.', access), ...handlersOf('experiments.', experiments) };
});
