// A window's start kept between reads and carried forward by the raw rows written since: an open page reads the same
// sliding window (the last hour) every second, so its start moves by a second's rows, not by a seek per host and side.
// Only for a store whose process wrote every row (SQLite's one writer): it hears of every commit through LivePositions.
import type { LivePositions, Position } from './positions.js';
import { keyOf } from './positions.js';
import type { Marks } from './tiers.js';

/** Edges kept at once (the page's window, an experiment's verdict, a second page on another window). */
const KEPT = 4;
/** An edge farther than this behind is read again from the tiers (a range of raw rows that long costs as much). */
export const CARRY_LIMIT_MS = 10 * 60_000;

/** Every agent-side's running totals as they stood just before `x`. */
export interface Edge {
  readonly x: number;
  readonly marks: Readonly<Marks>;
  readonly positions: ReadonlyMap<string, Position>;
}

const sameMarks = (a: Readonly<Marks>, b: Readonly<Marks>) =>
  a.rawFloor === b.rawFloor && a.fineFloor === b.fineFloor && a.rolledFine === b.rolledFine && a.rolledCoarse === b.rolledCoarse && a.dirtyFine === b.dirtyFine;

/**
 * Calling rules: `begin()` before a window's reads, `keep()` after them with what `begin()` returned; an edge read
 * while a transaction committed is not kept. Kept edges are never changed (a carried edge is a new map).
 */
export class CarriedEdges {
  readonly #live: LivePositions;
  readonly #fineMs: number;
  #edges: Edge[] = [];

  constructor(live: LivePositions, fineMs: number) {
    this.#live = live;
    this.#fineMs = fineMs;
  }

  /**
   * Forgets the edges a commit since made untrue — a row written before an edge (a late report), or the tiers moved
   * (maintenance) — and returns the kept edge to carry to `x`, if one is near enough below it.
   */
  begin(x: number, marks: Readonly<Marks>): { commits: number; from: Edge | undefined } {
    const lowest = this.#live.takeLowestWritten();
    this.#edges = this.#edges.filter((e) => e.x <= lowest && sameMarks(e.marks, marks));
    // Both ends answered by raw rows, a fine bucket clear of the raw floor: the tiers behind a host that sent
    // nothing meanwhile answer it the same at both ends.
    const carriable = (e: Edge) => e.x <= x && x - e.x <= CARRY_LIMIT_MS && e.x - this.#fineMs > marks.rawFloor;
    const from = this.#edges.filter(carriable).sort((a, b) => b.x - a.x)[0];
    return { commits: this.#live.commits, from };
  }

  /** `from` moved on by the raw rows from `from.x` up to the new edge, oldest first (a later row of an agent-side replaces it). */
  carry(from: Edge, rows: readonly Position[]): Map<string, Position> {
    const positions = new Map(from.positions);
    for (const p of rows) positions.set(keyOf(p.agentId, p.side), p);
    this.#edges = this.#edges.filter((e) => e !== from);
    return positions;
  }

  /** Keeps the edge at `x` read since `begin()` (unless a transaction committed meanwhile), the newest first. */
  keep(x: number, marks: Readonly<Marks>, positions: ReadonlyMap<string, Position>, begun: { commits: number }): void {
    if (this.#live.commits !== begun.commits) return;
    this.#edges = [{ x, marks: { ...marks }, positions }, ...this.#edges.filter((e) => e.x !== x)].slice(0, KEPT);
  }
}
