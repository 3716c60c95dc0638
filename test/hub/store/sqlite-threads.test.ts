// The SQLite store on its threads (hub/store/sqlite-threads.ts, issue 16): the Store, AccessStore and ExperimentStore
// contracts (the same assertions as every engine's), with the writer and a reader off the event loop; errors keep
// their class and code across; a file that cannot be opened is a StoreOpenError, as on the loop.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StoreOpenError } from '../../../hub/errors.js';
import { openThreadedSqliteStore } from '../../../hub/store/sqlite-threads.js';
import { accessStoreContract } from './access-store-contract.js';
import { sqliteThreadsEngine } from './engines.js';
import { experimentStoreContract } from './experiment-store-contract.js';
import { storeContract } from './store-contract.js';

t.test('the Store contract on SQLite threads', async (t) => storeContract(t, sqliteThreadsEngine));
t.test('the AccessStore contract on SQLite threads', async (t) => accessStoreContract(t, sqliteThreadsEngine));
t.test('the ExperimentStore contract on SQLite threads', async (t) => experimentStoreContract(t, sqliteThreadsEngine));

t.test('a file that cannot be a store is a StoreOpenError naming it; bad tiers are refused before a thread starts', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-threads-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hub.db');
  await writeFile(file, 'not a database, not at all'.repeat(100));
  const error = await openThreadedSqliteStore({ file }).then(() => null, (e: unknown) => e as Error);
  t.ok(error instanceof StoreOpenError, 'a StoreOpenError on this side');
  t.match(error?.message, /cannot open the hub store '.*hub\.db'/);
  await t.rejects(openThreadedSqliteStore({ file, bucketMs: 7, coarseBucketMs: 10 }), { code: 'PHX_STORE_TIERS' });
});
