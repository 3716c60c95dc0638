// One batch of reports turned into the rows a store writes: each report placed in time, each side's running totals,
// its critical changes and the fine bucket a late report makes stale; engine-neutral (the engine writes the rows).
import type { ReportMessage } from '../../protocol/messages.js';
import { lossOf } from './loss-sums.js';
import { keyOf, type CriticalState, type LivePositions, type Position } from './positions.js';
import { floorTo, type Marks } from './tiers.js';
import { addSample, ZERO_TOTALS, type SampleValues } from './totals.js';

/** One side of a placed report: the raw row (its values and the running totals after it) and a changed critical state. */
export interface PlacedSide {
  position: Position;
  values: SampleValues;
  /** The side's critical state when it differs from the one before (a critical_changes row), else null. */
  changed: CriticalState | null;
}

/** Where a report falls before the clamps that can only raise it: the agent's clock, but never after it arrived. */
export function claimedTime(message: ReportMessage, receivedAt: number): number {
  const claimed = Date.parse(message.window.to);
  return Math.min(Number.isFinite(claimed) ? claimed : receivedAt, receivedAt);
}

/**
 * Calling rules: `place()` each new report (duplicates are the engine's to skip) inside the engine's transaction,
 * in delivery order; `commit()` once that transaction has committed. A batch not committed changes nothing.
 */
export class IngestBatch {
  readonly #live: LivePositions;
  readonly #marks: Marks;
  readonly #fine: number;
  // Positions advance only once the transaction commits: a failed batch leaves them as they were.
  readonly #staged = new Map<string, Position>();
  readonly #stagedCritical = new Map<string, CriticalState>();
  #dirtyFine: number;
  #lowestTs = Infinity;

  constructor(live: LivePositions, marks: Marks, fineBucketMs: number) {
    this.#live = live;
    this.#marks = marks;
    this.#fine = fineBucketMs;
    this.#dirtyFine = marks.dirtyFine;
  }

  /** The first fine bucket this batch's late reports touched (the marks' value when none did). */
  get dirtyFine(): number {
    return this.#dirtyFine;
  }

  /** The earliest time a report of the batch was placed at (Infinity: none placed). */
  get lowestTs(): number {
    return this.#lowestTs;
  }

  /** Whether the batch moved the dirty mark (the engine then stores it with the rows). */
  get dirtyChanged(): boolean {
    return this.#dirtyFine !== this.#marks.dirtyFine;
  }

  #position(key: string): Position | undefined {
    return this.#staged.get(key) ?? this.#live.position(key);
  }

  /**
   * Where the report falls: the agent's clock decides, within limits — never after it arrived, never before the
   * agent's previous report (ts strictly increases per agent), never before the raw rows still kept.
   */
  #placeInTime(agentId: string, message: ReportMessage, receivedAt: number): number {
    let ts = claimedTime(message, receivedAt);
    for (const side of [0, 1]) ts = Math.max(ts, (this.#position(keyOf(agentId, side))?.ts ?? -1) + 1);
    return Math.max(ts, this.#marks.rawFloor);
  }

  /** Places one new report: its time, and per side the row to write. */
  place(agentId: string, message: ReportMessage, receivedAt: number): { ts: number; sides: PlacedSide[] } {
    const report = message.report;
    const ts = this.#placeInTime(agentId, message, receivedAt);
    this.#lowestTs = Math.min(this.#lowestTs, ts);
    // A report below the fine mark lands in a bucket already rolled up: it is rolled again.
    if (ts < this.#marks.rolledFine) this.#dirtyFine = Math.min(this.#dirtyFine, floorTo(ts, this.#fine));
    const sides = report.variants.map((v, index): PlacedSide => {
      const side = index as 0 | 1;
      const key = keyOf(agentId, side);
      const values: SampleValues = { series: v.series, retention: v.criticalRetention, cpu: v.cpuPercent, rss: v.rssBytes, cost: v.estimatedMonthlyCostUsd };
      const totals = addSample(this.#position(key)?.totals ?? ZERO_TOTALS, values, lossOf(v, report.truth));
      const position: Position = { agentId, side, ts, variant: v.name, pairedWith: report.comparison.baseline, totals };
      this.#staged.set(key, position);
      const state: CriticalState = { retention: v.criticalRetention, missing: JSON.stringify([...v.criticalMissing].sort()) };
      const previous = this.#stagedCritical.get(key) ?? this.#live.critical(key);
      const changed = !previous || previous.retention !== state.retention || previous.missing !== state.missing;
      if (changed) this.#stagedCritical.set(key, state);
      return { position, values, changed: changed ? state : null };
    });
    return { ts, sides };
  }

  /**
   * The batch against marks read again later in its transaction, under the lock maintenance takes (a batch that went
   * without it at first): false when its earliest row now falls below the raw floor (the batch must not be stored: a
   * pass pruned that far meanwhile); a row below the fine mark makes its bucket stale, as in place().
   */
  recheck(fresh: Readonly<Marks>): boolean {
    if (this.#lowestTs < fresh.rawFloor) return false;
    if (this.#lowestTs < fresh.rolledFine) this.#dirtyFine = Math.min(this.#dirtyFine, floorTo(this.#lowestTs, this.#fine));
    return true;
  }

  /** The transaction committed: positions, critical states and the dirty mark advance. */
  commit(): void {
    for (const p of this.#staged.values()) this.#live.remember(p);
    if (this.#lowestTs < Infinity) this.#live.wrote(this.#lowestTs);
    for (const [key, state] of this.#stagedCritical) this.#live.setCritical(key, state);
    this.#marks.dirtyFine = this.#dirtyFine;
  }
}
