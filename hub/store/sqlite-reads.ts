// The SQLite store's reads: each tier's rows for the window planner, the agents, their latest reports, and on opening
// the live positions and critical states the next reports add to.
import { keyOf, LivePositions } from './positions.js';
import { toPosition, type Statements } from './sqlite-statements.js';
import type { Tiers } from './tiers.js';
import type { TierReader } from './window.js';

/** The TierReader over the SQLite tables. */
export function sqliteTierReader(stmt: Statements): TierReader {
  return {
    samplesAt: (floor, before) => stmt.samplesAt.all({ floor, x: before }).map(toPosition),
    rollupsAt: (res, before) => stmt.rollupsAt.all({ res, before }).map(toPosition),
    anchors: () => stmt.anchors.all().map(toPosition),
    criticalIn: (agentId, side, from, to) => stmt.criticalIn.all({ agentId, side, from, to }),
    history: (tier, hostId, step, from, to) =>
      tier === 'raw' ? stmt.historyRaw.all({ step, hostId, from, to }) : stmt.historyRollups.all({ res: tier, step, hostId, from, to }),
    fleetHistory: (tier, step, from, to) => (tier === 'raw' ? stmt.fleetRaw.all({ step, from, to }) : stmt.fleetRollups.all({ res: tier, step, from, to })),
  };
}

/** Each agent-side's newest position in any tier (anchors, coarse, fine, raw) and its critical state now. */
export function loadLivePositions(reader: TierReader, stmt: Statements, tiers: Tiers): LivePositions {
  const live = new LivePositions();
  const end = Number.MAX_SAFE_INTEGER;
  for (const p of [...reader.anchors(), ...reader.rollupsAt(tiers.coarse, end), ...reader.rollupsAt(tiers.fine, end), ...reader.samplesAt(0, end)]) {
    live.remember(p);
  }
  for (const c of stmt.lastChanges.all()) live.setCritical(keyOf(c.agent_id, c.side), { retention: c.retention, missing: c.missing });
  return live;
}
