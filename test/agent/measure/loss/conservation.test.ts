import t from 'tap';
import { CpuRate, rssTotal, wantsLossValue } from '../../../../agent/measure/loss/conservation.js';
import type { SeriesValue } from '../../../../agent/measure/exposition.js';

const CPU = 'process_cpu_time_seconds_total';
const RSS = 'process_memory_usage_bytes';
const values = (metric: string, entries: [number, number, number | null][]): Record<string, Map<number, SeriesValue>> => ({
  [metric]: new Map(entries.map(([key, value, timestampMs]) => [key, { value, timestampMs }])),
});

t.test('CPU rate: per series over its own timestamps, summed', async (t) => {
  const rate = new CpuRate(25_000);
  t.same(rate.update(values(CPU, [[1, 100, 1000], [2, 50, 1000]]), 2000), { cores: null, resets: 0 }, 'no rate from one scrape');
  // Series 1 used 10 s of CPU in 10 s of its own samples (1 core); series 2 used 5 s in 20 s (0.25): the scrapes were 15 s apart.
  t.same(rate.update(values(CPU, [[1, 110, 11_000], [2, 55, 21_000], [3, 999, 21_000]]), 17_000), { cores: 1.25, resets: 0 }, 'a new series adds nothing yet');
  // No newer sample for series 1 (the agent read faster than the collector): its last rate stands while fresh.
  t.same(rate.update(values(CPU, [[1, 110, 11_000], [2, 60, 31_000], [3, 1004, 31_000]]), 32_000), { cores: 1 + 0.5 + 0.5, resets: 0 });
  // Series 1 is now older than 25 s: an exited process kept on the endpoint, it adds nothing.
  t.same(rate.update(values(CPU, [[1, 110, 11_000], [2, 65, 41_000], [3, 1009, 41_000]]), 42_000), { cores: 0.5 + 0.5, resets: 0 });
});

t.test('CPU rate: a fall is counted as a reset and keeps the last rate; without timestamps the scrapes are the clock', async (t) => {
  const rate = new CpuRate(25_000);
  rate.update(values(CPU, [[1, 500, null]]), 0);
  t.same(rate.update(values(CPU, [[1, 520, null]]), 10_000), { cores: 2, resets: 0 }, '20 s of CPU in 10 s between the scrapes');
  t.same(rate.update(values(CPU, [[1, 30, null]]), 20_000), { cores: 2, resets: 1 }, 'a roll-up that lost a member: a reset, and its last rate stands (rate() would read all 30 s as new)');
  t.same(rate.update(values(CPU, [[1, 45, null]]), 30_000), { cores: 1.5, resets: 0 }, 'after the reset, the rate runs from the new value');
  t.equal(rate.update({}, 40_000).cores, 0, 'no series: 0 cores, not unknown');
  t.equal(rate.update(values(RSS, [[1, 5, null]]), 50_000).cores, 0, 'only CPU-time series count');
});

t.test('RSS total: every memory series, the stale ones left out where timestamps tell', async (t) => {
  t.equal(rssTotal(values(RSS, [[1, 100, 1000], [2, 50, 30_000], [3, 7, null]]), 31_000, 25_000), 57);
  t.equal(rssTotal(values(CPU, [[1, 100, 1000]]), 31_000, 25_000), null, 'no memory series: unknown');
  t.ok(wantsLossValue(CPU) && wantsLossValue(RSS) && wantsLossValue('process_memory_usage'));
  t.notOk(wantsLossValue('process_memory_virtual_bytes'));
});
