// A window's start kept between reads (hub/store/carried-edges.ts): which kept edge a read may carry forward, and
// what makes one untrue — a row written before it, the tiers moving, a commit while it was read.
import t from 'tap';
import { CARRY_LIMIT_MS, CarriedEdges, LowestWritten } from '../../../hub/store/carried-edges.js';
import { keyOf, LivePositions, type Position } from '../../../hub/store/positions.js';
import type { Marks } from '../../../hub/store/tiers.js';
import { ZERO_TOTALS } from '../../../hub/store/totals.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const marks: Marks = { rawFloor: 10 * HOUR, fineFloor: 5 * HOUR, rolledFine: 11 * HOUR, rolledCoarse: 10 * HOUR, dirtyFine: Number.POSITIVE_INFINITY };
const at = (agentId: string, ts: number): Position => ({ agentId, side: 0, ts, variant: 'v', pairedWith: 'v', totals: ZERO_TOTALS });
const edgeAt = (x: number) => new Map([[keyOf('a', 0), at('a', x - 1000)]]);

function kept(x: number) {
  const live = new LivePositions();
  const edges = new CarriedEdges(live, MIN);
  const reading = edges.begin(x, marks);
  edges.keep(x, marks, edgeAt(x), reading);
  edges.end(reading);
  return { live, edges };
}

t.test('a kept edge is carried to a later start by the rows between, never to an earlier one or one too far', async (t) => {
  const x = 12 * HOUR;
  const { edges } = kept(x);
  t.equal(edges.begin(x - 1, marks).from, undefined, 'an earlier start is read afresh');
  t.equal(edges.begin(x + CARRY_LIMIT_MS + 1, marks).from, undefined, 'a start too far ahead is read afresh');
  const from = edges.begin(x + 15_000, marks).from!;
  t.equal(from.x, x);
  const carried = edges.carry(from, [at('a', x + 2000), at('b', x + 3000), at('a', x + 4000)]);
  t.same([...carried.values()].map((p) => [p.agentId, p.ts]), [['a', x + 4000], ['b', x + 3000]], 'the newest row of each agent-side wins; new ones join');
  t.same([...from.positions.values()].map((p) => p.ts), [x - 1000], 'the kept edge itself is not changed');
});

t.test('a start within a fine bucket of the raw floor is not carried (rollups may answer the hosts that sent nothing)', async (t) => {
  const { edges } = kept(marks.rawFloor + MIN / 2);
  t.equal(edges.begin(marks.rawFloor + MIN, marks).from, undefined);
});

t.test('a row written before a kept edge, or the tiers moving, forgets it', async (t) => {
  const x = 12 * HOUR;
  const late = kept(x);
  late.live.wrote(x + 5000);
  t.ok(late.edges.begin(x + 10_000, marks).from, 'a row after the edge leaves it true');
  late.live.wrote(x - 5000);
  t.equal(late.edges.begin(x + 10_000, marks).from, undefined, 'a late row before it: forgotten');
  const moved = kept(x);
  t.equal(moved.edges.begin(x + 10_000, { ...marks, rolledFine: marks.rolledFine + MIN }).from, undefined, 'maintenance moved the tiers: forgotten');
});

t.test('an edge read while a row before it was written is not kept (one after it does not matter); at most four are', async (t) => {
  const live = new LivePositions();
  const edges = new CarriedEdges(live, MIN);
  const x = 12 * HOUR;
  const after = edges.begin(x, marks);
  live.wrote(x + 1);
  edges.keep(x, marks, edgeAt(x), after);
  edges.end(after);
  t.ok(edges.begin(x + 1000, marks).from, 'a row after the edge, written during its read: kept');
  const other = new CarriedEdges(live, MIN);
  const before = other.begin(x, marks);
  live.wrote(x - 1);
  other.keep(x, marks, edgeAt(x), before);
  other.end(before);
  t.equal(other.begin(x + 1000, marks).from, undefined, 'a row before it, written during its read: not kept');
  const many = new CarriedEdges(new LowestWritten(), MIN);
  for (let i = 0; i < 5; i++) many.keep(x + i * MIN, marks, edgeAt(x + i * MIN), many.begin(x + i * MIN, marks));
  t.equal(many.begin(x + 30_000, marks).from, undefined, 'the oldest of five was let go');
  t.equal(many.begin(x + MIN + 30_000, marks).from?.x, x + MIN, 'the nearest below is carried');
});

t.test('LowestWritten: the earliest time told since it was last asked', async (t) => {
  const w = new LowestWritten();
  t.equal(w.takeLowestWritten(), Infinity);
  w.wrote(50);
  w.wrote(20);
  w.wrote(70);
  t.equal(w.takeLowestWritten(), 20);
  t.equal(w.takeLowestWritten(), Infinity, 'asked again: nothing since');
});
