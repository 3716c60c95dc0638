import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as delay } from 'node:timers/promises';
import { Backoff } from '../../../agent/supervisor/backoff.js';
import { CollectorProcess, type CollectorExit } from '../../../agent/supervisor/collector-process.js';
import { createServer } from 'node:net';
import { assertPortsFree, autoPort, ephemeralRange, freePorts } from '../../../agent/supervisor/ports.js';
import { CollectorStartError, PortInUseError } from '../../../agent/errors.js';
import { silentLogger } from '../../../common/logger.js';
import { isAlive, waitFor } from '../../helpers/process.js';
import { captureLogs } from '../../helpers/logs.js';

const FAKE = fileURLToPath(new URL('../../fixtures/fake-collector.mjs', import.meta.url));

t.test('backoff: 1 s doubling to a 60 s cap, jittered, resettable', async (t) => {
  const exact = new Backoff({ jitter: 0 });
  t.same(Array.from({ length: 9 }, () => exact.next()), [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  exact.reset();
  t.equal(exact.next(), 1000, 'reset starts again at 1 s');
  const low = new Backoff({ random: () => 0 });
  const high = new Backoff({ random: () => 0.999999 });
  t.equal(low.next(), 800, 'jitter -20%');
  t.equal(high.next(), 1200, 'jitter +20%');
  for (let i = 0; i < 12; i++) high.next();
  t.equal(high.next(), 60000, 'jitter never exceeds the cap');
});

t.test('automatic ports come from below the kernel ephemeral range, distinct and free', async (t) => {
  const [low] = ephemeralRange();
  const sets = await Promise.all(Array.from({ length: 10 }, () => freePorts()));
  const all = sets.flatMap((p) => [p.exporter, p.telemetry, p.health]);
  t.equal(new Set(all).size, all.length, `${all.length} ports handed out, none twice`);
  t.ok(all.every((p) => p >= 10_000 && p < low), `all below the ephemeral range starting at ${low}`);
  for (const ports of sets) await assertPortsFree('v', ports);
  t.ok(await autoPort('127.0.0.1', [10_500, 60_999]) >= 1, 'a tiny non-ephemeral range falls back to the kernel');
  t.same(ephemeralRange('/nonexistent'), [49152, 65535], 'default range when /proc cannot tell');

  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(sets[0]!.health, '127.0.0.1', resolve));
  t.teardown(() => holder.close());
  const error = await assertPortsFree('optimized-a', sets[0]!).catch((e: unknown) => e);
  t.ok(error instanceof PortInUseError, 'a taken port is refused');
  t.match((error as Error).message, `variant 'optimized-a': health check port ${sets[0]!.health} is already in use`);
});

async function fakeCollector(t: Test, mode: string, extra: Partial<ConstructorParameters<typeof CollectorProcess>[0]> = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-sup-'));
  const ports = await freePorts();
  const configPath = path.join(dir, 'fake.yaml');
  await writeFile(
    configPath,
    `extensions:\n  health_check:\n    endpoint: 127.0.0.1:${ports.health}\nexporters:\n  prometheus:\n    endpoint: 127.0.0.1:${ports.exporter}\n`,
  );
  process.env.PHOENIX_FAKE_MODE = mode;
  const collector = new CollectorProcess({
    variant: `fake-${mode}`,
    binary: FAKE,
    args: ['--config', configPath],
    healthPort: ports.health,
    logger: silentLogger(),
    readyPollMs: 50,
    healthIntervalMs: 200,
    backoff: new Backoff({ initialMs: 100, maxMs: 400, jitter: 0 }),
    ...extra,
  });
  t.teardown(async () => {
    await collector.stop();
    await rm(dir, { recursive: true, force: true });
  });
  return collector;
}

t.test('starts, becomes ready through the health check, stops with the pid gone', async (t) => {
  const collector = await fakeCollector(t, 'normal');
  const states: string[] = [];
  collector.on('state', (s) => states.push(s.state));
  collector.start();
  t.throws(() => collector.start(), /only once/);
  await collector.waitReady(10_000);
  const pid = collector.pid!;
  t.ok(isAlive(pid), 'child runs');
  t.equal(collector.status().state, 'running');
  await collector.stop();
  t.notOk(isAlive(pid), 'child is gone once stop() resolves');
  t.same(states, ['starting', 'running', 'stopped']);
  t.equal(collector.status().lastExit?.reason, 'stopped');
  t.equal(collector.listenerCount('exit'), 0, 'no listeners left behind');
});

t.test('kill -9 of a running collector: restarted with backoff, restart count rises', async (t) => {
  const collector = await fakeCollector(t, 'normal');
  collector.start();
  await collector.waitReady(10_000);
  const first = collector.pid!;
  const exit = collector.next('exit');
  process.kill(first, 'SIGKILL');
  const [ended] = (await exit) as [CollectorExit];
  t.equal(ended.signal, 'SIGKILL');
  t.equal(ended.reason, 'exited');
  await waitFor('restart', () => collector.status().state === 'running' && collector.pid !== first);
  t.equal(collector.status().restarts, 1);
  t.notOk(isAlive(first), 'the killed pid is gone');
  t.ok(isAlive(collector.pid!), 'a new collector runs');
});

t.test('a collector that exits at once: waitReady rejects with its output, supervisor keeps backing off', async (t) => {
  const collector = await fakeCollector(t, 'exit-at-once');
  collector.start();
  const error = await collector.waitReady(10_000).catch((e: unknown) => e);
  t.type(error, CollectorStartError);
  t.match((error as Error).message, /fake-exit-at-once.*exited before it was ready \(exit code 3\).*invalid configuration/s);
  await waitFor('two restarts', () => collector.status().restarts >= 2, 10_000);
  t.ok(['backoff', 'starting'].includes(collector.status().state));
  t.equal(collector.status().lastExit?.code, 3);
});

t.test('a collector that ignores SIGTERM is SIGKILLed after the grace period', async (t) => {
  const collector = await fakeCollector(t, 'ignore-sigterm', { stopGraceMs: 300 });
  collector.start();
  await collector.waitReady(10_000);
  const pid = collector.pid!;
  const started = Date.now();
  await collector.stop();
  t.ok(Date.now() - started >= 290, 'waited for the grace period');
  t.notOk(isAlive(pid), 'pid gone');
  t.equal(collector.status().lastExit?.forced, true, 'forced kill is recorded');
  t.equal(collector.status().lastExit?.signal, 'SIGKILL');
});

t.test('a frozen collector (SIGSTOP) fails its health checks and is killed and restarted', async (t) => {
  const collector = await fakeCollector(t, 'normal');
  collector.start();
  await collector.waitReady(10_000);
  const frozen = collector.pid!;
  process.kill(frozen, 'SIGSTOP');
  const [ended] = await collector.next('exit');
  t.equal(ended.reason, 'unhealthy');
  await waitFor('restart after freeze', () => collector.status().state === 'running' && collector.pid !== frozen);
  t.notOk(isAlive(frozen));
  t.equal(collector.status().restarts, 1);
});

t.test('backoff resets after a stable run', async (t) => {
  const delays: number[] = [];
  const backoff = new Backoff({ initialMs: 100, maxMs: 10_000, jitter: 0 });
  const next = backoff.next.bind(backoff);
  backoff.next = () => {
    const d = next();
    delays.push(d);
    return d;
  };
  // exits ~300 ms after becoming ready; a run of >= 200 ms counts as stable here
  const collector = await fakeCollector(t, 'exit-after-ready', { backoff, stableAfterMs: 200 });
  collector.start();
  await waitFor('three restarts', () => delays.length >= 3, 15_000);
  t.same(delays.slice(0, 3), [100, 100, 100], 'each stable run resets the delay to its start');
});

t.test("the collector's output goes through the logger, tagged with the variant, its levels kept", async (t) => {
  const { logger, lines } = captureLogs('debug');
  const failing = await fakeCollector(t, 'exit-at-once', { logger });
  failing.start();
  await failing.waitReady(10_000).catch(() => undefined);
  const error = lines.find((l) => l.msg === 'fake: invalid configuration: bad pipeline'); // read before the exit is reported
  t.equal(error?.variant, 'fake-exit-at-once');
  t.equal(error?.level, 50, 'an error line stays an error');
  t.ok(error?.collectorPid, 'with the collector pid');
  const running = await fakeCollector(t, 'normal', { logger });
  running.start();
  await running.waitReady(10_000);
  await waitFor('ready line relayed', () => lines.find((l) => l.msg === 'fake: ready' && l.variant === 'fake-normal'));
  t.equal(lines.find((l) => l.msg === 'fake: ready')?.level, 20, "the collector's info chatter is debug for the agent");
  t.ok(lines.some((l) => l.variant === 'fake-normal' && l.msg === 'collector running' && l.level === 30), "the agent's own state changes are info");
});

t.test('a binary that cannot be spawned is reported, not thrown', async (t) => {
  const collector = new CollectorProcess({
    variant: 'missing',
    binary: '/nonexistent/otelcol',
    args: [],
    healthPort: 1,
    logger: silentLogger(),
    backoff: new Backoff({ initialMs: 50, jitter: 0 }),
  });
  t.teardown(() => collector.stop());
  collector.start();
  const [ended] = await collector.next('exit');
  t.equal(ended.reason, 'spawn-error');
  const error = await collector.waitReady(200).catch((e: unknown) => e);
  t.type(error, CollectorStartError);
});

t.test('a scrape the collector answered stands in for its next health check; without one a hung check kills it', async (t) => {
  const collector = await fakeCollector(t, 'health-hangs-after-ready');
  collector.start();
  await collector.waitReady(10_000);
  const pid = collector.pid!;
  let exits = 0;
  collector.on('exit', () => exits++);
  // Answers noted every 100 ms (health interval 200 ms): the hanging health endpoint is never asked.
  const noting = setInterval(() => collector.noteAnswered(pid), 100);
  t.teardown(() => clearInterval(noting));
  collector.noteAnswered(pid);
  await delay(2000);
  t.equal(exits, 0, 'ten health intervals with answers noted: not killed');
  t.equal(collector.pid, pid);
  collector.noteAnswered(pid + 1_000_000); // another pid's answer says nothing of this one
  clearInterval(noting);
  const [ended] = await collector.next('exit');
  t.equal(ended.reason, 'unhealthy', 'once answers stop, the hanging health check gets it killed');
  t.notOk(isAlive(pid));
});

t.test('frozen just after answering a scrape: still killed within two health intervals of it', async (t) => {
  const collector = await fakeCollector(t, 'normal');
  collector.start();
  await collector.waitReady(10_000);
  const pid = collector.pid!;
  collector.noteAnswered(pid);
  const frozenAt = Date.now();
  process.kill(pid, 'SIGSTOP');
  const [ended] = await collector.next('exit');
  const ms = Date.now() - frozenAt;
  t.equal(ended.reason, 'unhealthy');
  // Interval 200 ms, each check allowed 200 ms: checks due 200 ms after the answer and 200 ms after the
  // first failure, so 2 × (200 + 200) ms, plus scheduling slack.
  t.ok(ms <= 1200, `killed ${ms} ms after freezing (two intervals and their timeouts: 800 ms)`);
});
