// Several hub replicas on one PostgreSQL database (issue 16), at the store: an agent that moves between replicas has
// each report stored once and its running totals continued where the other replica left them; two replicas storing
// the same reports at once store each once; maintenance runs on one replica at a time, and a late report stored by
// one is rolled up again by the other's next pass.
import t from 'tap';
import { silentLogger } from '../../../common/logger.js';
import { openPostgresStore } from '../../../hub/store/postgres.js';
import { parsePostgresUrl } from '../../../hub/store/store-url.js';
import type { TierOptions } from '../../../hub/store/tiers.js';
import type { IncomingReport, Store } from '../../../hub/store/types.js';
import { startPostgres } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

const MIN = 60_000;

t.test('replicas on one database', async (t) => {
  const server = await startPostgres(t);
  /** Two stores (replicas) on a new database. */
  const replicas = async (tiers: TierOptions = {}): Promise<[Store, Store]> => {
    const location = parsePostgresUrl(await server.createDatabase(), 'test');
    const open = () => openPostgresStore({ location, logger: silentLogger(), ...tiers });
    const pair: [Store, Store] = [await open(), await open()];
    t.teardown(() => Promise.all(pair.map((s) => s.close())));
    return pair;
  };
  /** Report `seq` of agent a1 at `start` + seq minutes, with `series` on side 1. */
  const report = (start: number, seq: number, series = seq): IncomingReport => {
    const message = reportFor('web-1', seq, start + seq * MIN);
    message.report.variants[1].series = series;
    return { agentId: 'a1', message, receivedAt: start + seq * MIN };
  };
  const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

  t.test('an agent moving between replicas: stored once, its running totals continued', async (t) => {
    const [a, b] = await replicas();
    const start = Date.now() - 60 * MIN;
    await a.upsertAgent(helloFor('a1', 'web-1'), start);
    t.same(await a.storeReports(range(1, 5).map((s) => report(start, s))), Array(5).fill('stored'));
    // The agent reconnects to B and sends again what A had not acknowledged yet (4, 5), then more.
    await b.upsertAgent(helloFor('a1', 'web-1'), start + 5 * MIN);
    t.same(await b.storeReports(range(4, 8).map((s) => report(start, s))), ['duplicate', 'duplicate', 'stored', 'stored', 'stored'], 'B knows what A stored');
    // And back to A, which last stored 5 for it: it must not add 9 to its own totals of 5 reports.
    t.same(await a.storeReports(range(7, 10).map((s) => report(start, s))), ['duplicate', 'duplicate', 'stored', 'stored']);
    for (const [name, store] of [['A', a], ['B', b]] as const) {
      const side1 = (await store.variantPoints(start, start + 11 * MIN)).find((p) => p.side === 1)!;
      t.match(side1, { reports: 10, series: 5.5 }, `${name} reads 10 reports, series 1..10`);
      const half = (await store.variantPoints(start + 5 * MIN + 1, start + 11 * MIN)).find((p) => p.side === 1)!;
      t.match(half, { reports: 5, series: 8 }, `${name}: the window from report 6 on, from the totals B and A wrote`);
    }
    t.equal((await b.agents())[0]!.lastSeq, 10);
  });

  t.test('two replicas storing the same reports at once store each once', async (t) => {
    const [a, b] = await replicas();
    const start = Date.now() - 60 * MIN;
    await a.upsertAgent(helloFor('a1', 'web-1'), start);
    await a.storeReports([report(start, 1)]);
    const batch = range(2, 20).map((s) => report(start, s));
    const [fromA, fromB] = await Promise.all([a.storeReports(batch), b.storeReports(batch)]);
    const stored = range(2, 20).map((_, i) => [fromA[i], fromB[i]].filter((o) => o === 'stored').length);
    t.same(stored, Array(19).fill(1), 'each report stored by exactly one replica');
    const side1 = (await b.variantPoints(start, start + 21 * MIN)).find((p) => p.side === 1)!;
    t.match(side1, { reports: 20, series: 10.5 }, 'and counted once');
  });

  t.test('maintenance on one replica at a time; a late report through the other is rolled up again', async (t) => {
    const [a, b] = await replicas({ bucketMs: MIN, coarseBucketMs: 10 * MIN, rollupDelayMs: 0 });
    const start = Math.floor(Date.now() / (10 * MIN)) * 10 * MIN - 30 * MIN;
    await a.upsertAgent(helloFor('a1', 'web-1'), start);
    await a.storeReports(range(1, 10).map((s) => report(start, s)));
    const [ra, rb] = await Promise.all([a.maintain(start + 25 * MIN), b.maintain(start + 25 * MIN)]);
    t.ok((ra.rolledUp > 0) !== (rb.rolledUp > 0), `one pass rolled up, the other skipped (${ra.rolledUp}, ${rb.rolledUp})`);
    t.equal((await a.history('web-1', start, start + 20 * MIN)).length, 20, 'one point per side and minute, from fine rollups');
    // Another agent's report that arrives late (its agent was cut off), through B, into a minute A has rolled up.
    await b.upsertAgent(helloFor('a2', 'web-2'), start + 25 * MIN);
    const late = reportFor('web-2', 1, start + 5 * MIN + 30_000);
    t.same(await b.storeReports([{ agentId: 'a2', message: late, receivedAt: start + 25 * MIN }]), ['stored']);
    const minute = () => a.history('web-2', start + 5 * MIN, start + 6 * MIN);
    t.same(await minute(), [], 'read from the rollups of that minute, which do not hold it yet');
    await b.maintain(start + 26 * MIN);
    t.same((await minute()).map((p) => p.side), [0, 1], "B's pass rolled the minute again: A reads it");
  });

  t.test("a window A reads again and again (its edges kept) counts a late report B stored before those edges", async (t) => {
    const [a, b] = await replicas();
    const start = Date.now() - 60 * MIN;
    await a.upsertAgent(helloFor('a1', 'web-1'), start);
    await b.upsertAgent(helloFor('late', 'web-2'), start);
    t.same(await a.storeReports(range(1, 50).map((s) => report(start, s))), Array(50).fill('stored'));
    const reportsIn = async (agentId: string) => (await a.variantPoints(start + 30 * MIN, Date.now() + 1)).find((p) => p.agentId === agentId && p.side === 0)?.reports ?? 0;
    t.equal(await reportsIn('a1'), 21, 'minutes 30..50');
    t.equal(await reportsIn('a1'), 21, 'read again: carried from the kept edges');
    // B stores what an agent back from an outage made at minutes 20..40: rows before A's kept start and inside it.
    const late = range(20, 40).map((m) => ({ agentId: 'late', message: reportFor('web-2', m - 19, start + m * MIN), receivedAt: Date.now() }));
    t.same(await b.storeReports(late), Array(21).fill('stored'));
    await waitFor("A counts B's late reports", async () => (await reportsIn('late')) === 11, 10_000);
    t.equal(await reportsIn('a1'), 21, 'and the others as before');
  });

  t.test("an agent's new labels, from a hello to B, reach the window reads A keeps its agents' records for", async (t) => {
    const [a, b] = await replicas();
    const start = Date.now() - 10 * MIN;
    await a.upsertAgent(helloFor('a1', 'web-1', { team: 'red' }), start);
    t.same(await a.storeReports(range(1, 5).map((s) => report(start, s))), Array(5).fill('stored'));
    const labelsOnA = async () => (await a.variantPoints(start, Date.now() + 1)).find((p) => p.agentId === 'a1')?.labels;
    t.same(await labelsOnA(), { team: 'red' });
    t.same(await labelsOnA(), { team: 'red' }, 'read again (the records kept)');
    // The agent restarts with a new label and reconnects through B.
    await b.upsertAgent({ ...helloFor('a1', 'web-1', { team: 'blue' }), streamId: 'stream-a1-2' }, Date.now());
    await waitFor("A's window reads show the label B stored", async () => (await labelsOnA())?.team === 'blue', 10_000);
    // A hello to A itself is in its next read at once.
    await a.upsertAgent({ ...helloFor('a1', 'web-1', { team: 'green' }), streamId: 'stream-a1-3' }, Date.now());
    t.same(await labelsOnA(), { team: 'green' }, "A's own hello: the next read");
  });
});
