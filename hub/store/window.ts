// Reads over a time window, planned across the tiers (raw rows, fine and coarse rollups, anchors); engine-neutral:
// an engine supplies the TierReader, this decides which tier answers which part and assembles the figures.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { compareFleet, type ComparisonGroup, type GroupBy } from '../compare.js';
import { CarriedEdges, type WrittenWatch } from './carried-edges.js';
import { lossFigures } from './loss-sums.js';
import { keyOf, type CriticalState, type LivePositions, type Position } from './positions.js';
import { floorTo, type Marks, type Tiers } from './tiers.js';
import { difference, meanOf, ZERO_TOTALS, type Totals } from './totals.js';
import type { AgentRecord, FleetHistoryPoint, HistoryPoint, VariantPoint } from './types.js';

/** Sides a window read works through before it lets the event loop answer sockets (a few milliseconds' work). */
const YIELD_EVERY = 2_000;

/** A rollup tier, by its resolution (the bucket length in ms), or the raw rows. */
export type Tier = number | 'raw';

/** A value now (SQLite's reads) or later (PostgreSQL's). */
type Answer<T> = T | Promise<T>;

/** What an engine answers for one tier; a window's planning and arithmetic are done here. */
export interface TierReader {
  /** The last raw row at or after `floor` and before `before`, for every agent-side that has one. */
  samplesAt(floor: number, before: number): Answer<Position[]>;
  /** The last rollup of resolution `res` whose bucket starts before `before`, for every agent-side that has one. */
  rollupsAt(res: number, before: number): Answer<Position[]>;
  /** Every raw row in [from, before), oldest first (window edges carried between reads); optional: without it, none are. */
  samplesBetween?(from: number, before: number): Answer<Position[]>;
  /** Per agent-side, the running totals where the oldest kept rows begin. */
  anchors(): Answer<Position[]>;
  /** An agent-side's critical states in force during [from, to): the one before `from` and every change inside. */
  criticalIn(agentId: string, side: 0 | 1, from: number, to: number): Answer<CriticalState[]>;
  /** A host's chart over [from, to) of one tier, in steps of `step` ms. */
  history(tier: Tier, hostId: string, step: number, from: number, to: number): Answer<HistoryPoint[]>;
  /** The fleet's chart over [from, to) of one tier, in steps of `step` ms. */
  fleetHistory(tier: Tier, step: number, from: number, to: number): Answer<FleetHistoryPoint[]>;
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
  variantPoints(from: number, to: number): Promise<VariantPoint[]>;
  /** The comparison over those points (where the points are read: a store reading on a thread sends back the groups). */
  comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]>;
  history(hostId: string, from: number, to: number): Promise<HistoryPoint[]>;
  fleetHistory(from: number, to: number): Promise<FleetHistoryPoint[]>;
}

/** Where a window's reads come from. */
export interface WindowSource {
  reader: TierReader;
  tiers: Tiers;
  /** Where the tiers stand, read at each call (maintenance moves them). */
  marks(): Answer<Readonly<Marks>>;
  /**
   * Each agent-side's newest position, when this process wrote every one of them (SQLite: one writer), which saves
   * reading the tiers for a window ending after the newest report; null where other processes write too (replicas).
   */
  live: LivePositions | null;
  /** Without live positions: how many agent-sides have stored a report (so that a window end stops at the finest tier that answers them all). */
  reported?(): Answer<number>;
  /** Each agent's host id, kind and labels, by agent id. */
  agents(): Answer<ReadonlyMap<string, AgentRecord>>;
  /**
   * Without live positions: where rows were written (this process's commits and the other processes' notices), so
   * that window edges are carried between reads; none, and every edge is read from the tiers.
   */
  written?: WrittenWatch;
  /** How long after its time a row may still be committing (other processes' batches); edges are kept only before it. */
  settleMs?: number;
  /**
   * Keep each side's point between calls (a window thread: an open page asks every second): a side whose positions at
   * both ends and whose agent are what they were is not made again (at 5 s reports, most of a fleet in a second).
   */
  keepPoints?: boolean;
}

/** A side's point as a call made it, and what it was made from. */
interface MadePoint {
  start: Position | undefined;
  last: Position;
  agent: AgentRecord;
  point: VariantPoint;
}

const sameLabels = (a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>) => {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
};
/** The same agent as far as a point shows it (a hello reads every record again, most unchanged). */
const sameAgent = (a: AgentRecord, b: AgentRecord) => a === b || (a.hostId === b.hostId && a.hostKind === b.hostKind && sameLabels(a.labels, b.labels));

/** The Store's window reads over an engine's tiers. */
export function windowReads(source: WindowSource): WindowReads {
  const { reader, tiers, live } = source;
  const watch = live ?? source.written ?? null;
  const edges = watch && reader.samplesBetween ? new CarriedEdges(watch, tiers.fine) : null;
  const settleMs = source.settleMs ?? 0;

  /** Every agent-side's running totals as they stood just before `x`, read from the tiers (their precision at their edges). */
  async function fromTiers(x: number, marks: Readonly<Marks>): Promise<ReadonlyMap<string, Position>> {
    const found = new Map<string, Position>();
    const take = (rows: readonly Position[]) => {
      for (const p of rows) if (!found.has(keyOf(p.agentId, p.side))) found.set(keyOf(p.agentId, p.side), p);
    };
    const tierReads: (() => Answer<Position[]>)[] = [
      () => (x > marks.rawFloor ? reader.samplesAt(marks.rawFloor, x) : []),
      () => reader.rollupsAt(tiers.fine, floorTo(x, tiers.fine)),
      () => reader.rollupsAt(tiers.coarse, floorTo(x, tiers.coarse)),
      // Older than anything kept: count from where the kept rows begin (a window cannot reach past retention).
      () => reader.anchors(),
    ];
    const known = live ? live.all.size : source.reported ? await source.reported() : null;
    if (known !== null) {
      // Finest tier first, and only until every agent-side that reported is found.
      for (const read of tierReads) {
        take(await read());
        if (found.size >= known) break;
      }
    } else {
      // Any number of agent-sides: every tier, read at once, the finer ones first.
      for (const rows of await Promise.all(tierReads.map((read) => read()))) take(rows);
    }
    return found;
  }

  /**
   * Every agent-side's running totals as they stood just before `x`: the newest positions where this process wrote
   * them all; else a kept edge carried forward, or the tiers. Kept is the edge where rows have settled (a batch still
   * committing writes rows before now); the rows after it are added for this read only.
   */
  async function positionsAt(x: number, marks: Readonly<Marks>): Promise<ReadonlyMap<string, Position>> {
    if (live && x > live.newestTs) return live.all;
    const between = reader.samplesBetween?.bind(reader);
    const settled = Math.min(x, Date.now() - settleMs);
    if (!edges || !between || !edges.carriable(settled, marks)) return fromTiers(x, marks);
    const reading = edges.begin(settled, marks);
    try {
      const base = reading.from ? edges.carry(reading.from, await between(reading.from.x, settled)) : await fromTiers(settled, marks);
      edges.keep(settled, marks, base, reading);
      return settled === x ? base : edges.carry({ positions: base }, await between(settled, x));
    } finally {
      edges.end(reading);
    }
  }

  /** The points the last call made (keepPoints), by side. */
  let made = new Map<string, MadePoint>();

  async function variantPoints(from: number, to: number): Promise<VariantPoint[]> {
    const marks = await source.marks();
    const [end, start, byId] = await Promise.all([positionsAt(to, marks), positionsAt(from, marks), source.agents()]);
    const sides: { key: string; first: Position | undefined; last: Position; agent: AgentRecord; t: Totals }[] = [];
    const kept = source.keepPoints ? new Map<string, MadePoint>() : null;
    const points: VariantPoint[] = [];
    let done = 0;
    for (const [key, last] of end) {
      // The loop that reads this also acknowledges reports: it is let go every slice of a large fleet.
      if (++done % YIELD_EVERY === 0) await yieldToLoop();
      const agent = byId.get(last.agentId);
      if (!agent) continue;
      const first = start.get(key);
      const before = kept && made.get(key);
      if (before && before.last === last && before.start === first && sameAgent(before.agent, agent)) {
        kept!.set(key, before);
        points.push(before.point);
        continue;
      }
      const t = difference(last.totals, first?.totals ?? ZERO_TOTALS);
      if (t.n > 0) sides.push({ key, first, last, agent, t });
    }
    // Only a window with lossy reports needs the changes read: otherwise retention was full or never known.
    const lossy = sides.filter((x) => x.t.lossy > 0);
    const criticals = new Map(await Promise.all(lossy.map(async (x) => [x.key, criticalSummary(await reader.criticalIn(x.last.agentId, x.last.side, from, to))] as const)));
    for (const { key, first, last, agent, t } of sides) {
      if (++done % YIELD_EVERY === 0) await yieldToLoop();
      const critical = criticals.get(key) ?? { retentionMin: t.retentionN > 0 ? 1 : null, missing: [] };
      const point: VariantPoint = {
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
      };
      points.push(point);
      // A lossy side's missing processes are read for the window's bounds, so it is made again at each call.
      if (kept && t.lossy === 0) kept.set(key, { start: first, last, agent, point });
    }
    if (kept) made = kept;
    // By agent id (in code units: the same order on every machine and locale), then side.
    return points.sort((a, b) => (a.agentId < b.agentId ? -1 : a.agentId > b.agentId ? 1 : a.side - b.side));
  }

  return {
    variantPoints,
    comparison: async (from, to, groupBy) => compareFleet(await variantPoints(from, to), groupBy),
    async history(hostId, from, to) {
      const step = historyStep(from, to);
      const parts = spans(await source.marks(), tiers, from, to);
      return (await Promise.all(parts.map((s) => reader.history(s.tier, hostId, step, s.from, s.to)))).flat();
    },
    async fleetHistory(from, to) {
      const step = historyStep(from, to);
      const parts = spans(await source.marks(), tiers, from, to);
      return (await Promise.all(parts.map((s) => reader.fleetHistory(s.tier, step, s.from, s.to)))).flat();
    },
  };
}
