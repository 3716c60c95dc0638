// The retention tiers: defaults, refused configurations, and the plan of a maintenance pass (what rolls, where floors move).
import t from 'tap';
import { CallingRuleError } from '../../../common/errors.js';
import { planMaintenance, resolveTiers, type Marks } from '../../../hub/store/tiers.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const tiers = resolveTiers({ bucketMs: 5 * MIN, coarseBucketMs: HOUR, rawRetentionMs: 6 * HOUR, rollupRetentionMs: 2 * 24 * HOUR, coarseRetentionMs: 10 * 24 * HOUR });
const NEW: Marks = { rawFloor: 0, fineFloor: 0, rolledFine: 0, rolledCoarse: 0, dirtyFine: Number.POSITIVE_INFINITY };

t.test('defaults: 5 min and 1 h buckets kept 6 h, 8 days and 35 days, rolled 1 min after a bucket ends', async (t) => {
  t.same(resolveTiers({}), { rawRetentionMs: 6 * HOUR, fineRetentionMs: 8 * 24 * HOUR, coarseRetentionMs: 35 * 24 * HOUR, fine: 5 * MIN, coarse: HOUR, rollupDelayMs: MIN });
});

t.test('a tier configuration that cannot work is a PHX_STORE_TIERS calling-rule error naming the values', async (t) => {
  const refused = (options: Parameters<typeof resolveTiers>[0], message: RegExp) =>
    t.throws(() => resolveTiers(options), { name: 'CallingRuleError', code: 'PHX_STORE_TIERS', message }, JSON.stringify(options));
  refused({ bucketMs: 7 * MIN }, /coarseBucketMs 3600000\) must be a multiple of the fine bucket \(bucketMs 420000\)/);
  refused({ bucketMs: 0 }, /bucketMs 0/);
  refused({ bucketMs: HOUR, coarseBucketMs: 5 * MIN }, /must be a multiple/);
  refused({ rawRetentionMs: 9 * 24 * HOUR }, /retention must not shrink from tier to tier, got rawRetentionMs 777600000, rollupRetentionMs 691200000/);
  refused({ coarseRetentionMs: HOUR }, /coarseRetentionMs 3600000/);
  t.type(t.throws(() => resolveTiers({ bucketMs: -1 })), CallingRuleError);
});

t.test('a pass rolls the whole fine buckets that ended a delay ago, and the whole coarse ones they complete', async (t) => {
  const start = 100 * HOUR;
  const plan = planMaintenance({ ...NEW, rolledFine: start, rolledCoarse: start }, tiers, start + HOUR + 5 * MIN + 30_000);
  t.same(plan.fine, { from: start, to: start + HOUR }, 'the bucket ending 30 s ago waits for the 1-minute delay');
  t.same(plan.coarse, { from: start, to: start + HOUR });
  t.match(plan.marks, { rolledFine: start + HOUR, rolledCoarse: start + HOUR, dirtyFine: Number.POSITIVE_INFINITY });

  const later = planMaintenance(plan.marks, tiers, start + HOUR + 6 * MIN + 1);
  t.same(later.fine, { from: start + HOUR, to: start + HOUR + 5 * MIN });
  t.equal(later.coarse, null, 'the next coarse bucket is not complete');
  t.equal(later.marks.rolledCoarse, start + HOUR);

  t.equal(planMaintenance(later.marks, tiers, start + HOUR + 6 * MIN + 2).fine, null, 'nothing new: nothing rolls');
});

t.test('a late report re-rolls its fine bucket and the coarse bucket holding it', async (t) => {
  const start = 100 * HOUR;
  const marks: Marks = { ...NEW, rolledFine: start + 3 * HOUR, rolledCoarse: start + 3 * HOUR, dirtyFine: start + HOUR + 10 * MIN };
  const plan = planMaintenance(marks, tiers, start + 3 * HOUR + 2 * MIN);
  t.same(plan.fine, { from: start + HOUR + 10 * MIN, to: start + 3 * HOUR });
  t.same(plan.coarse, { from: start + HOUR, to: start + 3 * HOUR }, 'from the start of the coarse bucket the late report fell in');
  t.equal(plan.marks.dirtyFine, Number.POSITIVE_INFINITY, 'the dirty mark is spent');
});

t.test('floors: a tier goes only once the next holds it, aligned to buckets, never moving back', async (t) => {
  const now = 1000 * HOUR + 17 * MIN;
  const rolled = planMaintenance({ ...NEW, rolledFine: now - 10 * MIN, rolledCoarse: now - 10 * MIN }, tiers, now);
  t.equal(rolled.rawFloor, 1000 * HOUR + 15 * MIN - 6 * HOUR, 'raw kept 6 h, floored to a fine bucket');
  t.equal(rolled.fineFloor, 1000 * HOUR - 2 * 24 * HOUR, 'fine kept 2 days, floored to a coarse bucket');
  t.equal(rolled.coarseFloor, 1000 * HOUR - 10 * 24 * HOUR);
  // Rows the next tier does not hold yet stay whatever their age (here nothing is due to roll for 2000 h).
  const behind = planMaintenance({ ...NEW, rolledFine: 500 * HOUR, rolledCoarse: 500 * HOUR }, resolveTiers({ rollupDelayMs: 2000 * HOUR }), now);
  t.equal(behind.rawFloor, 500 * HOUR);
  t.equal(behind.fineFloor, 500 * HOUR);
  const back = planMaintenance({ ...rolled.marks }, tiers, now - 24 * HOUR);
  t.equal(back.rawFloor, rolled.rawFloor, 'a clock set back does not move a floor back');
  t.equal(back.fineFloor, rolled.fineFloor);
});
