// The PostgreSQL store's maintenance pass (maintenance-steps.ts) in one transaction, run by one replica at a time: the
// others skip it while it runs. It waits for the report batches being stored and holds new ones back until it commits,
// so a report placed in a bucket being rolled up is either in the rollup or marks the bucket to be rolled again.
import type pg from 'pg';
import { countSteps, maintenanceSteps } from './maintenance-steps.js';
import { ROLLUP_LOCK } from './postgres-ingest.js';
import { readMarks } from './postgres-reads.js';
import { changes, rows, transaction } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import { planMaintenance, type Tiers } from './tiers.js';
import type { MaintenanceOutcome } from './types.js';

/** The advisory lock a replica holds while it maintains the store: "phx" and 3. */
export const MAINTENANCE_LOCK = 0x7068_7803;

/** Returns `maintain(now)`: the pass, or nothing done (all zeros) while another replica runs it. */
export function postgresMaintenance(pool: pg.Pool, tiers: Tiers): (now: number) => Promise<MaintenanceOutcome> {
  return (now) =>
    transaction(pool, async (client) => {
      const { rows: held } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [MAINTENANCE_LOCK]);
      if (!held[0]?.got) return { rolledUp: 0, deletedRaw: 0, deletedRollups: 0 };
      await client.query('SELECT pg_advisory_xact_lock($1)', [ROLLUP_LOCK]);
      const steps = maintenanceSteps(planMaintenance(await readMarks(client), tiers, now), tiers);
      const changed: number[] = [];
      for (const { statement, params, onlyIf } of steps) {
        const wanted = !onlyIf || Number((await rows<{ n: number }>(client, PG[onlyIf.statement], onlyIf.params))[0]?.n ?? 0) > 0;
        changed.push(wanted ? await changes(client, PG[statement], params) : 0);
      }
      return countSteps(steps, changed);
    });
}
