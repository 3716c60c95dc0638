// What a hub's SQLite file holds, counted with the test's own SQL on a read-only connection (WAL lets it read
// beside a running hub), so that "stored once" is checked against the rows themselves, not the store's API.
import Database from 'better-sqlite3';
import path from 'node:path';

/** One report's rows in `samples` (hub/store/sqlite-schema.ts): a stored report has one row for each of its two sides. */
export interface SeqRows {
  seq: number;
  rows: number;
  sides: number;
  /** The report's time as filed (the same on both sides). */
  ts: number;
}

/** Every sequence number stored for `agentId` (or for the only agent), ascending, with its raw row count. */
export function rowsPerSeq(dataDir: string, agentId?: string): SeqRows[] {
  const db = new Database(path.join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    const agents = db.prepare<[], { agent_id: string }>('SELECT DISTINCT agent_id FROM samples').all().map((r) => r.agent_id);
    const agent = agentId ?? agents[0];
    if (agentId === undefined && agents.length > 1) throw new Error(`rowsPerSeq: name the agent, the store holds ${agents.join(', ')}`);
    return db
      .prepare<[string], SeqRows>('SELECT seq, count(*) AS rows, count(DISTINCT side) AS sides, min(ts) AS ts FROM samples WHERE agent_id = ? GROUP BY seq ORDER BY seq')
      .all(agent ?? '');
  } finally {
    db.close();
  }
}

/** The sequence numbers whose rows are not exactly one per side (stored twice, or half a report). */
export const notOnce = (rows: SeqRows[]) => rows.filter((r) => r.rows !== 2 || r.sides !== 2).map((r) => r.seq);

/** True when the stored sequence numbers are exactly 1..n. */
export const contiguous = (seqs: number[]) => seqs.every((s, i) => s === i + 1);
