// A window's edges kept between reads and carried forward by the raw rows written since: an open page reads the same
// sliding window (the last hour) every second, so each edge moves by a second's rows, not by a seek per host and side.
// The store tells it of every row written before an edge (WrittenWatch): SQLite's one writer of its own commits,
// PostgreSQL's replicas also of each other's (their notices say where each report was placed in time).
import type { Position } from './positions.js';
import { keyOf } from './positions.js';
import type { Marks } from './tiers.js';

/** Edges kept at once (the page's window, an experiment's verdict, a second page on another window). */
const KEPT = 4;
/** An edge farther than this behind is read again from the tiers (a range of raw rows that long costs as much). */
export const CARRY_LIMIT_MS = 10 * 60_000;

/** Where rows were written since it was last asked: the earliest time among them. */
export interface WrittenWatch {
  /** The earliest row time written since the last call (Infinity when nothing was). */
  takeLowestWritten(): number;
}

/** A WrittenWatch told by hand (PostgreSQL: this replica's commits and the other replicas' notices). */
export class LowestWritten implements WrittenWatch {
  #lowest = Infinity;

  /** Rows were written from `ts` on (0: anything may have been). */
  wrote(ts: number): void {
    if (ts < this.#lowest) this.#lowest = ts;
  }

  takeLowestWritten(): number {
    const lowest = this.#lowest;
    this.#lowest = Infinity;
    return lowest;
  }
}

/** Every agent-side's running totals as they stood just before `x`. */
export interface Edge {
  readonly x: number;
  readonly marks: Readonly<Marks>;
  readonly positions: ReadonlyMap<string, Position>;
}

/** A window read under way: the earliest row written while it reads. */
export interface Reading {
  readonly from: Edge | undefined;
  lowest: number;
}

const sameMarks = (a: Readonly<Marks>, b: Readonly<Marks>) =>
  a.rawFloor === b.rawFloor && a.fineFloor === b.fineFloor && a.rolledFine === b.rolledFine && a.rolledCoarse === b.rolledCoarse && a.dirtyFine === b.dirtyFine;

/**
 * Calling rules: `begin()` before an edge's reads, `keep()` after them, `end()` in any case (a finally); an edge read
 * while a row before it was written is not kept. Kept edges are never changed (a carried edge is a new map).
 */
export class CarriedEdges {
  readonly #watch: WrittenWatch;
  readonly #fineMs: number;
  #edges: Edge[] = [];
  readonly #readings = new Set<Reading>();

  constructor(watch: WrittenWatch, fineMs: number) {
    this.#watch = watch;
    this.#fineMs = fineMs;
  }

  /** Whether an edge at `x` may be carried at all: raw rows answer it, a fine bucket clear of the raw floor (the tiers
   * behind a host that sent nothing meanwhile then answer the same at both ends). */
  carriable(x: number, marks: Readonly<Marks>): boolean {
    return x - this.#fineMs > marks.rawFloor;
  }

  /** Hears of the rows written since it last asked: the edges before them are forgotten, the reads under way told. */
  #hear(): void {
    const lowest = this.#watch.takeLowestWritten();
    if (lowest === Infinity) return;
    this.#edges = this.#edges.filter((e) => e.x <= lowest);
    for (const r of this.#readings) r.lowest = Math.min(r.lowest, lowest);
  }

  /**
   * Forgets the edges no longer true — a row written before one (a late report), or the tiers moved (maintenance) —
   * and starts a read of the edge at `x`, from the kept edge nearest below it if one is near enough.
   */
  begin(x: number, marks: Readonly<Marks>): Reading {
    this.#hear();
    this.#edges = this.#edges.filter((e) => sameMarks(e.marks, marks));
    const near = (e: Edge) => e.x <= x && x - e.x <= CARRY_LIMIT_MS && this.carriable(e.x, marks);
    const reading: Reading = { from: this.#edges.filter(near).sort((a, b) => b.x - a.x)[0], lowest: Infinity };
    this.#readings.add(reading);
    return reading;
  }

  /** `from` moved on by the raw rows after it, oldest first (a later row of an agent-side replaces it). */
  carry(from: Pick<Edge, 'positions'>, rows: readonly Position[]): Map<string, Position> {
    const positions = new Map(from.positions);
    for (const p of rows) positions.set(keyOf(p.agentId, p.side), p);
    this.#edges = this.#edges.filter((e) => e !== from);
    return positions;
  }

  /** Keeps the edge at `x` that `reading` read (unless a row before `x` was written meanwhile), the newest first. */
  keep(x: number, marks: Readonly<Marks>, positions: ReadonlyMap<string, Position>, reading: Reading): void {
    this.#hear();
    if (reading.lowest < x) return;
    this.#edges = [{ x, marks: { ...marks }, positions }, ...this.#edges.filter((e) => e.x !== x)].slice(0, KEPT);
  }

  end(reading: Reading): void {
    this.#readings.delete(reading);
  }
}
