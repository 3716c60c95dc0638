// The SQLite store's statements (store-sql.ts in SQLite's dialect), prepared once per database.
import type { Database } from 'better-sqlite3';
import { SQLITE } from './sql-dialect.js';
import { storeSql, type AgentRow, type LatestRow, type PositionValues } from './store-sql.js';
import type { FleetHistoryPoint, HistoryPoint } from './types.js';


/** Prepares every statement the SQLite store runs; valid until `db` closes. */
export function prepareStatements(db: Database) {
  const q = storeSql(SQLITE);
  return {
    getAgent: db.prepare<[string], AgentRow>(q.getAgent),
    allAgents: db.prepare<[], AgentRow>(q.allAgents),
    upsertAgent: db.prepare(q.upsertAgent),
    lastSeq: db.prepare<[string], { last_seq: number }>(q.lastSeq),
    advance: db.prepare<[number, number, string]>(q.advance),
    latest: db.prepare<[string, number, number, string]>(q.latest),
    reportedSides: db.prepare<[], { n: number }>(q.reportedSides),
    getLatest: db.prepare<[string], LatestRow>(q.getLatest),
    allLatest: db.prepare<[], LatestRow>(q.allLatest),
    sample: db.prepare(q.sample),
    change: db.prepare<[string, number, number, number | null, string]>(q.change),
    lastChanges: db.prepare<[], { agent_id: string; side: number; retention: number | null; missing: string }>(q.lastChanges),
    samplesAt: db.prepare<{ floor: number; x: number }, PositionValues>(q.samplesAt).raw(),
    samplesBetween: db.prepare<{ from: number; x: number }, PositionValues>(q.samplesBetween).raw(),
    rollupsAt: db.prepare<{ res: number; before: number }, PositionValues>(q.rollupsAt).raw(),
    anchors: db.prepare<[], PositionValues>(q.anchors).raw(),
    anyRollupsBelow: db.prepare<{ res: number; before: number }, { n: number }>(q.anyRollupsBelow),
    setAnchors: db.prepare<{ res: number; before: number }>(q.setAnchors),
    criticalIn: db.prepare<{ agentId: string; side: number; from: number; to: number }, { retention: number | null; missing: string }>(q.criticalIn),
    getMeta: db.prepare<[string], { value: number }>(q.getMeta),
    setMeta: db.prepare<[string, number]>(q.setMeta),
    deleteMeta: db.prepare<[string]>(q.deleteMeta),
    rollFine: db.prepare<{ res: number; from: number; to: number }>(q.rollFine),
    rollCoarse: db.prepare<{ res: number; fine: number; from: number; to: number }>(q.rollCoarse),
    rollFleet: db.prepare<{ res: number; from: number; to: number }>(q.rollFleet),
    deleteRaw: db.prepare<[number]>(q.deleteRaw),
    deleteRollups: db.prepare<[number, number]>(q.deleteRollups),
    deleteFleetRollups: db.prepare<[number, number]>(q.deleteFleetRollups),
    pruneAudit: db.prepare<[number]>(q.pruneAudit),
    deleteChanges: db.prepare<{ before: number }>(q.deleteChanges),
    historyRaw: db.prepare<{ step: number; hostId: string; from: number; to: number }, HistoryPoint>(q.historyRaw),
    historyRollups: db.prepare<{ res: number; step: number; hostId: string; from: number; to: number }, HistoryPoint>(q.historyRollups),
    fleetRaw: db.prepare<{ step: number; from: number; to: number }, FleetHistoryPoint>(q.fleetRaw),
    fleetRollups: db.prepare<{ res: number; step: number; from: number; to: number }, FleetHistoryPoint>(q.fleetRollups),
  };
}

export type Statements = ReturnType<typeof prepareStatements>;
