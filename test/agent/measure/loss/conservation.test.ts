import t from 'tap';
import { CpuRate, rssTotal, wantsLossValue } from '../../../../agent/measure/loss/conservation.js';
import type { SeriesValue } from '../../../../agent/measure/exposition.js';

const CPU = 'process_cpu_time_seconds_total';
const RSS = 'process_memory_usage_bytes';
const values = (metric: string, entries: [number, number, number | null][]): Record<string, Map<number, SeriesValue>> => ({
  [metric]: new Map(entries.map(([key, value, timestampMs]) => [key, { value, timestampMs }])),
});

const timing = { staleAfterMs: 25_000, collectionIntervalMs: 10_000 };

t.test('CPU rate: per series over its own timestamps, summed over the newest collection', async (t) => {
  const rate = new CpuRate(timing);
  t.same(rate.update(values(CPU, [[1, 100, 1000], [2, 50, 1000]]), 2000), { cores: null, resets: 0, moves: 0 }, 'no rate from one scrape');
  // Series 1 used 20 s of CPU in 20 s of its own samples (1 core), series 2 5 s (0.25); the scrapes were 15 s apart.
  t.same(rate.update(values(CPU, [[1, 120, 21_000], [2, 55, 21_000], [3, 0.5, 21_000]]), 17_000), { cores: 1.25, resets: 0, moves: 0 }, 'a new series adds nothing yet');
  // The agent read before the collector's next collection: no series advanced, each keeps its last rate.
  t.same(rate.update(values(CPU, [[1, 120, 21_000], [2, 55, 21_000], [3, 0.5, 21_000]]), 24_000), { cores: 1.25, resets: 0, moves: 0 }, 'nothing new: the last rates stand');
  // Series 1 did not advance while the others did: its process exited (metric_expiration keeps it), it adds nothing,
  // and its 120 s are more than any series gained: no move.
  t.same(rate.update(values(CPU, [[1, 120, 21_000], [2, 60, 31_000], [3, 5.5, 31_000]]), 32_000), { cores: 0.5 + 0.5, resets: 0, moves: 0 }, 'a departed series adds nothing');
  t.same(rate.update(values(CPU, [[2, 65, 41_000], [3, 10.5, 41_000]]), 42_000), { cores: 0.5 + 0.5, resets: 0, moves: 0 }, 'nor when it leaves the endpoint');
  // All alone at the end, timestamps older than 25 s add nothing.
  t.same(rate.update(values(CPU, [[2, 65, 41_000], [3, 10.5, 41_000]]), 70_000), { cores: 0, resets: 0, moves: 0 }, 'stale: nothing');
});

t.test('CPU rate: a process moving between its own series and a roll-up is followed, not read as a spike', async (t) => {
  const rate = new CpuRate(timing);
  // _other (key 9) sums two idle processes; "burner" (key 1) has its own series and has used 300 s in its life.
  rate.update(values(CPU, [[9, 40, 0], [1, 300, 0]]), 500);
  t.same(rate.update(values(CPU, [[9, 41, 10_000], [1, 310, 10_000]]), 10_500), { cores: 0.1 + 1, resets: 0, moves: 0 });
  // The burner cools and joins _other: its own series stops advancing, _other jumps by its 300-odd seconds. Read as
  // rate() would, _other used 31.2 cores; followed, it used what its members did: 1 s of the others, 1 s of the burner.
  t.same(rate.update(values(CPU, [[9, 41 + 1 + 311, 20_000], [1, 310, 10_000]]), 20_500), { cores: (353 - 41 - 310) / 10, resets: 0, moves: 1 }, 'the jump explained by the departed mass');
  t.same(rate.update(values(CPU, [[9, 353 + 2, 30_000]]), 30_500), { cores: 0.2, resets: 0, moves: 0 }, 'its own series gone from the endpoint: no second move');
  // It heats up again and leaves: a new series with its 312 s, _other falls by them and gains the others' 0.5 s.
  t.same(rate.update(values(CPU, [[9, 355 - 312 + 0.5, 40_000], [5, 312, 40_000]]), 40_500), { cores: 0.05, resets: 0, moves: 1 }, 'the fall explained by the appeared mass: _other keeps counting its members');
  t.same(rate.update(values(CPU, [[9, 44, 50_000], [5, 322, 50_000]]), 50_500), { cores: 0.05 + 1, resets: 0, moves: 0 });
  // A member of _other exits (a fall nothing explains): a reset, the last rate stands.
  t.same(rate.update(values(CPU, [[9, 4, 60_000], [5, 332, 60_000]]), 60_500), { cores: 0.05 + 1, resets: 1, moves: 0 }, 'an exit from the roll-up');
});

t.test('CPU rate: without timestamps the scrapes are the clock, and a fall keeps the last rate', async (t) => {
  const rate = new CpuRate(timing);
  rate.update(values(CPU, [[1, 500, null]]), 0);
  t.same(rate.update(values(CPU, [[1, 520, null]]), 10_000), { cores: 2, resets: 0, moves: 0 }, '20 s of CPU in 10 s between the scrapes');
  t.same(rate.update(values(CPU, [[1, 30, null]]), 20_000), { cores: 2, resets: 1, moves: 0 }, 'a roll-up that lost a member: a reset, and its last rate stands (rate() would read all 30 s as new)');
  t.same(rate.update(values(CPU, [[1, 45, null]]), 30_000), { cores: 1.5, resets: 0, moves: 0 }, 'after the reset, the rate runs from the new value');
  t.equal(rate.update({}, 40_000).cores, 0, 'no series: 0 cores, not unknown');
  t.equal(rate.update(values(RSS, [[1, 5, null]]), 50_000).cores, 0, 'only CPU-time series count');
});

t.test('RSS total: the memory series of the newest collection, the stale ones left out', async (t) => {
  t.equal(rssTotal(values(RSS, [[1, 100, 1000], [2, 50, 30_000], [3, 7, null]]), 31_000, timing), 57, 'series 1 is behind the newest collection');
  t.equal(rssTotal(values(RSS, [[1, 100, 26_000], [2, 50, 30_000]]), 31_000, timing), 150, 'within half a collection interval of it: the same collection');
  t.equal(rssTotal(values(RSS, [[1, 100, 1000]]), 31_000, timing), 0, 'the newest collection itself stale: nothing');
  t.equal(rssTotal(values(CPU, [[1, 100, 1000]]), 31_000, timing), null, 'no memory series: unknown');
  t.ok(wantsLossValue(CPU) && wantsLossValue(RSS) && wantsLossValue('process_memory_usage'));
  t.notOk(wantsLossValue('process_memory_virtual_bytes'));
});
