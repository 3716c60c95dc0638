// The ceiling bench's steps (bench/hub-ceiling.ts): the fleet sizes asked for, up to what the open-file limit leaves a
// hub room for, and that room itself as the last step.
import t from 'tap';
import { ceilingSizes } from '../../bench/hub-ceiling.js';
import { openFileLimits, parseOpenFileLimits } from '../../common/open-files.js';

const SIZES = [5000, 10_000, 15_000, 20_000, 25_000, 30_000];

t.test('steps stop where the open-file limit leaves no room, and try that room', async (t) => {
  t.same(ceilingSizes(SIZES, 20_000), [5000, 10_000, 15_000, 19_500], 'a 20,000 limit: 19,500 connections at most');
  t.same(ceilingSizes(SIZES, 1_048_576), SIZES, 'a limit above every size: every size');
  t.same(ceilingSizes(SIZES, null), SIZES, 'no limit known: every size');
  t.same(ceilingSizes(SIZES, 30_500), SIZES, 'room for the largest exactly');
  t.same(ceilingSizes(SIZES, 4000), [3500], 'below the smallest: only what fits');
});

t.test("open-file limits are read from /proc's limits", async (t) => {
  const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax processes             unlimited            unlimited            processes\nMax open files            1024                 524288               files\n';
  t.same(parseOpenFileLimits(text), { soft: 1024, hard: 524288 });
  t.same(parseOpenFileLimits(text.replace('1024                 524288', 'unlimited            unlimited')), { soft: Infinity, hard: Infinity });
  t.equal(parseOpenFileLimits('Max processes 10 10 processes\n'), null, 'no such line: null');
  const limits = openFileLimits();
  t.ok(limits, '/proc/self/limits names them');
  t.ok(limits!.soft > 0 && limits!.soft <= limits!.hard, `soft ${limits!.soft} <= hard ${limits!.hard}`);
});
