// The PostgreSQL store's reads: each tier's rows for the window planner, the marks where the tiers stand, and one
// agent's newest positions and critical states (what a replica reloads when another one stored for that agent).
import { keyOf, type LivePositions } from './positions.js';
import { arrays, rows, type Queryable } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import { toPosition, type PositionValues } from './store-sql.js';
import { MARK_KEYS, type Marks, type Tiers } from './tiers.js';
import type { FleetHistoryPoint, HistoryPoint } from './types.js';
import type { Tier, TierReader } from './window.js';

/** The TierReader over the PostgreSQL tables, read on `on` (the read pool). */
export function postgresTierReader(on: Queryable): TierReader {
  const positions = async (statement: typeof PG.samplesAt, params: Record<string, number>) => (await arrays<PositionValues>(on, statement, params)).map(toPosition);
  return {
    samplesAt: (floor, before) => positions(PG.samplesAt, { floor, x: before }),
    samplesBetween: (from, before) => positions(PG.samplesBetween, { from, x: before }),
    rollupsAt: (res, before) => positions(PG.rollupsAt, { res, before }),
    anchors: async () => (await arrays<PositionValues>(on, PG.anchors)).map(toPosition),
    criticalIn: (agentId, side, from, to) => rows<{ retention: number | null; missing: string }>(on, PG.criticalIn, { agentId, side, from, to }),
    history: (tier: Tier, hostId, step, from, to) =>
      tier === 'raw' ? rows<HistoryPoint>(on, PG.historyRaw, { step, hostId, from, to }) : rows<HistoryPoint>(on, PG.historyRollups, { res: tier, step, hostId, from, to }),
    fleetHistory: (tier: Tier, step, from, to) =>
      tier === 'raw' ? rows<FleetHistoryPoint>(on, PG.fleetRaw, { step, from, to }) : rows<FleetHistoryPoint>(on, PG.fleetRollups, { res: tier, step, from, to }),
  };
}

/** Where the tiers stand, as the database says now (maintenance on any replica moves them). */
export async function readMarks(on: Queryable): Promise<Marks> {
  return marksFrom(new Map((await rows<{ key: string; value: number }>(on, PG.marks, [MARK_KEY_LIST])).map((r) => [r.key, r.value])));
}

/** The meta table's keys of the marks. */
export const MARK_KEY_LIST: readonly string[] = Object.values(MARK_KEYS).map(([key]) => key);

/** The marks from the meta rows found (by key); a mark not there yet is its fallback. */
export function marksFrom(found: ReadonlyMap<string, number>): Marks {
  return Object.fromEntries(Object.entries(MARK_KEYS).map(([mark, [key, fallback]]) => [mark, found.get(key) ?? fallback])) as unknown as Marks;
}

/**
 * Replaces what `live` holds of `agentIds` with their newest positions in any tier (raw rows, fine and coarse rollups,
 * anchors) and their critical states now. Calling rule: with the agents' rows locked (nothing else stores for them).
 */
export async function reloadPositions(on: Queryable, live: LivePositions, tiers: Tiers, agentIds: readonly string[]): Promise<void> {
  // One after another: `on` is one client, in the ingest transaction.
  const samples = await arrays<PositionValues>(on, PG.newestSamples, [agentIds]);
  const fine = await arrays<PositionValues>(on, PG.newestRollups, [agentIds, tiers.fine]);
  const coarse = await arrays<PositionValues>(on, PG.newestRollups, [agentIds, tiers.coarse]);
  const anchors = await arrays<PositionValues>(on, PG.anchorsOf, [agentIds]);
  const changes = await rows<{ agent_id: string; side: number; retention: number | null; missing: string }>(on, PG.newestChanges, [agentIds]);
  for (const agentId of agentIds) live.forget(agentId);
  for (const row of [...anchors, ...coarse, ...fine, ...samples]) live.remember(toPosition(row));
  for (const c of changes) live.setCritical(keyOf(c.agent_id, c.side), { retention: c.retention, missing: c.missing });
}
