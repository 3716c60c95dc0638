// IngestQueue: concurrent submits are stored in one transaction; a promise settles only once the store call has
// returned (committed); duplicates are counted; close() stores what is pending and refuses later submits.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { CallingRuleError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { IngestQueue } from '../../hub/ingest-queue.js';
import { openSqliteStore } from '../../hub/store/sqlite.js';
import { asyncStore } from '../../hub/store/async-store.js';
import type { IncomingReport, Store, StoreOutcome } from '../../hub/store/types.js';
import { captureLogs } from '../helpers/logs.js';
import { helloFor, reportFor } from '../helpers/ws-client.js';

/** A real store on a temp dir, with agents a1..a<agents> known to it. */
async function realStore(t: Test, agents = 3): Promise<{ store: Store; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-queue-'));
  const file = path.join(dir, 'hub.db');
  const sync = openSqliteStore({ file });
  t.teardown(async () => {
    sync.close();
    await rm(dir, { recursive: true, force: true });
  });
  for (let i = 1; i <= agents; i++) sync.upsertAgent(helloFor(`a${i}`, `host-${i}`), Date.now());
  return { store: asyncStore(sync), file };
}

/** Wraps a store: records each storeReports call (its batch, and when it began and returned) in `events`. */
function recording(inner: Store, storeReports: Store['storeReports'] = (items) => inner.storeReports(items)) {
  const batches: string[][] = [];
  const events: string[] = [];
  const store: Store = {
    ...inner,
    async storeReports(items) {
      batches.push(items.map((i) => `${i.agentId}#${i.message.seq}`));
      events.push('store:begin');
      const outcomes = await storeReports(items);
      events.push('store:return');
      return outcomes;
    },
  };
  return { store, batches, events };
}

const item = (agentId: string, seq: number): IncomingReport => ({ agentId, message: reportFor(`host-${agentId.slice(1)}`, seq), receivedAt: Date.now() });

t.test('concurrent submits are stored in one call, and each settles only after it returned', async (t) => {
  const { store: real } = await realStore(t);
  const { store, batches, events } = recording(real);
  const queue = new IngestQueue(store, silentLogger(), { maxDelayMs: 5 });
  t.teardown(() => queue.close());
  const submitted = [item('a1', 1), item('a2', 1), item('a3', 1), item('a1', 2)].map((i) =>
    queue.submit(i).then((outcome) => {
      events.push(`settled:${i.agentId}#${i.message.seq}`);
      return outcome;
    }),
  );
  t.same(batches, [], 'nothing is stored while the batch is open');
  t.same(await Promise.all(submitted), ['stored', 'stored', 'stored', 'stored']);
  t.same(batches, [['a1#1', 'a2#1', 'a3#1', 'a1#2']], 'one store call (one transaction), in submission order');
  t.same(events, ['store:begin', 'store:return', 'settled:a1#1', 'settled:a2#1', 'settled:a3#1', 'settled:a1#2']);
  t.equal(queue.stored, 4);
  t.equal(queue.duplicates, 0);
});

t.test('a settled report is committed: another connection to the file reads it', async (t) => {
  const { store, file } = await realStore(t, 1);
  const queue = new IngestQueue(store, silentLogger());
  t.teardown(() => queue.close());
  const reader = new Database(file, { readonly: true });
  t.teardown(() => reader.close());
  const lastSeq = () => (reader.prepare('SELECT last_seq FROM agents WHERE agent_id = ?').get('a1') as { last_seq: number }).last_seq;
  const pending = queue.submit(item('a1', 1));
  t.equal(lastSeq(), 0, 'not visible before the store call');
  t.equal(await pending, 'stored');
  t.equal(lastSeq(), 1, 'the high-water mark is on disk when the promise settles');
});

t.test('duplicates, in the same batch or a later one, are reported and counted', async (t) => {
  const { store } = await realStore(t, 1);
  const queue = new IngestQueue(store, silentLogger());
  t.teardown(() => queue.close());
  t.same(await Promise.all([queue.submit(item('a1', 1)), queue.submit(item('a1', 2)), queue.submit(item('a1', 2))]), ['stored', 'stored', 'duplicate']);
  t.equal(await queue.submit(item('a1', 1)), 'duplicate', 'a resend of a stored report');
  t.equal(queue.stored, 2);
  t.equal(queue.duplicates, 2);
});

t.test('a full batch is stored at once, without waiting for the delay', async (t) => {
  const { store: real } = await realStore(t);
  const { store, batches } = recording(real);
  // A delay no test waits out: only a full batch, or close(), can store these.
  const queue = new IngestQueue(store, silentLogger(), { maxBatch: 2, maxDelayMs: 600_000 });
  t.teardown(() => queue.close());
  const first = [queue.submit(item('a1', 1)), queue.submit(item('a2', 1))];
  t.same(batches, [['a1#1', 'a2#1']], 'stored when the second submit filled the batch');
  const third = queue.submit(item('a3', 1));
  t.same(await Promise.all(first), ['stored', 'stored']);
  t.equal(batches.length, 1, 'the third waits for its batch');
  queue.close();
  t.same(batches, [['a1#1', 'a2#1'], ['a3#1']], 'close() stored the open batch');
  t.equal(await third, 'stored');
});

t.test('a batch the store fails rejects every report in it; the next batch is stored', async (t) => {
  const { store: real } = await realStore(t);
  const failure = new Error('disk I/O error');
  let fail = true;
  const { store, batches } = recording(real, (items) => {
    if (fail) throw failure;
    return real.storeReports(items);
  });
  const { logger, lines } = captureLogs();
  const queue = new IngestQueue(store, logger);
  t.teardown(() => queue.close());
  const results = await Promise.allSettled([queue.submit(item('a1', 1)), queue.submit(item('a2', 1))]);
  t.same(results, [
    { status: 'rejected', reason: failure },
    { status: 'rejected', reason: failure },
  ]);
  t.equal(queue.stored + queue.duplicates, 0, 'nothing counted');
  t.match(lines, [{ level: 50, msg: 'cannot store reports', reports: 2 }]);
  fail = false;
  t.equal(await queue.submit(item('a1', 1)), 'stored', 'the agent sends it again and it is stored');
  t.equal(batches.length, 2);
});

t.test('close() stores what is pending, then every submit is refused with a coded error', async (t) => {
  const { store: real } = await realStore(t, 2);
  const { store, batches } = recording(real);
  const queue = new IngestQueue(store, silentLogger(), { maxDelayMs: 600_000 });
  t.teardown(() => queue.close());
  const pending: Promise<StoreOutcome>[] = [queue.submit(item('a1', 1)), queue.submit(item('a2', 1))];
  queue.close();
  t.same(batches, [['a1#1', 'a2#1']], 'stored during close(), not after the delay');
  t.same(await Promise.all(pending), ['stored', 'stored']);

  const refused = queue.submit(item('a1', 2));
  const error = (await refused.then(
    () => t.fail('a submit after close() must not be stored'),
    (e: unknown) => e,
  )) as CallingRuleError;
  t.type(error, CallingRuleError);
  t.equal(error.code, 'PHX_INGEST_CLOSED');
  t.match(error.message, /submit\(\) after close\(\), report 2 from agent 'a1' not stored/);
  t.equal(batches.length, 1, 'the store is not called again');
  t.equal((await real.agents()).find((a) => a.agentId === 'a1')!.lastSeq, 1);
  await queue.close(); // idempotent
  t.equal(batches.length, 1, 'closing again stores nothing');
});
