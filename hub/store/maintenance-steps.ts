// One maintenance pass as the statements it runs, in order, engine-neutral: each engine runs them in one transaction
// (SQLite's synchronously, PostgreSQL's on one client) and adds up what they changed into the outcome.
import type { StoreSql } from './store-sql.js';
import { MARK_KEYS, type MaintenancePlan, type Marks, type Tiers } from './tiers.js';
import type { MaintenanceOutcome } from './types.js';

export interface MaintenanceStep {
  statement: keyof StoreSql;
  /** Named parameters, or positional ones in order. */
  params: Readonly<Record<string, number>> | readonly (string | number)[];
  /** The outcome figure the rows it changed count towards. */
  counts?: keyof MaintenanceOutcome;
  /** Run only when this statement (a count, `n`) finds any row; else it changes none. */
  onlyIf?: { statement: keyof StoreSql; params: Readonly<Record<string, number>> };
}

/**
 * The pass `plan` describes: roll fine buckets (and the fleet's) and re-roll late ones, then coarse ones; prune each
 * tier below its floor, the coarse tier only after anchoring what it drops; prune critical changes and the audit log
 * with the coarse history; store the marks as they move.
 */
export function maintenanceSteps(plan: MaintenancePlan, tiers: Tiers): MaintenanceStep[] {
  const setMark = (mark: keyof Marks, value: number): MaintenanceStep => ({ statement: 'setMeta', params: [MARK_KEYS[mark][0], value] });
  const steps: MaintenanceStep[] = [];
  if (plan.fine) {
    steps.push({ statement: 'rollFine', params: { res: tiers.fine, ...plan.fine }, counts: 'rolledUp' });
    steps.push({ statement: 'rollFleet', params: { res: tiers.fine, ...plan.fine } });
    steps.push(setMark('rolledFine', plan.marks.rolledFine));
  }
  steps.push({ statement: 'deleteMeta', params: [MARK_KEYS.dirtyFine[0]] });
  if (plan.coarse) {
    steps.push({ statement: 'rollCoarse', params: { res: tiers.coarse, fine: tiers.fine, ...plan.coarse }, counts: 'rolledUp' });
    steps.push({ statement: 'rollFleet', params: { res: tiers.coarse, ...plan.coarse } });
    steps.push(setMark('rolledCoarse', plan.marks.rolledCoarse));
  }
  steps.push({ statement: 'deleteRaw', params: [plan.rawFloor], counts: 'deletedRaw' });
  steps.push(setMark('rawFloor', plan.rawFloor));
  steps.push({ statement: 'deleteRollups', params: [tiers.fine, plan.fineFloor], counts: 'deletedRollups' });
  steps.push({ statement: 'deleteFleetRollups', params: [tiers.fine, plan.fineFloor] });
  steps.push(setMark('fineFloor', plan.fineFloor));
  // The coarse tier is the last: what it drops survives only as each agent-side's anchor.
  // Only when some are pruned: finding each agent-side's last coarse rollup is a seek per side (~250 ms a pass at
  // 10,000 agents on PostgreSQL, where every replica's ingest waits on the pass).
  const coarseBelow = { res: tiers.coarse, before: plan.coarseFloor };
  steps.push({ statement: 'setAnchors', params: coarseBelow, onlyIf: { statement: 'anyRollupsBelow', params: coarseBelow } });
  steps.push({ statement: 'deleteRollups', params: [tiers.coarse, plan.coarseFloor], counts: 'deletedRollups' });
  steps.push({ statement: 'deleteFleetRollups', params: [tiers.coarse, plan.coarseFloor] });
  steps.push({ statement: 'deleteChanges', params: { before: plan.coarseFloor } });
  // The audit log is kept as long as the coarse history.
  steps.push({ statement: 'pruneAudit', params: [plan.coarseFloor] });
  return steps;
}

/** The outcome of `steps`, given how many rows each of them changed (in order). */
export function countSteps(steps: readonly MaintenanceStep[], changed: readonly number[]): MaintenanceOutcome {
  const outcome: MaintenanceOutcome = { rolledUp: 0, deletedRaw: 0, deletedRollups: 0 };
  steps.forEach((step, i) => {
    if (step.counts) outcome[step.counts] += changed[i] ?? 0;
  });
  return outcome;
}
