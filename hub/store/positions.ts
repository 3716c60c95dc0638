// Where each agent-side's running totals and critical state stand: the rows a window is read between; engine-neutral.
import type { Totals } from './totals.js';

/** Where an agent-side's running totals stood at some time. */
export interface Position {
  agentId: string;
  side: 0 | 1;
  ts: number;
  variant: string;
  pairedWith: string;
  totals: Totals;
}

/** An agent-side's critical state: retention, and the missing processes as a sorted JSON list (compared as text). */
export interface CriticalState {
  retention: number | null;
  missing: string;
}

export const keyOf = (agentId: string, side: number): string => `${agentId}\u0000${side}`;

/**
 * Each agent-side's latest position and critical state: what the next report adds to, and what a window ending
 * after the newest report reads. Calling rule: change it only with what a committed transaction wrote.
 */
export class LivePositions {
  readonly #positions = new Map<string, Position>();
  readonly #critical = new Map<string, CriticalState>();
  #newestTs = 0;
  #lowestWritten = Infinity;

  /** Keeps `p` unless a later position of its agent-side is known (loading reads the tiers in any order). */
  remember(p: Position): void {
    const key = keyOf(p.agentId, p.side);
    if ((this.#positions.get(key)?.ts ?? -1) > p.ts) return;
    this.#positions.set(key, p);
    this.#newestTs = Math.max(this.#newestTs, p.ts);
  }

  /** A committed transaction wrote rows from `ts` on (its earliest row's time). */
  wrote(ts: number): void {
    if (ts < this.#lowestWritten) this.#lowestWritten = ts;
  }

  /** The earliest row time written since the last call (Infinity when nothing was): what a cached window edge checks. */
  takeLowestWritten(): number {
    const lowest = this.#lowestWritten;
    this.#lowestWritten = Infinity;
    return lowest;
  }

  /** Drops what is held of an agent's two sides (before they are loaded again from the store). */
  forget(agentId: string): void {
    for (const side of [0, 1]) {
      this.#positions.delete(keyOf(agentId, side));
      this.#critical.delete(keyOf(agentId, side));
    }
  }

  setCritical(key: string, state: CriticalState): void {
    this.#critical.set(key, state);
  }

  position(key: string): Position | undefined {
    return this.#positions.get(key);
  }

  critical(key: string): CriticalState | undefined {
    return this.#critical.get(key);
  }

  /** Every agent-side's latest position, by keyOf. */
  get all(): ReadonlyMap<string, Position> {
    return this.#positions;
  }

  /** The newest report time of any agent-side. */
  get newestTs(): number {
    return this.#newestTs;
  }
}
