// What window reads kept between calls are told of (PostgreSQL's and SQLite's window threads, PostgreSQL's loop): rows
// written, hellos, and notices that may have been missed; and how the loop sends what it heard with each call.

/**
 * How long a report may take from the time it is placed at to its batch's commit (batches take milliseconds; a second
 * covers a loaded server, and on PostgreSQL other replicas' batches): window edges are kept only before it.
 */
export const SETTLE_MS = 1000;

export interface WindowHearing {
  /** Rows were written from `ts` on (0: anything may have been). */
  wrote(ts: number): void;
  /** These agents said hello (their host, kind or labels may have changed). */
  changed(agentIds: readonly string[]): void;
  /** Notices may have been missed: everything kept is read again. */
  changedAll(): void;
}

/** What the loop heard since its previous call: the earliest row time written (Infinity: none), hellos, a resync. */
export interface Heard {
  lowest: number;
  agents: string[];
  all: boolean;
}

/** Tells `window` what `heard` holds (in a thread, before it answers the call that carried it). */
export function applyHeard(window: WindowHearing, heard: Heard): void {
  if (heard.all) window.changedAll();
  if (heard.lowest !== Infinity) window.wrote(heard.lowest);
  if (heard.agents.length > 0) window.changed(heard.agents);
}
