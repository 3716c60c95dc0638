// The SQLite store's reads: each tier's rows for the window planner, the agents, their latest reports, and on opening
// the live positions and critical states the next reports add to.
import { keyOf, LivePositions } from './positions.js';
import type { Statements } from './sqlite-statements.js';
import { toAgent, toLatest, toPosition } from './store-sql.js';
import { MARK_KEYS, type Marks, type Tiers } from './tiers.js';
import type { Tier, TierReader } from './window.js';

/** The TierReader over the SQLite tables (its answers are there at once). */
export function sqliteTierReader(stmt: Statements) {
  return {
    samplesAt: (floor: number, before: number) => stmt.samplesAt.all({ floor, x: before }).map(toPosition),
    samplesBetween: (from: number, before: number) => stmt.samplesBetween.all({ from, x: before }).map(toPosition),
    rollupsAt: (res: number, before: number) => stmt.rollupsAt.all({ res, before }).map(toPosition),
    anchors: () => stmt.anchors.all().map(toPosition),
    criticalIn: (agentId: string, side: 0 | 1, from: number, to: number) => stmt.criticalIn.all({ agentId, side, from, to }),
    history: (tier: Tier, hostId: string, step: number, from: number, to: number) =>
      tier === 'raw' ? stmt.historyRaw.all({ step, hostId, from, to }) : stmt.historyRollups.all({ res: tier, step, hostId, from, to }),
    fleetHistory: (tier: Tier, step: number, from: number, to: number) =>
      tier === 'raw' ? stmt.fleetRaw.all({ step, from, to }) : stmt.fleetRollups.all({ res: tier, step, from, to }),
  } satisfies TierReader;
}

/** Each agent-side's newest position in any tier (anchors, coarse, fine, raw) and its critical state now. */
export function loadLivePositions(reader: ReturnType<typeof sqliteTierReader>, stmt: Statements, tiers: Tiers): LivePositions {
  const live = new LivePositions();
  const end = Number.MAX_SAFE_INTEGER;
  for (const p of [...reader.anchors(), ...reader.rollupsAt(tiers.coarse, end), ...reader.rollupsAt(tiers.fine, end), ...reader.samplesAt(0, end)]) {
    live.remember(p);
  }
  for (const c of stmt.lastChanges.all()) live.setCritical(keyOf(c.agent_id, c.side), { retention: c.retention, missing: c.missing });
  return live;
}

/** The reads of agents, latest reports and marks, which the store and its reader threads share. */
export function sqliteQueries(stmt: Statements) {
  return {
    agents: () => stmt.allAgents.all().map(toAgent),
    latest(agentId: string) {
      const row = stmt.getLatest.get(agentId);
      return row ? toLatest(row) : null;
    },
    latestAll: () => stmt.allLatest.all().map(toLatest),
    /** Where the tiers stand, as stored. */
    marks: () => Object.fromEntries(Object.entries(MARK_KEYS).map(([mark, [key, fallback]]) => [mark, stmt.getMeta.get(key)?.value ?? fallback])) as unknown as Marks,
  };
}
