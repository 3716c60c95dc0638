// Reads over a time window, planned across the tiers (raw rows, fine and coarse rollups, anchors); engine-neutral:
// an engine supplies the TierReader, this decides which tier answers which part and assembles the figures.
import { lossFigures } from './loss-sums.js';
import { keyOf, type CriticalState, type LivePositions, type Position } from './positions.js';
import { floorTo, type Marks, type Tiers } from './tiers.js';
import { difference, meanOf, ZERO_TOTALS } from './totals.js';
import type { AgentRecord, FleetHistoryPoint, HistoryPoint, VariantPoint } from './types.js';

/** A rollup tier, by its resolution (the bucket length in ms), or the raw rows. */
export type Tier = number | 'raw';

/** What an engine answers for one tier; a window's planning and arithmetic are done here. */
export interface TierReader {
  /** The last raw row at or after `floor` and before `before`, for every agent-side that has one. */
  samplesAt(floor: number, before: number): Position[];
  /** The last rollup of resolution `res` whose bucket starts before `before`, for every agent-side that has one. */
  rollupsAt(res: number, before: number): Position[];
  /** Per agent-side, the running totals where the oldest kept rows begin. */
  anchors(): Position[];
  /** An agent-side's critical states in force during [from, to): the one before `from` and every change inside. */
  criticalIn(agentId: string, side: 0 | 1, from: number, to: number): CriticalState[];
  /** A host's chart over [from, to) of one tier, in steps of `step` ms. */
  history(tier: Tier, hostId: string, step: number, from: number, to: number): HistoryPoint[];
  /** The fleet's chart over [from, to) of one tier, in steps of `step` ms. */
  fleetHistory(tier: Tier, step: number, from: number, to: number): FleetHistoryPoint[];
}

/** At most ~300 points per chart, in whole minutes. */
export const historyStep = (from: number, to: number): number => Math.max(60_000, Math.ceil((to - from) / 300 / 60_000) * 60_000);

/**
 * Splits [from, to) into the parts each tier can answer: coarse rollups before the fine ones begin, fine
 * rollups up to where they are complete, raw rows after. Empty parts are left out.
 */
export function spans(marks: Readonly<Marks>, tiers: Tiers, from: number, to: number): { tier: Tier; from: number; to: number }[] {
  const fineStart = Math.min(Math.max(from, marks.fineFloor), to);
  const rawStart = Math.min(Math.max(fineStart, marks.rolledFine), to);
  const parts = [
    { tier: tiers.coarse, from, to: fineStart },
    { tier: tiers.fine, from: fineStart, to: rawStart },
    { tier: 'raw' as const, from: rawStart, to },
  ];
  return parts.filter((p) => p.to > p.from);
}

/** Worst retention below 1 (null when none) and every process missing, over a list of critical states. */
export function criticalSummary(states: readonly CriticalState[]): { retentionMin: number | null; missing: string[] } {
  let retentionMin: number | null = null;
  const missing = new Set<string>();
  for (const state of states) {
    if (state.retention !== null && state.retention < 1) retentionMin = Math.min(retentionMin ?? 1, state.retention);
    for (const name of JSON.parse(state.missing) as string[]) missing.add(name);
  }
  return { retentionMin, missing: [...missing].sort() };
}

export interface WindowReads {
  variantPoints(from: number, to: number): VariantPoint[];
  history(hostId: string, from: number, to: number): HistoryPoint[];
  fleetHistory(from: number, to: number): FleetHistoryPoint[];
}

/**
 * The Store's window reads over an engine's tiers. `marks` and `live` are read at each call (maintenance and
 * ingest move them); `agents` gives each agent's host id, kind and labels.
 */
export function windowReads(reader: TierReader, tiers: Tiers, marks: Readonly<Marks>, live: LivePositions, agents: () => ReadonlyMap<string, AgentRecord>): WindowReads {
  /** Every agent-side's running totals as they stood just before `x` (the tiers' precision at their edges). */
  function positionsAt(x: number): ReadonlyMap<string, Position> {
    if (x > live.newestTs) return live.all;
    const found = new Map<string, Position>();
    const take = (rows: Position[]) => {
      for (const p of rows) if (!found.has(keyOf(p.agentId, p.side))) found.set(keyOf(p.agentId, p.side), p);
    };
    const known = live.all.size;
    if (x > marks.rawFloor) take(reader.samplesAt(marks.rawFloor, x));
    if (found.size < known) take(reader.rollupsAt(tiers.fine, floorTo(x, tiers.fine)));
    if (found.size < known) take(reader.rollupsAt(tiers.coarse, floorTo(x, tiers.coarse)));
    // Older than anything kept: count from where the kept rows begin (a window cannot reach past retention).
    if (found.size < known) take(reader.anchors());
    return found;
  }

  function variantPoints(from: number, to: number): VariantPoint[] {
    const end = positionsAt(to);
    const start = positionsAt(from);
    const byId = agents();
    const points: VariantPoint[] = [];
    for (const [key, last] of end) {
      const agent = byId.get(last.agentId);
      const t = difference(last.totals, start.get(key)?.totals ?? ZERO_TOTALS);
      if (!agent || t.n <= 0) continue;
      // Only a window with lossy reports needs the changes read: otherwise retention was full or never known.
      const critical = t.lossy > 0 ? criticalSummary(reader.criticalIn(last.agentId, last.side, from, to)) : { retentionMin: t.retentionN > 0 ? 1 : null, missing: [] };
      points.push({
        agentId: last.agentId,
        hostId: agent.hostId,
        hostKind: agent.hostKind,
        labels: agent.labels,
        side: last.side,
        variant: last.variant,
        pairedWith: last.pairedWith,
        reports: t.n,
        series: meanOf(t.series, t.seriesN),
        retentionMin: critical.retentionMin,
        lossyReports: t.lossy,
        missing: critical.missing,
        cpuPercent: meanOf(t.cpu, t.cpuN),
        rssBytes: meanOf(t.rss, t.rssN),
        monthlyCostUsd: meanOf(t.cost, t.costN),
        loss: lossFigures(t),
        lastAt: last.ts,
      });
    }
    return points.sort((a, b) => a.agentId.localeCompare(b.agentId) || a.side - b.side);
  }

  return {
    variantPoints,
    history(hostId, from, to) {
      const step = historyStep(from, to);
      return spans(marks, tiers, from, to).flatMap((s) => reader.history(s.tier, hostId, step, s.from, s.to));
    },
    fleetHistory(from, to) {
      const step = historyStep(from, to);
      return spans(marks, tiers, from, to).flatMap((s) => reader.fleetHistory(s.tier, step, s.from, s.to));
    },
  };
}
