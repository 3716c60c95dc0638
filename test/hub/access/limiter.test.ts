// FailureLimiter on an injected clock (a burst of 5, then 1 a second, the least recently failed address forgotten
// first), and measured on a real hub: wrong sign-ins hammered from one address for ~6 s are evaluated at the burst
// plus the refill rate and refused (429, retry-after) otherwise, the right token too; another address is unaffected.
import t from 'tap';
import { Agent, request } from 'node:http';
import { FailureLimiter } from '../../../hub/access/limiter.js';
import { newSecret } from '../../../hub/access/secrets.js';
import type { Hub } from '../../../hub/server.js';
import { apiToken } from '../../helpers/hub-api.js';
import { startAccessHub } from '../../helpers/access-hub.js';

function clocked(options: { burst?: number; perSecond?: number; maxAddresses?: number } = {}) {
  let now = 1_000_000;
  const limiter = new FailureLimiter({ ...options, now: () => now });
  return { limiter, advance: (ms: number) => (now += ms) };
}

/** Fails `n` times from `address`. */
const fail = (limiter: FailureLimiter, address: string, n: number) => {
  for (let i = 0; i < n; i++) limiter.failed(address);
};

t.test('defaults: 5 failures at once, then one a second; waitFor says how long', async (t) => {
  const { limiter, advance } = clocked();
  t.same([limiter.burst, limiter.perSecond], [5, 1]);
  fail(limiter, 'a', 4);
  t.equal(limiter.waitFor('a'), 0, 'after 4 failures one more may try');
  fail(limiter, 'a', 1);
  t.equal(limiter.waitFor('a'), 1, 'after the burst of 5: wait a second');
  advance(500);
  t.equal(limiter.waitFor('a'), 1, 'half refilled: still (rounded up) a second');
  advance(500);
  t.equal(limiter.waitFor('a'), 0, 'a second later: one try');
  fail(limiter, 'a', 1);
  t.equal(limiter.waitFor('a'), 1, 'and spent again');
  t.equal(limiter.waitFor('b'), 0, 'another address has its own bucket');
});

t.test('the bucket refills to the burst and no further; more failures while empty do not dig it deeper', async (t) => {
  const { limiter, advance } = clocked();
  fail(limiter, 'a', 20);
  advance(1000);
  t.equal(limiter.waitFor('a'), 0, 'failures past empty are not owed: a second refills one try');
  advance(3_600_000);
  fail(limiter, 'a', 5);
  t.equal(limiter.waitFor('a'), 1, 'an hour later: the burst of 5 again, not 3600');
});

t.test('burst and rate are options; retry-after is the time to one whole try', async (t) => {
  const { limiter, advance } = clocked({ burst: 2, perSecond: 0.2 });
  fail(limiter, 'a', 2);
  t.equal(limiter.waitFor('a'), 5, 'one try per 5 s');
  advance(4_000);
  t.equal(limiter.waitFor('a'), 1);
  advance(1_000);
  t.equal(limiter.waitFor('a'), 0);
  const fast = clocked({ burst: 1, perSecond: 4 });
  fail(fast.limiter, 'a', 1);
  t.equal(fast.limiter.waitFor('a'), 1, 'under a second is rounded up to 1 s');
  fast.advance(250);
  t.equal(fast.limiter.waitFor('a'), 0, '4 a second: a try every 250 ms');
});

t.test('past maxAddresses the least recently failed address is forgotten (and may try again)', async (t) => {
  const { limiter } = clocked({ burst: 1, maxAddresses: 2 });
  fail(limiter, 'a', 1);
  fail(limiter, 'b', 1);
  fail(limiter, 'a', 1); // a failed again: b is now the least recent
  fail(limiter, 'c', 1);
  t.same(['a', 'b', 'c'].map((x) => limiter.waitFor(x)), [1, 0, 1], 'b forgotten; a and c still held back');
  fail(limiter, 'd', 1);
  t.same(['a', 'c', 'd'].map((x) => limiter.waitFor(x)), [0, 1, 1], 'then a');
});

interface Attempt {
  status: number;
  retryAfter: string | undefined;
  body: string;
}

/** POST /api/v1/session {token} over a kept-alive connection from `localAddress`. */
function signInFrom(hub: Hub, agent: Agent, localAddress: string, token: string): Promise<Attempt> {
  return new Promise((resolve, reject) => {
    const req = request(`${hub.url}/api/v1/session`, { method: 'POST', agent, localAddress, headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'], body }));
    });
    req.on('error', reject);
    req.end(JSON.stringify({ token }));
  });
}

t.test('a real hub: wrong sign-ins from one address are evaluated at burst + rate × seconds, the rest refused', { timeout: 60_000 }, async (t) => {
  const { hub } = await startAccessHub(t);
  const agent = new Agent({ keepAlive: true });
  t.teardown(() => agent.destroy());
  const right = await apiToken(hub, 'viewer');
  const from = (address: string, token: string) => signInFrom(hub, agent, address, token);

  const seconds = 6;
  /** When each evaluated attempt was made (ms from the start). */
  const evaluatedAt: number[] = [];
  let refused = 0;
  const started = Date.now();
  while (Date.now() - started < seconds * 1000) {
    const at = Date.now() - started;
    const attempt = await from('127.0.0.1', newSecret('t'));
    if (attempt.status === 429) {
      refused += 1;
      if (refused === 1) {
        t.match(attempt.retryAfter, /^[1-9]\d*$/, 'a refusal says when to try again');
        t.match(JSON.parse(attempt.body), { error: 'too_many_requests', message: /too many failed sign-ins from 127\.0\.0\.1/ });
      }
    } else {
      t.equal(attempt.status, 401, 'an evaluated wrong token is a 401');
      evaluatedAt.push(at);
    }
  }
  const elapsedS = (Date.now() - started) / 1000;
  const evaluated = evaluatedAt.length;
  const { burst, perSecond } = hub.access.limiter;
  const expected = burst + elapsedS * perSecond;
  // After the burst, the rate is what the gaps between evaluated attempts say.
  const afterBurst = evaluatedAt.slice(burst - 1);
  const rate = (afterBurst.length - 1) / ((afterBurst.at(-1)! - afterBurst[0]!) / 1000);
  t.comment(
    `limiter measured: ${evaluated + refused} wrong sign-ins from one address in ${elapsedS.toFixed(2)} s; ${evaluated} evaluated ` +
      `(a burst of ${burst}, then ${rate.toFixed(2)}/s), ${refused} refused with 429`,
  );
  t.ok(Math.abs(rate - perSecond) < 0.1, `after the burst, ${rate.toFixed(3)} evaluated a second`);
  t.ok(Math.abs(evaluated - expected) <= 1.5, `evaluated ${evaluated} ≈ ${burst} + ${elapsedS.toFixed(2)} s × ${perSecond}/s = ${expected.toFixed(1)}`);
  t.ok(refused > 10 * evaluated, `the hammering was refused (${refused}), not slowed by the client`);

  // Right after an evaluated failure the bucket is empty: the right token is refused as well, and so is a bearer read.
  let last: Attempt;
  do last = await from('127.0.0.1', newSecret('t'));
  while (last.status === 429);
  const limited = await from('127.0.0.1', right);
  t.equal(limited.status, 429, 'the right token is refused while the address is limited');
  t.ok(limited.retryAfter, 'with retry-after');
  const read = await fetch(`${hub.url}/api/v1/fleet`, { headers: { authorization: `Bearer ${right}` } });
  t.equal(read.status, 429, 'and so is any credential from the address');

  // Another loopback address has its own bucket (the hub listens on 127.0.0.1; Linux routes all of 127/8 there).
  t.equal((await from('127.0.0.2', newSecret('t'))).status, 401, 'a wrong token from 127.0.0.2 is evaluated');
  t.equal((await from('127.0.0.2', right)).status, 200, 'the right one from 127.0.0.2 signs in');
  const failedFrom = (await hub.access.auditLog({ limit: 1000, action: 'session.sign-in-failed' })).map((e) => e.remote);
  t.same([...new Set(failedFrom)].sort(), ['127.0.0.1', '127.0.0.2'], 'the hub saw the two addresses apart');
  t.equal(failedFrom.filter((r) => r === '127.0.0.1').length, evaluated + 1, 'only evaluated attempts are audited as failed sign-ins');
});
