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
import { windowReads, type WindowReads } from './window.js';

/**
 * How long a report may take from the time it is placed at to its batch's commit, on any replica (batches take
 * milliseconds; a second covers a loaded server): window edges are kept only before it.
 */
export const SETTLE_MS = 1000;

/** What window reads kept between calls are told of: rows written, hellos, and notices that may have been missed. */
export interface WindowHearing {
  /** Rows were written from `ts` on (0: anything may have been). */
  wrote(ts: number): void;
  /** These agents said hello (their host, kind or labels may have changed). */
  changed(agentIds: readonly string[]): void;
  /** Notices may have been missed: everything kept is read again. */
  changedAll(): void;
}

export interface PostgresWindow extends WindowHearing {
  reads: WindowReads;
}

/** Window reads over `read`, and the ears that keep what they keep true. */
export function postgresWindow(read: pg.Pool, tiers: Tiers): PostgresWindow {
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
