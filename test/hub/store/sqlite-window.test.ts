// The SQLite store as the hub runs it: the comparison read and built in a window thread on a read-only connection,
// which keeps window edges and the agents between calls and is told what the loop's store wrote. Its answers are the
// loop's own (compareFleet over the points the loop reads from its live positions) through reports carried forward, a
// late report before a kept edge, and a hello that changes an agent's labels; the Store contract holds on it too.
import t from 'tap';
import { compareFleet, type GroupBy } from '../../../hub/compare.js';
import { captureLogs } from '../../helpers/logs.js';
import { openSqliteHubStore } from '../../../hub/store/sqlite-window-thread.js';
import { storeContract } from './store-contract.js';
import { sqliteEngine, sqliteWindowEngine } from './engines.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

t.test('the Store contract on SQLite with its window thread', async (t) => storeContract(t, sqliteWindowEngine));

t.test("the thread's comparisons are the loop's, through kept edges, a late report and new labels", async (t) => {
  const logs = captureLogs('info');
  const store = await openSqliteHubStore({ file: await sqliteEngine.newData(t) }, logs.logger);
  t.teardown(() => store.close());
  t.match(logs.lines, [{ msg: 'store: comparisons are read in a window thread' }], 'the thread started');
  const start = Date.now() - 10 * 60_000;
  const hosts = ['web-1', 'web-2', 'db-1'];
  for (const [i, host] of hosts.entries()) await store.upsertAgent(helloFor(`a${i}`, host, { team: i === 2 ? 'data' : 'web' }), start);
  let seq = 0;
  /** One report of each agent at `at`, received then (the late one: received now). */
  const round = async (at: number, receivedAt = at) => {
    seq += 1;
    await store.storeReports(hosts.map((host, i) => ({ agentId: `a${i}`, message: reportFor(host, seq, at), receivedAt })));
  };
  const same = async (label: string, from: number, to: number) => {
    for (const groupBy of [{ kind: 'none' }, { kind: 'label', name: 'team' }] as GroupBy[]) {
      const loop = compareFleet(await store.variantPoints(from, to), groupBy);
      t.same(await store.comparison(from, to, groupBy), loop, `${label} (${groupBy.kind})`);
    }
  };
  for (let k = 0; k < 5; k++) await round(start + k * 15_000);
  await same('the first read, from the tiers', start + 20_000, Date.now() + 1);
  for (let k = 5; k < 12; k++) await round(start + k * 15_000);
  await same('the start edge carried forward by the rows written since', start + 40_000, Date.now() + 1);
  await same('the same window again', start + 40_000, Date.now() + 1);
  // An agent back from an outage: its report lands before the kept edge (placed after its own last report, so a
  // fourth agent, new, whose first report is from before the window's start).
  await store.upsertAgent(helloFor('a3', 'web-3', { team: 'web' }), Date.now());
  await store.storeReports([{ agentId: 'a3', message: reportFor('web-3', 1, start + 30_000), receivedAt: Date.now() }]);
  await store.storeReports([{ agentId: 'a3', message: reportFor('web-3', 2, start + 50_000), receivedAt: Date.now() }]);
  await same('a late report before the kept edge counted', start + 40_000, Date.now() + 1);
  // New labels by a hello.
  await store.upsertAgent(helloFor('a0', 'web-1', { team: 'data' }), Date.now());
  await same("a hello's new labels in the groups", start + 40_000, Date.now() + 1);
  t.notOk(logs.lines.some((l) => /window thread failed/.test(String(l.msg))), 'the thread answered every call');
});

t.test('the window thread runs at a lower priority than the loop (nice 10: its reads wait for a core, acks do not)', async (t) => {
  const { readdir, readFile } = await import('node:fs/promises');
  /** Each thread of this process: its nice value (field 19 of /proc/self/task/TID/stat, after the command's parentheses). */
  const niceness = async () =>
    Promise.all((await readdir('/proc/self/task')).map(async (tid) => Number((await readFile(`/proc/self/task/${tid}/stat`, 'utf8')).split(') ')[1]!.split(' ')[16])));
  t.notOk((await niceness()).includes(10), 'no thread at nice 10 before');
  const store = await openSqliteHubStore({ file: await sqliteEngine.newData(t) }, captureLogs('info').logger);
  t.teardown(() => store.close());
  await store.comparison(0, Date.now(), { kind: 'none' });
  const after = await niceness();
  t.equal(after.filter((n) => n === 10).length, 1, `one thread at nice 10 once the window thread runs (${after.join(', ')})`);
  t.equal(after[0], 0, 'the loop (the process\'s first thread) at 0');
});
