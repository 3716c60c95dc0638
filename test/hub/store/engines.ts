// The store engines the contract suites run on (store-contract.ts and its peers): how each opens an empty store of
// its own and opens it again on the same data (a hub restarted).
import type { Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../../../common/logger.js';
import { asyncStore } from '../../../hub/store/async-store.js';
import { openPostgresStore } from '../../../hub/store/postgres.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import { openThreadedSqliteStore } from '../../../hub/store/sqlite-threads.js';
import { openSqliteHubStore } from '../../../hub/store/sqlite-window-thread.js';
import { parsePostgresUrl } from '../../../hub/store/store-url.js';
import type { TierOptions } from '../../../hub/store/tiers.js';
import type { Store } from '../../../hub/store/types.js';
import type { PostgresServer } from '../../helpers/postgres.js';
import type { StoreEngine } from './store-contract.js';

/** An engine from how it opens a store on some data (`open(data)`) and how it makes new data for one. */
function engine(name: string, duplicateKey: { code: string }, newData: (t: Test) => Promise<string>, open: (data: string, tiers: TierOptions) => Promise<Store>) {
  /** As StoreEngine's `open`, and where the store's data is (its file, its database's URL). */
  const openWithUrl = async (t: Test, tiers: TierOptions = {}) => {
    const data = await newData(t);
    let store = await open(data, tiers);
    t.teardown(() => store.close());
    return {
      store,
      url: data,
      async reopen() {
        await store.close();
        await store.close(); // idempotent
        store = await open(data, tiers);
        return store;
      },
    };
  };
  const opened: StoreEngine & { duplicateKey: { code: string } } = { name, duplicateKey, open: openWithUrl };
  return { ...opened, openWithUrl, newData };
}

/** SQLite: a file in a temporary directory of its own. */
export const sqliteEngine = engine(
  'sqlite',
  { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
  async (t) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-'));
    t.teardown(() => rm(dir, { recursive: true, force: true }));
    return path.join(dir, 'hub.db');
  },
  async (file, tiers) => asyncStore(openSqliteStore({ file, ...tiers })),
);

/** SQLite on its threads (the writer and a reader off the event loop): a file of its own. */
export const sqliteThreadsEngine = engine(
  'sqlite-threads',
  { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
  sqliteEngine.newData,
  (file, tiers) => openThreadedSqliteStore({ file, ...tiers }),
);

/** PostgreSQL: a database of its own on `server`. */
export const postgresEngine = (server: PostgresServer) =>
  engine(
    'postgres',
    { code: '23505' },
    () => server.createDatabase(),
    (url, tiers) => openPostgresStore({ location: parsePostgresUrl(url, 'test'), logger: silentLogger(), ...tiers }),
  );

/** SQLite as the hub runs it: the store on the event loop, the comparison in its window thread. */
export const sqliteWindowEngine = engine(
  'sqlite-window',
  { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' },
  sqliteEngine.newData,
  (file, tiers) => openSqliteHubStore({ file, ...tiers }, silentLogger()),
);
