// The SQLite store's maintenance pass: rolls up (and re-rolls late buckets), anchors and prunes each tier, in one transaction.
import type { Database } from 'better-sqlite3';
import type { AccessStore } from '../access/access-store.js';
import type { Statements } from './sqlite-statements.js';
import { MARK_KEYS, planMaintenance, type Marks, type Tiers } from './tiers.js';

export type MaintenanceResult = { rolledUp: number; deletedRaw: number; deletedRollups: number };

/** Returns `maintain(now)`; `marks` move only once its transaction has committed. */
export function sqliteMaintenance(db: Database, stmt: Statements, tiers: Tiers, marks: Marks, access: AccessStore): (now: number) => MaintenanceResult {
  const setMark = (mark: keyof Marks, value: number) => stmt.setMeta.run(MARK_KEYS[mark][0], value);
  const pass = db.transaction((now: number) => {
    const plan = planMaintenance(marks, tiers, now);
    let rolledUp = 0;
    if (plan.fine) {
      rolledUp += stmt.rollFine.run({ res: tiers.fine, ...plan.fine }).changes;
      stmt.rollFleet.run({ res: tiers.fine, ...plan.fine });
      setMark('rolledFine', plan.marks.rolledFine);
    }
    stmt.deleteMeta.run(MARK_KEYS.dirtyFine[0]);
    if (plan.coarse) {
      rolledUp += stmt.rollCoarse.run({ res: tiers.coarse, fine: tiers.fine, ...plan.coarse }).changes;
      stmt.rollFleet.run({ res: tiers.coarse, ...plan.coarse });
      setMark('rolledCoarse', plan.marks.rolledCoarse);
    }
    const deletedRaw = stmt.deleteRaw.run(plan.rawFloor).changes;
    setMark('rawFloor', plan.rawFloor);
    let deletedRollups = stmt.deleteRollups.run(tiers.fine, plan.fineFloor).changes;
    stmt.deleteFleetRollups.run(tiers.fine, plan.fineFloor);
    setMark('fineFloor', plan.fineFloor);
    // The coarse tier is the last: what it drops survives only as each agent-side's anchor.
    stmt.setAnchors.run({ res: tiers.coarse, before: plan.coarseFloor });
    deletedRollups += stmt.deleteRollups.run(tiers.coarse, plan.coarseFloor).changes;
    stmt.deleteFleetRollups.run(tiers.coarse, plan.coarseFloor);
    stmt.deleteChanges.run({ before: plan.coarseFloor });
    // The audit log is kept as long as the coarse history.
    access.pruneAudit(plan.coarseFloor);
    return { plan, result: { rolledUp, deletedRaw, deletedRollups } };
  });
  return (now) => {
    const { plan, result } = pass(now);
    Object.assign(marks, plan.marks);
    return result;
  };
}
