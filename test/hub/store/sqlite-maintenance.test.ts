// A maintenance pass is all or nothing: one that fails part-way leaves the tables and the store's marks as they were.
import t from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

const MIN = 60_000;

t.test('a pass that fails part-way changes nothing; the next one does all of it', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-maintain-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'hub.db');
  const store = openSqliteStore({ file, bucketMs: MIN, coarseBucketMs: 10 * MIN, rawRetentionMs: 10 * MIN, rollupRetentionMs: 60 * MIN, coarseRetentionMs: 120 * MIN });
  t.teardown(() => store.close());
  const start = Math.floor(Date.now() / (10 * MIN)) * 10 * MIN - 60 * MIN;
  store.upsertAgent(helloFor('a1', 'web-1'), start);
  for (let i = 0; i < 30; i++) store.storeReports([{ agentId: 'a1', message: reportFor('web-1', i + 1, start + i * MIN), receivedAt: start + i * MIN }]);
  const chart = async () => (await store.history('web-1', start, start + 30 * MIN)).length;
  t.equal(await chart(), 60, 'one point per side and minute, from raw rows');

  // Pruning raw rows fails after the rollups were written: the whole pass must be undone.
  const other = new Database(file);
  t.teardown(() => other.close());
  other.exec(`CREATE TRIGGER no_prune BEFORE DELETE ON samples BEGIN SELECT RAISE(ABORT, 'disk trouble'); END`);
  t.throws(() => store.maintain(start + 40 * MIN), /disk trouble/);
  t.equal((other.prepare('SELECT count(*) AS n FROM rollups').get() as { n: number }).n, 0, 'no rollup was kept');
  t.equal(await chart(), 60, 'the chart still reads the raw rows: the store does not believe they were rolled up');

  other.exec('DROP TRIGGER no_prune');
  const result = store.maintain(start + 40 * MIN);
  t.ok(result.rolledUp > 0 && result.deletedRaw > 0, JSON.stringify(result));
  t.equal(await chart(), 60, 'the same chart, now from rollups');
  t.match(await store.variantPoints(start, start + 30 * MIN), [{ side: 0, reports: 30 }, { side: 1, reports: 30 }]);
});
