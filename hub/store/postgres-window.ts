// The PostgreSQL store's window reads (the comparison, the charts) over one pool, with what keeps them cheap between
// reads: the window edges carried forward (told where rows were written, here and on other replicas) and the agents'
// records (told which agents said hello). Built on the event loop, and in the window thread (postgres-window-worker.ts).
import type pg from 'pg';
import { LowestWritten } from './carried-edges.js';
import { AgentRecords } from './postgres-agent-records.js';
import { postgresTierReader, readMarks } from './postgres-reads.js';
import { rows } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import type { Tiers } from './tiers.js';
import { SETTLE_MS, type WindowHearing } from './window-hearing.js';
import { windowReads, type WindowReads } from './window.js';

export interface PostgresWindow extends WindowHearing {
  reads: WindowReads;
}

/** Window reads over `read`, and the ears that keep what they keep true; `keepPoints` as WindowSource's (a thread's). */
export function postgresWindow(read: pg.Pool, tiers: Tiers, keepPoints = false): PostgresWindow {
  const records = new AgentRecords(read);
  const written = new LowestWritten();
  const reads = windowReads({
    reader: postgresTierReader(read),
    tiers,
    marks: () => readMarks(read),
    live: null,
    reported: async () => (await rows<{ n: number }>(read, PG.reportedSides))[0]!.n,
    agents: () => records.get(),
    written,
    settleMs: SETTLE_MS,
    keepPoints,
  });
  return {
    reads,
    wrote: (ts) => written.wrote(ts),
    changed: (ids) => records.changed(ids),
    changedAll() {
      written.wrote(0);
      records.changedAll();
    },
  };
}
