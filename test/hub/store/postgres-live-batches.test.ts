// Batches of recent reports are stored on PostgreSQL without waiting for a maintenance pass (the rollup lock held
// elsewhere), late ones wait for it; a recent batch that took longer than its limit checks the marks again under the
// lock: refused when the raw floor passed it meanwhile, its bucket made stale when the fine mark did.
import t from 'tap';
import pg from 'pg';
import { silentLogger } from '../../../common/logger.js';
import { isLiveBatch, LIVE_SLACK_MS, LIVE_WITHIN_MS, ROLLUP_LOCK } from '../../../hub/store/postgres-ingest.js';
import { openPostgresStore } from '../../../hub/store/postgres.js';
import { parsePostgresUrl } from '../../../hub/store/store-url.js';
import { floorTo } from '../../../hub/store/tiers.js';
import type { IncomingReport } from '../../../hub/store/types.js';
import { startPostgres } from '../../helpers/postgres.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

const MIN = 60_000;
const at = (seq: number, time: number, receivedAt = time): IncomingReport => ({ agentId: 'a1', message: reportFor('web-1', seq, time), receivedAt });

t.test('isLiveBatch: every report within the rollup delay less the slack of the batch start, by its placed time', async (t) => {
  const now = 100 * MIN;
  const edge = now - (MIN - LIVE_SLACK_MS);
  t.equal(isLiveBatch([at(1, now), at(2, edge)], now, MIN), true, 'at the edge');
  t.equal(isLiveBatch([at(1, now), at(2, edge - 1)], now, MIN), false, 'one report past it');
  t.equal(isLiveBatch([at(1, edge - 1, now)], now, MIN), false, "the agent's clock places it early: early");
  t.equal(isLiveBatch([at(1, now + MIN, edge - 1)], now, MIN), false, 'received early, whatever the agent claims');
  const garbled = at(1, now);
  garbled.message.window.to = 'not a time';
  t.equal(isLiveBatch([garbled], now, MIN), true, 'an unreadable time: its arrival');
  t.equal(isLiveBatch([at(1, now)], now, LIVE_SLACK_MS), false, 'a rollup delay within the slack: never');
  t.equal(isLiveBatch([], now, MIN), true, 'nothing to place');
});

t.test('on a real server', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const open = async () => {
    const url = await server.createDatabase();
    const store = await openPostgresStore({ location: parsePostgresUrl(url, 'test'), logger: silentLogger() });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    t.teardown(async () => {
      await admin.end();
      await store.close();
    });
    await store.upsertAgent(helloFor('a1', 'web-1'), Date.now());
    return { store, admin, url };
  };
  const settled = (promise: Promise<unknown>) => {
    const state = { done: false };
    void promise.then(
      () => (state.done = true),
      () => (state.done = true),
    );
    return state;
  };
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

  await t.test('while a pass holds the rollup lock, recent reports are stored and a late one waits for it', async (t) => {
    const { store, admin } = await open();
    await admin.query('SELECT pg_advisory_lock($1)', [ROLLUP_LOCK]);
    const now = Date.now();
    t.same(await store.storeReports([at(1, now - 2000), at(2, now)]), ['stored', 'stored'], 'recent: stored under the held lock');
    const late = store.storeReports([at(3, now - 10 * MIN, now)]);
    const state = settled(late);
    await sleep(1000);
    t.equal(state.done, false, 'a late report waits');
    await admin.query('SELECT pg_advisory_unlock($1)', [ROLLUP_LOCK]);
    t.same(await late, ['stored'], 'and is stored once the pass is over');
  });

  /** A recent batch held up past LIVE_WITHIN_MS at its agent's row, `marks` moved meanwhile; its outcome. */
  const slowBatch = async (marks: (ts: number) => Record<string, number>) => {
    const { store, admin, url } = await open();
    const now = Date.now();
    await admin.query('BEGIN');
    await admin.query("SELECT 1 FROM agents WHERE agent_id = 'a1' FOR UPDATE");
    const outcome = store.storeReports([at(1, now)]).then(
      (o) => o,
      (e: unknown) => e as Error & { code: string },
    );
    await sleep(500);
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    for (const [key, value] of Object.entries(marks(now))) {
      await other.query('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
    }
    await sleep(LIVE_WITHIN_MS);
    await admin.query('COMMIT');
    const result = await outcome;
    const { rows } = await other.query<{ n: number; dirty: string | null }>("SELECT (SELECT count(*)::int FROM samples) AS n, (SELECT value FROM meta WHERE key = 'dirty_fine') AS dirty");
    await other.end();
    return { result, stored: rows[0]!.n, dirty: rows[0]!.dirty === null ? null : Number(rows[0]!.dirty), now, store };
  };

  await t.test('a slow recent batch the raw floor passed meanwhile is refused: nothing stored', async (t) => {
    const { result, stored, store } = await slowBatch((now) => ({ raw_floor: now + MIN, rolled_fine: now + MIN }));
    t.match(result, { code: 'PHX_STORE_RETRY', message: /^a batch of 1 reports took \d+ ms and a maintenance pass pruned past its earliest meanwhile; not stored, the agents send them again$/ });
    t.equal(stored, 0, 'no row');
    t.equal((await store.agents())[0]!.lastSeq, 0, 'its high-water mark where it was: the report is taken when sent again');
  });

  await t.test('a slow recent batch the fine mark passed meanwhile is stored, its bucket rolled again', async (t) => {
    const { result, stored, dirty, now } = await slowBatch((time) => ({ rolled_fine: time + MIN }));
    t.same(result, ['stored']);
    t.equal(stored, 2, 'both sides');
    t.equal(dirty, floorTo(now, 5 * MIN), 'its fine bucket marked to be rolled again');
  });
});
