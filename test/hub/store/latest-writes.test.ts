// Each agent's latest report in SQLite's file at most a minute stale (hub/store/latest-writes.ts): the store answers
// with the newest, the file gets it at least once a minute while the agent reports, at the next maintenance once it
// goes quiet, and at close.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { fromText, LatestWrites, LATEST_WRITE_EVERY_MS, type LatestText } from '../../../hub/store/latest-writes.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import type { LatestReport } from '../../../hub/store/types.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';

const latestOf = (agentId: string, seq: number, receivedAt: number): LatestText => ({ agentId, seq, receivedAt, text: JSON.stringify(reportFor('h', seq, receivedAt).report) });
const rowOf = (agentId: string, seq: number, receivedAt: number): LatestReport => fromText(latestOf(agentId, seq, receivedAt));

async function storeFile(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-latest-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return path.join(dir, 'hub.db');
}

/** The file's own rows, read on a connection of their own (what a crash would leave). */
function fileSeqs(file: string): Record<string, number> {
  const db = new Database(file, { readonly: true });
  try {
    return Object.fromEntries((db.prepare('SELECT agent_id, seq FROM latest').all() as { agent_id: string; seq: number }[]).map((r) => [r.agent_id, r.seq]));
  } finally {
    db.close();
  }
}

t.test('a batch: the first report of an agent is written, later ones within the minute kept, one a minute on written', async (t) => {
  const w = new LatestWrites(60_000);
  const s1 = w.stage();
  t.equal(s1.due(latestOf('a', 1, 0)), true, 'an agent this process has not written: written');
  t.equal(s1.due(latestOf('a', 2, 5_000)), false, 'five seconds later in the same batch: kept');
  s1.commit();
  t.equal(w.newest('a')?.seq, 2);
  t.equal(w.newest('a')?.report.host.id, 'h', 'answered as the report it was');
  const s2 = w.stage();
  t.equal(s2.due(latestOf('a', 3, 59_999)), false);
  t.equal(s2.due(latestOf('a', 4, 60_000)), true, 'a minute after the written one: written');
  s2.commit();
  t.equal(w.newest('a'), undefined, 'nothing newer than the file is kept');
  const s3 = w.stage();
  s3.due(latestOf('a', 5, 65_000));
  t.equal(w.newest('a'), undefined, 'a batch not committed (its transaction failed) keeps nothing');
  const overlaid = w.overlay([rowOf('a', 4, 60_000), rowOf('b', 9, 1)]);
  t.same(overlaid.map((l) => l.seq), [4, 9]);
  const s4 = w.stage();
  s4.due(latestOf('a', 6, 70_000));
  s4.commit();
  t.same(w.overlay([rowOf('a', 4, 60_000), rowOf('b', 9, 1)]).map((l) => l.seq), [6, 9], 'the read gets the kept report');
  t.same(w.quiet(129_999), [], 'not quiet for a minute yet');
  t.same(w.quiet(130_000).map((l) => l.seq), [6], 'quiet for a minute: handed over');
  w.written(w.quiet(130_000));
  t.same(w.drain(), [], 'and no longer kept');
});

t.test('an agent that starts a new sequence (lower seq, later time): the newer report wins', async (t) => {
  const w = new LatestWrites(60_000);
  const s1 = w.stage();
  s1.due(latestOf('a', 100, 0));
  s1.due(latestOf('a', 101, 5_000));
  s1.commit();
  const s2 = w.stage();
  t.equal(s2.due(latestOf('a', 1, 61_000)), true);
  s2.commit();
  t.equal(w.newest('a'), undefined, 'seq 1 of the new stream is the latest, not the kept seq 101');
});

t.test('SQLite: the store answers with the newest report; the file is at most a minute behind, and whole at close', async (t) => {
  const file = await storeFile(t);
  const t0 = Date.now() - 10 * 60_000;
  let store = openSqliteStore({ file });
  t.teardown(() => store.close());
  store.upsertAgent(helloFor('a1', 'web-1'), t0);
  store.upsertAgent(helloFor('a2', 'web-2'), t0);
  // a1 reports every 5 s for 70 s; a2 twice, then goes quiet.
  for (let seq = 1; seq <= 15; seq++) {
    const at = t0 + (seq - 1) * 5_000;
    const items = [{ agentId: 'a1', message: reportFor('web-1', seq, at), receivedAt: at }];
    if (seq <= 2) items.push({ agentId: 'a2', message: reportFor('web-2', seq, at), receivedAt: at });
    t.same(store.storeReports(items), items.map(() => 'stored'));
    t.equal(store.latest('a1')?.seq, seq, `after report ${seq}, the store answers with it`);
    const inFile = fileSeqs(file).a1!;
    t.ok(at - (t0 + (inFile - 1) * 5_000) < LATEST_WRITE_EVERY_MS, `the file's report ${inFile} is less than a minute older than report ${seq}`);
  }
  t.same(fileSeqs(file), { a1: 13, a2: 1 }, 'written: a1 at its first report and a minute later (report 13), a2 at its first');
  t.same(store.latestAll().map((l) => [l.agentId, l.seq]).sort(), [['a1', 15], ['a2', 2]], 'latestAll answers with the kept ones');
  store.maintain(t0 + 5_000 + LATEST_WRITE_EVERY_MS);
  t.same(fileSeqs(file), { a1: 13, a2: 2 }, 'maintenance writes the report of the agent quiet for a minute');
  store.close();
  t.same(fileSeqs(file), { a1: 15, a2: 2 }, 'close writes what is kept');
  store = openSqliteStore({ file });
  t.equal(store.latest('a1')?.seq, 15, 'and a restarted store reads it');
});
