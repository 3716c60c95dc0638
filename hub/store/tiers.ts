// The store's retention tiers (raw rows, fine and coarse rollups) and the plan of each maintenance pass; engine-neutral.
import { CallingRuleError } from '../../common/errors.js';

/** TierOptions' keys (a thread is sent only these). */
export const TIER_KEYS = ['rawRetentionMs', 'rollupRetentionMs', 'coarseRetentionMs', 'bucketMs', 'coarseBucketMs', 'rollupDelayMs'] as const;

/** Just the tier options of `options` (which may carry more: a logger, a location). */
export const tierOptionsOf = (options: TierOptions): TierOptions =>
  Object.fromEntries(TIER_KEYS.filter((k) => options[k] !== undefined).map((k) => [k, options[k]])) as TierOptions;

export interface TierOptions {
  /** Raw rows older than this are deleted (after being rolled up). Default 6 h. */
  rawRetentionMs?: number;
  /** Fine rollups older than this are deleted (after being rolled into coarse ones). Default 8 days. */
  rollupRetentionMs?: number;
  /** Coarse rollups older than this are deleted. Default 35 days. */
  coarseRetentionMs?: number;
  /** Fine bucket. Default 5 minutes. */
  bucketMs?: number;
  /** Coarse bucket, a multiple of the fine one. Default 1 hour. */
  coarseBucketMs?: number;
  /** A fine bucket is rolled up this long after it ends (later reports re-roll it). Default 1 minute. */
  rollupDelayMs?: number;
}

export interface Tiers {
  rawRetentionMs: number;
  fineRetentionMs: number;
  coarseRetentionMs: number;
  /** Fine and coarse bucket lengths, in ms: each is also the `res` of its rollups. */
  fine: number;
  coarse: number;
  rollupDelayMs: number;
}

/**
 * Where each tier stands; kept in the store (meta) and in memory. Raw rows exist from `rawFloor` on, fine rollups
 * from `fineFloor`; each rollup tier is complete below its `rolled*` mark; `dirtyFine` is the first fine bucket a
 * late report touched after it was rolled (+Infinity when none).
 */
export interface Marks {
  rawFloor: number;
  fineFloor: number;
  rolledFine: number;
  rolledCoarse: number;
  dirtyFine: number;
}

/** The meta keys the marks are stored under, and their values in a new store. */
export const MARK_KEYS = {
  rawFloor: ['raw_floor', 0],
  fineFloor: ['fine_floor', 0],
  rolledFine: ['rolled_fine', 0],
  rolledCoarse: ['rolled_coarse', 0],
  dirtyFine: ['dirty_fine', Number.POSITIVE_INFINITY],
} as const satisfies Record<keyof Marks, readonly [string, number]>;

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const floorTo = (t: number, step: number): number => Math.floor(t / step) * step;

/** The tiers with their defaults; a bucket or retention that cannot work is a PHX_STORE_TIERS calling-rule error. */
export function resolveTiers(options: TierOptions): Tiers {
  const tiers: Tiers = {
    rawRetentionMs: options.rawRetentionMs ?? 6 * HOUR,
    fineRetentionMs: options.rollupRetentionMs ?? 8 * DAY,
    coarseRetentionMs: options.coarseRetentionMs ?? 35 * DAY,
    fine: options.bucketMs ?? 5 * 60_000,
    coarse: options.coarseBucketMs ?? HOUR,
    rollupDelayMs: options.rollupDelayMs ?? 60_000,
  };
  const { fine, coarse, rawRetentionMs: raw, fineRetentionMs: fineKept, coarseRetentionMs: coarseKept } = tiers;
  if (!(fine > 0 && coarse >= fine && coarse % fine === 0)) {
    throw new CallingRuleError('PHX_STORE_TIERS', `hub store: the coarse bucket (coarseBucketMs ${coarse}) must be a multiple of the fine bucket (bucketMs ${fine})`);
  }
  if (!(raw <= fineKept && fineKept <= coarseKept)) {
    throw new CallingRuleError(
      'PHX_STORE_TIERS',
      `hub store: retention must not shrink from tier to tier, got rawRetentionMs ${raw}, rollupRetentionMs ${fineKept}, coarseRetentionMs ${coarseKept}`,
    );
  }
  return tiers;
}

/** A half-open range [from, to) of bucket starts to roll up. */
export interface Range {
  from: number;
  to: number;
}

/** One maintenance pass: what to roll (null: nothing), where each tier's floor moves, and the marks after it. */
export interface MaintenancePlan {
  fine: Range | null;
  coarse: Range | null;
  /** Raw rows before this go; fine rollups before `fineFloor`; coarse ones before `coarseFloor` (after anchoring). */
  rawFloor: number;
  fineFloor: number;
  coarseFloor: number;
  marks: Marks;
}

/**
 * Plans a pass at `now`. Fine buckets: every whole one that ended `rollupDelayMs` ago, and any a late report
 * touched; coarse buckets: whole ones whose fine buckets are all rolled. A tier's rows go only once the next tier
 * holds them; floors are bucket-aligned and never move back.
 */
export function planMaintenance(marks: Readonly<Marks>, tiers: Tiers, now: number): MaintenancePlan {
  const { fine, coarse } = tiers;
  const fineFrom = Math.min(marks.rolledFine, marks.dirtyFine);
  const fineTo = Math.max(marks.rolledFine, floorTo(now - tiers.rollupDelayMs, fine));
  const fineRange = fineTo > fineFrom ? { from: fineFrom, to: fineTo } : null;
  const rolledFine = fineRange ? fineTo : marks.rolledFine;
  // Re-rolled fine buckets below the coarse mark make their coarse bucket stale too.
  const dirtyCoarse = fineRange && fineFrom < marks.rolledCoarse ? floorTo(fineFrom, coarse) : Number.POSITIVE_INFINITY;
  const coarseFrom = Math.min(marks.rolledCoarse, dirtyCoarse);
  const coarseTo = Math.max(marks.rolledCoarse, floorTo(rolledFine, coarse));
  const coarseRange = coarseTo > coarseFrom ? { from: coarseFrom, to: coarseTo } : null;
  const rolledCoarse = coarseRange ? coarseTo : marks.rolledCoarse;
  const rawFloor = Math.max(marks.rawFloor, floorTo(Math.min(now - tiers.rawRetentionMs, rolledFine), fine));
  const fineFloor = Math.max(marks.fineFloor, floorTo(Math.min(now - tiers.fineRetentionMs, rolledCoarse), coarse));
  return {
    fine: fineRange,
    coarse: coarseRange,
    rawFloor,
    fineFloor,
    coarseFloor: floorTo(now - tiers.coarseRetentionMs, coarse),
    marks: { rawFloor, fineFloor, rolledFine, rolledCoarse, dirtyFine: Number.POSITIVE_INFINITY },
  };
}
