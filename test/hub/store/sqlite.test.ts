// The hub's SQLite store: the Store contract (store-contract.ts, the same tests as every engine's), its schema checks
// and the running totals' arithmetic.
import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import { ZERO_LOSS } from '../../../hub/store/loss-sums.js';
import { addSample, difference, fromRow, toRow, ZERO_TOTALS } from '../../../hub/store/totals.js';
import { StoreOpenError } from '../../../hub/errors.js';
import { agentReportSchema } from '../../../protocol/report.js';
import { sampleReport, sampleReportWithLoss } from '../../fixtures/report.js';
import { sqliteEngine } from './engines.js';
import { storeContract } from './store-contract.js';

t.test('the report fixture is a valid report', async (t) => {
  t.ok(agentReportSchema.safeParse(sampleReport()).success);
  t.ok(agentReportSchema.safeParse(sampleReportWithLoss()).success, 'with loss figures too');
});

const MIN = 60_000;

async function tempStoreFile(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'hub.db');
}

t.test('the Store contract on SQLite', async (t) => storeContract(t, sqliteEngine));

t.test('a store from another schema is refused with a clear error', async (t) => {
  const file = await tempStoreFile(t);
  const old = new Database(file);
  old.exec('CREATE TABLE samples (ts INTEGER)');
  old.pragma('user_version = 1');
  old.close();
  t.throws(() => openSqliteStore({ file }), StoreOpenError);
  t.throws(() => openSqliteStore({ file }), { message: /schema 1 was written by a development build.*move the file aside/ });
  const newer = new Database(file);
  newer.pragma('user_version = 9');
  newer.close();
  t.throws(() => openSqliteStore({ file }), { message: /schema 9 is newer than this hub/ });
  await writeFile(file, 'not a database at all, just text that is long enough to be read as a header..........');
  t.throws(() => openSqliteStore({ file }), { code: 'PHX_STORE_OPEN', message: /cannot open the hub store '.*hub\.db' \(SQLITE_NOTADB/ });
  t.throws(() => openSqliteStore({ file: path.join(file, 'sub', 'hub.db') }), { code: 'PHX_STORE_OPEN', message: /cannot open the hub store/ }, 'a data dir under a file');
  t.throws(() => openSqliteStore({ file: `${file}2`, bucketMs: 7 * MIN }), { name: 'CallingRuleError', code: 'PHX_STORE_TIERS' }, 'coarse bucket not a multiple of the fine one');
});

t.test('running totals: add, difference, row round trip', async (t) => {
  const a = addSample(ZERO_TOTALS, { series: 10, retention: 1, cpu: 2.5, rss: 100, cost: 1 });
  const b = addSample(a, { series: null, retention: 0.5, cpu: null, rss: 300, cost: null });
  t.match(b, { n: 2, series: 10, seriesN: 1, cpu: 2.5, cpuN: 1, rss: 400, rssN: 2, cost: 1, costN: 1, retentionN: 2, lossy: 1 });
  t.same(difference(b, a), { ...ZERO_TOTALS, n: 1, rss: 300, rssN: 1, retentionN: 1, lossy: 1 });
  t.same(fromRow(toRow(b)), b);
  const loss = { ...ZERO_LOSS, topCpuVisible: 9, topCpuRanked: 10, topCpuN: 1, cpuConservation: 0.95, cpuConservationN: 1 };
  const c = addSample(b, { series: 1, retention: null, cpu: null, rss: null, cost: null }, loss);
  t.same(difference(c, b), { ...ZERO_TOTALS, n: 1, series: 1, seriesN: 1, ...loss }, 'the loss sums add and subtract with the rest');
  t.same(fromRow(toRow(c)), c, 'and round-trip through a row');
  t.same(addSample(ZERO_TOTALS, { series: Number.NaN, retention: null, cpu: Number.POSITIVE_INFINITY, rss: null, cost: null }), { ...ZERO_TOTALS, n: 1 }, 'non-finite values are not summed');
});
