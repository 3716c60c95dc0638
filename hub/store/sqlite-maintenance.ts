// The SQLite store's maintenance pass (maintenance-steps.ts) in one transaction: rolls up (and re-rolls late buckets),
// anchors and prunes each tier.
import type { Database } from 'better-sqlite3';
import { countSteps, maintenanceSteps } from './maintenance-steps.js';
import type { Statements } from './sqlite-statements.js';
import { planMaintenance, type Marks, type Tiers } from './tiers.js';
import type { MaintenanceOutcome } from './types.js';

/** Returns `maintain(now)`; `marks` move only once its transaction has committed. */
export function sqliteMaintenance(db: Database, stmt: Statements, tiers: Tiers, marks: Marks): (now: number) => MaintenanceOutcome {
  const pass = db.transaction((now: number) => {
    const plan = planMaintenance(marks, tiers, now);
    const steps = maintenanceSteps(plan, tiers);
    const changed = steps.map(({ statement, params, onlyIf }) => {
      if (onlyIf && !((stmt[onlyIf.statement] as unknown as { get(p: unknown): { n: number } | undefined }).get(onlyIf.params)?.n ?? 0)) return 0;
      const prepared = stmt[statement] as unknown as { run(...args: unknown[]): { changes: number } };
      return (Array.isArray(params) ? prepared.run(...params) : prepared.run(params)).changes;
    });
    return { plan, result: countSteps(steps, changed) };
  });
  return (now) => {
    const { plan, result } = pass(now);
    Object.assign(marks, plan.marks);
    return result;
  };
}
