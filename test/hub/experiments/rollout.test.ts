// An experiment's rollout: shares of the target, the size of each wave (the canary first, always summing to the
// target) and the stable order of its hosts drawn from the experiment's id.
import t from 'tap';
import { orderHosts, shareOf, waveSizes } from '../../../hub/experiments/rollout.js';
import type { HostShare } from '../../../hub/experiments/spec.js';

const hosts = (n: number) => ({ hosts: n });
const percent = (n: number) => ({ percent: n });
const sum = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0);

t.test('shareOf: a number of hosts or a percentage rounded up, at least one, at most all', async (t) => {
  const cases: [share: HostShare, total: number, expected: number][] = [
    [hosts(3), 10, 3],
    [hosts(20), 10, 10],
    [hosts(1), 1, 1],
    [percent(10), 10, 1],
    [percent(10), 11, 2],
    [percent(25), 10, 3],
    [percent(50), 10, 5],
    [percent(100), 10, 10],
    [percent(33), 3, 1],
    [percent(34), 3, 2],
    [percent(0.5), 10, 1],
    [percent(12.5), 8, 1],
    [percent(7), 100, 7],
    [percent(7), 1_000_000, 70_000],
    [percent(1), 199, 2],
  ];
  for (const [share, total, expected] of cases) t.equal(shareOf(share, total), expected, `${JSON.stringify(share)} of ${total}`);
});

t.test('waveSizes: the canary, then waves of a size, the last one what is left', async (t) => {
  const cases: [total: number, canary: HostShare, waves: HostShare, expected: number[]][] = [
    [10, hosts(1), hosts(3), [1, 3, 3, 3]],
    [10, hosts(1), hosts(4), [1, 4, 4, 1]],
    [10, hosts(1), percent(100), [1, 9]],
    [10, hosts(2), percent(25), [2, 3, 3, 2]],
    [10, percent(10), percent(30), [1, 3, 3, 3]],
    [11, percent(10), percent(50), [2, 6, 3]],
    [1, hosts(1), percent(100), [1]],
    [5, hosts(20), hosts(2), [5]],
    [5, percent(100), hosts(1), [5]],
    [3, hosts(1), hosts(1), [1, 1, 1]],
    [7, hosts(3), hosts(5), [3, 4]],
    [0, hosts(1), percent(100), []],
    [-1, hosts(1), percent(100), []],
  ];
  for (const [total, canary, waves, expected] of cases) t.strictSame(waveSizes(total, { canary, waves }), expected, `${total} hosts, canary ${JSON.stringify(canary)}, waves ${JSON.stringify(waves)}`);
});

t.test('waveSizes always sum to the target, each wave at least one host, none bigger than a wave', async (t) => {
  const shares: HostShare[] = [hosts(1), hosts(2), hosts(7), hosts(1000), percent(0.5), percent(1), percent(10), percent(33.3), percent(50), percent(99), percent(100)];
  let checked = 0;
  for (let total = 1; total <= 120; total++) {
    for (const canary of shares) {
      for (const waves of shares) {
        const sizes = waveSizes(total, { canary, waves });
        const wave = shareOf(waves, total);
        const ok = sum(sizes) === total && sizes[0] === shareOf(canary, total) && sizes.every((s) => s >= 1) && sizes.slice(1).every((s) => s <= wave) && sizes.slice(1, -1).every((s) => s === wave);
        if (!ok) t.fail(`${total} hosts, canary ${JSON.stringify(canary)}, waves ${JSON.stringify(waves)}: ${JSON.stringify(sizes)}`);
        checked++;
      }
    }
  }
  t.equal(checked, 120 * shares.length * shares.length);
  t.equal(sum(waveSizes(100_000, { canary: hosts(1), waves: percent(3) })), 100_000);
});

t.test('orderHosts: the same input gives the same order, a permutation of the input', async (t) => {
  const agents = Array.from({ length: 50 }, (_, i) => `agent-${i}`);
  const order = orderHosts(agents, 'exp-1');
  t.strictSame(orderHosts(agents, 'exp-1'), order, 'deterministic');
  t.strictSame(orderHosts([...agents].reverse(), 'exp-1'), order, 'whatever order the agents come in');
  t.strictSame([...order].sort(), [...agents].sort(), 'a permutation');
  t.notSame(order, agents, 'not simply the input order');
  t.strictSame(agents[0], 'agent-0', 'the input is not changed');
});

t.test('orderHosts: two experiments spread the same hosts differently', async (t) => {
  const agents = Array.from({ length: 50 }, (_, i) => `agent-${i}`);
  const a = orderHosts(agents, 'exp-1');
  const b = orderHosts(agents, 'exp-2');
  t.notSame(a, b);
  t.not(a.slice(0, 5).join(), b.slice(0, 5).join(), 'different first wave');
  // Adding a host keeps the others in their relative order: a hub restart with one more host does not reshuffle.
  const more = orderHosts([...agents, 'agent-new'], 'exp-1');
  t.strictSame(more.filter((id) => id !== 'agent-new'), a);
});

t.test('orderHosts: edge cases', async (t) => {
  t.strictSame(orderHosts([], 'exp-1'), []);
  t.strictSame(orderHosts(['only'], 'exp-1'), ['only']);
  t.strictSame(orderHosts(['a', 'a', 'b'], 'exp-1').sort(), ['a', 'a', 'b'], 'duplicates are kept');
});
