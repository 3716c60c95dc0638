// IngestBatch: where a report is placed in time, the running totals and critical changes it adds, and that nothing
// moves until commit().
import t from 'tap';
import { IngestBatch } from '../../../hub/store/ingest-batch.js';
import { keyOf, LivePositions } from '../../../hub/store/positions.js';
import type { Marks } from '../../../hub/store/tiers.js';
import { reportFor } from '../../helpers/ws-client.js';

const MIN = 60_000;
const FINE = 5 * MIN;
const T0 = 1_000 * 60 * MIN;
const marksAt = (over: Partial<Marks> = {}): Marks => ({ rawFloor: 0, fineFloor: 0, rolledFine: 0, rolledCoarse: 0, dirtyFine: Number.POSITIVE_INFINITY, ...over });

t.test("a report is placed at the agent's time, clamped to its arrival, after its previous report and the raw floor", async (t) => {
  const live = new LivePositions();
  const batch = new IngestBatch(live, marksAt({ rawFloor: T0 - 10 * MIN }), FINE);
  t.equal(batch.place('a', reportFor('h', 1, T0), T0 + 5000).ts, T0, 'the agent clock, when before arrival');
  t.equal(batch.place('a', reportFor('h', 2, T0 + MIN), T0 + 30_000).ts, T0 + 30_000, 'never after arrival');
  t.equal(batch.place('a', reportFor('h', 3, T0 - MIN), T0 + 40_000).ts, T0 + 30_001, 'never at or before its previous report');
  t.equal(batch.place('b', reportFor('h', 1, T0 - 60 * MIN), T0).ts, T0 - 10 * MIN, 'never before the raw rows still kept');
  const garbled = reportFor('h', 1, T0);
  garbled.window.to = 'not a time';
  t.equal(batch.place('c', garbled, T0 + 7).ts, T0 + 7, 'an unreadable time: its arrival');
});
t.test('running totals and critical changes build across a batch and its commit', async (t) => {
  const live = new LivePositions();
  const marks = marksAt();
  const batch = new IngestBatch(live, marks, FINE);
  const first = batch.place('a', reportFor('h', 1, T0), T0);
  t.equal(first.sides.length, 2, 'one row per side');
  const [a, b] = first.sides;
  t.match(a, { position: { agentId: 'a', side: 0, ts: T0, variant: 'baseline', pairedWith: 'baseline', totals: { n: 1 } } });
  t.match(b, { position: { side: 1, variant: 'optimized-a', totals: { n: 1, lossy: 1 } }, changed: { retention: 0.5, missing: '["postgres"]' } });
  t.not(a!.changed, null, "a side's first state is a change");
  const second = batch.place('a', reportFor('h', 2, T0 + MIN), T0 + MIN);
  t.equal(second.sides[1]!.position.totals.n, 2, 'the second report adds to the first before any commit');
  t.equal(second.sides[1]!.position.totals.series, 2 * b!.values.series!);
  t.equal(second.sides[1]!.changed, null, 'the same critical state again is no change');

  t.equal(live.position(keyOf('a', 1)), undefined, 'nothing is live before commit');
  batch.commit();
  t.equal(live.position(keyOf('a', 1))!.totals.n, 2);
  t.equal(live.newestTs, T0 + MIN);
  t.same(live.critical(keyOf('a', 1)), { retention: 0.5, missing: '["postgres"]' });

  const next = new IngestBatch(live, marks, FINE);
  const report = reportFor('h', 3, T0 + 2 * MIN);
  report.report.variants[1]!.criticalRetention = 1;
  report.report.variants[1]!.criticalMissing = [];
  const third = next.place('a', report, T0 + 2 * MIN);
  t.equal(third.sides[1]!.position.totals.n, 3, 'a later batch adds to the committed totals');
  t.same(third.sides[1]!.changed, { retention: 1, missing: '[]' }, 'full retention again is a change');
});

t.test('a report in a bucket already rolled up marks it for re-rollup, at commit', async (t) => {
  const live = new LivePositions();
  const marks = marksAt({ rolledFine: T0 });
  const batch = new IngestBatch(live, marks, FINE);
  batch.place('a', reportFor('h', 1, T0 + MIN), T0 + MIN);
  t.notOk(batch.dirtyChanged, 'after the fine mark: nothing to re-roll');
  batch.place('late', reportFor('h', 1, T0 - 12 * MIN), T0 + MIN);
  batch.place('late2', reportFor('h', 1, T0 - 3 * MIN), T0 + MIN);
  t.ok(batch.dirtyChanged);
  t.equal(batch.dirtyFine, T0 - 15 * MIN, "the earliest touched bucket's start");
  t.equal(marks.dirtyFine, Number.POSITIVE_INFINITY, 'the marks move only at commit');
  batch.commit();
  t.equal(marks.dirtyFine, T0 - 15 * MIN);
});

t.test('a batch never committed changes nothing', async (t) => {
  const live = new LivePositions();
  const marks = marksAt({ rolledFine: T0 });
  const batch = new IngestBatch(live, marks, FINE);
  batch.place('a', reportFor('h', 1, T0 - MIN), T0);
  t.equal(live.all.size, 0);
  t.equal(live.critical(keyOf('a', 0)), undefined);
  t.equal(marks.dirtyFine, Number.POSITIVE_INFINITY);
});

t.test('recheck: marks read again later refuse a batch the raw floor passed, and make a bucket the fine mark passed stale', async (t) => {
  const batch = new IngestBatch(new LivePositions(), marksAt(), FINE);
  batch.place('a', reportFor('h', 1, T0 + 7 * MIN), T0 + 7 * MIN);
  batch.place('b', reportFor('h', 1, T0 + 9 * MIN), T0 + 9 * MIN);
  t.equal(batch.recheck(marksAt({ rolledFine: T0 + 5 * MIN, rawFloor: T0 })), true, 'marks below the rows: stored as placed');
  t.equal(batch.dirtyChanged, false, 'no bucket stale');
  t.equal(batch.recheck(marksAt({ rolledFine: T0 + 10 * MIN, rawFloor: T0 })), true, 'a pass rolled past them meanwhile: still stored');
  t.equal(batch.dirtyFine, T0 + 5 * MIN, 'from the earliest row’s fine bucket, rolled again');
  t.equal(batch.recheck(marksAt({ rolledFine: T0 + 10 * MIN, rawFloor: T0 + 8 * MIN })), false, 'the raw floor passed its earliest row: refused');
});
