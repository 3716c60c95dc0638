// The process simulator and its CLI against real processes and the real /proc.
import t, { type Test } from 'tap';
import { spawnTs } from '../../helpers/spawn-ts.js';
import { EventEmitter } from 'node:events';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../../../common/logger.js';
import { main } from '../../../tools/simulator/cli.js';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../../tools/simulator/simulator.js';

const LONG_NAME = 'kube-controller-manager';
const BIN = fileURLToPath(new URL('../../../tools/simulator/bin.ts', import.meta.url));
/** The binary the simulator links for idle processes (it prefers /usr/bin). */
const SYSTEM_SLEEP = existsSync('/usr/bin/sleep') ? '/usr/bin/sleep' : '/bin/sleep';

/** True while pid is a live (not zombie) process executing `path`; a reused pid runs something else. */
function runs(pid: number, path: string): boolean {
  try {
    return readlinkSync(`/proc/${pid}/exe`) === path;
  } catch {
    return false;
  }
}

/** Every pid on the host whose executable lies in dir. */
function pidsRunningFrom(dir: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      try {
        return readlinkSync(`/proc/${pid}/exe`).startsWith(`${dir}/`);
      } catch {
        return false;
      }
    });
}

/** A fresh directory, removed in teardown after killing anything still running from it. */
function tempDir(t: Test, parent = tmpdir()): string {
  const dir = mkdtempSync(join(parent, 'phx-sim-test-'));
  t.teardown(() => {
    for (const pid of pidsRunningFrom(dir)) process.kill(pid, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

/** utime + stime in clock ticks, and the state letter, from /proc/PID/stat. */
function stat(pid: number): { ticks: number; state: string } {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the parenthesised comm: state is field 3, utime 14, stime 15.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { state: fields[0] ?? '', ticks: Number(fields[11]) + Number(fields[12]) };
}

async function waitFor(what: string, condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(20);
  }
}

/** Starts a simulator whose close() and leftover pids are handled in teardown even if the test fails. */
async function started(t: Test, options: SimulatorOptions): Promise<Simulator> {
  const simulator = await startSimulator({ logger: silentLogger(), ...options });
  t.teardown(async () => {
    try {
      await simulator.close();
    } finally {
      for (const pid of pidsRunningFrom(simulator.dir)) process.kill(pid, 'SIGKILL');
    }
  });
  return simulator;
}

t.test('20 processes: 3 critical (one long name), 2 burners, all visible in /proc', async (t) => {
  const critical = ['sshd', 'postgres', LONG_NAME];
  const simulator = await started(t, { count: 20, criticalNames: critical, cpuBurners: 2 });
  const list = simulator.processes();
  t.equal(list.length, 20);
  t.equal(new Set(list.map((p) => p.name)).size, 20, 'names are distinct');
  t.equal(new Set(list.map((p) => p.path)).size, 20, 'paths are distinct');
  t.same(list.filter((p) => p.critical).map((p) => p.name), critical);
  t.equal(list.filter((p) => p.burner).length, 2);
  t.ok(list.every((p) => p.burner ? !p.critical : true), 'burners are never critical');
  for (const p of list) {
    t.equal(p.path, join(simulator.dir, p.name), `${p.name} lives in dir`);
    t.ok(runs(p.pid, p.path), `/proc/${p.pid}/exe is ${p.path}`);
  }
  t.ok(list.filter((p) => !p.critical).every((p) => /^phx-sim-\d{4}$/.test(p.name)), 'generated names');
  const sleepInode = statSync(SYSTEM_SLEEP).ino;
  const idlePaths = list.filter((p) => !p.burner).map((p) => lstatSync(p.path));
  t.ok(idlePaths.every((s) => s.isFile() && s.ino === sleepInode), 'idle executables are hard links of sleep, not symlinks or copies');

  const long = list.find((p) => p.name === LONG_NAME)!;
  const statusName = /^Name:\t(.*)$/m.exec(readFileSync(`/proc/${long.pid}/status`, 'utf8'))?.[1];
  const comm = readFileSync(`/proc/${long.pid}/comm`, 'utf8').trim();
  const argv0 = readFileSync(`/proc/${long.pid}/cmdline`, 'utf8').split('\0')[0] ?? '';
  t.comment(`long name: status Name=${statusName} comm=${comm} argv[0]=${argv0}`);
  t.equal(statusName, LONG_NAME.slice(0, 15), 'the kernel truncates Name to 15 characters');
  t.equal(comm, LONG_NAME.slice(0, 15));
  t.equal(basename(argv0), LONG_NAME, 'argv[0] carries the full name for the scraper to extend Name from');

  const burner = list.find((p) => p.burner)!;
  const idle = list.find((p) => !p.burner && !p.critical)!;
  const before = { burner: stat(burner.pid).ticks, idle: stat(idle.pid).ticks };
  await waitFor('the burner to use 20 CPU ticks', () => stat(burner.pid).ticks - before.burner >= 20);
  t.ok(stat(idle.pid).ticks - before.idle <= 1, 'the idle process used no CPU meanwhile');

  const dir = simulator.dir;
  await simulator.close();
  t.same(simulator.processes(), [], 'nothing listed after close');
  t.same(list.filter((p) => runs(p.pid, p.path)).map((p) => p.pid), [], 'no pid alive after close');
  t.same(pidsRunningFrom(dir), [], 'nothing on the host runs from the dir');
  t.notOk(existsSync(dir), 'dir removed');
  await simulator.close();
  t.pass('close is idempotent');
});

t.test('churn replaces the oldest non-critical processes under new names, keeping the count', async (t) => {
  const simulator = await started(t, { count: 10, criticalNames: ['sshd'], cpuBurners: 1, churn: { everyMs: 50, fraction: 0.3 } });
  const initial = simulator.processes();
  const initialNonCritical = initial.filter((p) => !p.critical);
  const counts = new Set<number>();
  await waitFor('every initial process to be replaced', () => {
    const now = simulator.processes();
    counts.add(now.length);
    return initialNonCritical.every((old) => !now.some((p) => p.pid === old.pid));
  });
  t.same([...counts], [10], 'the count stayed 10 at every look');
  const now = simulator.processes();
  t.equal(new Set(now.map((p) => p.name)).size, 10, 'names stay distinct');
  t.ok(now.filter((p) => !p.critical).every((p) => /^phx-sim-\d{4}-g\d+$/.test(p.name)), 'new names carry a generation');
  t.equal(now.find((p) => p.critical)?.pid, initial.find((p) => p.critical)?.pid, 'the critical process is never churned');
  t.equal(now.filter((p) => p.burner).length, 1, 'a burner is replaced by a burner');
  await waitFor('old pids to be gone', () => initialNonCritical.every((p) => !runs(p.pid, p.path)));
  await waitFor('old links to be removed', () => initialNonCritical.every((p) => !existsSync(p.path)));
  t.pass('old pids and their links are gone');
  for (const p of simulator.processes()) t.ok(runs(p.pid, p.path), `${p.name} is alive`);
});

t.test('a duty cycle below 100% stops and continues burners', async (t) => {
  const simulator = await started(t, { count: 2, cpuBurners: 1, burnDutyPercent: 30 });
  const burner = simulator.processes().find((p) => p.burner)!;
  const states = new Set<string>();
  const before = stat(burner.pid).ticks;
  await waitFor('the burner to be seen stopped and to use CPU', () => {
    const now = stat(burner.pid);
    states.add(now.state);
    return states.has('T') && now.ticks - before >= 5;
  });
  await simulator.close();
  t.notOk(runs(burner.pid, burner.path), 'a stopped burner is killed too');
});

t.test('a process killed from outside drops out of the list', async (t) => {
  const simulator = await started(t, { count: 3 });
  const [victim] = simulator.processes();
  process.kill(victim!.pid, 'SIGKILL');
  await waitFor('the list to shrink', () => simulator.processes().length === 2);
  t.notOk(simulator.processes().some((p) => p.pid === victim!.pid));
});

t.test('aborting the signal during start kills what was spawned and rejects', async (t) => {
  const dir = tempDir(t);
  const controller = new AbortController();
  const starting = startSimulator({ count: 1000, dir, signal: controller.signal, logger: silentLogger() });
  await waitFor('the first processes to run', () => pidsRunningFrom(dir).length > 0);
  controller.abort();
  await t.rejects(starting, { name: 'AbortError' });
  t.same(pidsRunningFrom(dir), [], 'no process left');
  t.same(readdirSync(dir), [], 'no file left');
  await t.rejects(startSimulator({ count: 1, signal: controller.signal }), { name: 'AbortError' }, 'an aborted signal refuses at once');
});

t.test('a caller-provided dir is kept; only the simulator files are removed', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'keep-me'), 'x');
  const simulator = await started(t, { count: 3, dir, namePrefix: 'own' });
  t.equal(simulator.dir, dir);
  t.ok(existsSync(join(dir, 'own-0001')));

  // own-0001..3 clash; own-0004..5 get spawned in the same batch and must be cleaned up again.
  const clash = startSimulator({ count: 5, dir, namePrefix: 'own', logger: silentLogger() });
  await t.rejects(clash, { name: 'UsageError', message: /dir already holds '.*own-000[123]'/ }, 'the same names in the same dir are refused');
  t.ok(simulator.processes().every((p) => runs(p.pid, p.path)), 'the first simulator is untouched');
  t.same(pidsRunningFrom(dir).sort(), simulator.processes().map((p) => p.pid).sort(), 'the failed start left no process behind');
  t.same(readdirSync(dir).filter((f) => !f.startsWith('.')).sort(), ['keep-me', 'own-0001', 'own-0002', 'own-0003'], 'nor files');

  await simulator.close();
  t.same(readdirSync(dir), ['keep-me']);
});

// A dir on another filesystem than /usr/bin cannot hold hard links of it: the simulator copies a template there once.
const otherFs = existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(SYSTEM_SLEEP).dev && !/ \/dev\/shm \S+ \S*noexec/.test(readFileSync('/proc/mounts', 'utf8'));
t.test('across filesystems it copies instead of hard-linking', async (t) => {
  t.ok(otherFs, 'this machine has an exec-able /dev/shm on another filesystem than /usr/bin (needed to test the copy path)');
  const dir = tempDir(t, '/dev/shm');
  const simulator = await started(t, { count: 3, cpuBurners: 1, dir });
  const list = simulator.processes();
  t.ok(list.every((p) => runs(p.pid, p.path)), 'all run from their own files');
  const idle = list.filter((p) => !p.burner).map((p) => statSync(p.path));
  t.not(idle[0]!.ino, statSync(SYSTEM_SLEEP).ino, 'a copy, not the system binary');
  t.equal(idle[0]!.ino, idle[1]!.ino, 'names are hard links of one copied template');
  await simulator.close();
  t.same(readdirSync(dir), [], 'copies and template removed');
});

t.test('bad options are refused with the option and value named', async (t) => {
  const cases: [SimulatorOptions, RegExp][] = [
    [{ count: 0 }, /^count must be an integer from 1 to 5000, got 0$/],
    [{ count: 5001 }, /count .* got 5001/],
    [{ count: 2.5 }, /count .* got 2.5/],
    [{ count: 2, criticalNames: ['a', 'b', 'c'] }, /criticalNames must hold at most count \(2\) names/],
    [{ count: 3, criticalNames: ['sshd', 'sshd'] }, /criticalNames must not repeat a name, got 'sshd'/],
    [{ count: 3, criticalNames: ['a/b'] }, /criticalNames entries must not contain '\/'.*got 'a\/b'/],
    [{ count: 3, criticalNames: ['.hidden'] }, /got '.hidden'/],
    [{ count: 3, criticalNames: ['phx-sim-0001'] }, /generated-name prefix 'phx-sim-', got 'phx-sim-0001'/],
    [{ count: 3, namePrefix: '' }, /namePrefix must be a non-empty string, got ''/],
    [{ count: 3, namePrefix: 'x'.repeat(201) }, /namePrefix must be at most 200 bytes/],
    [{ count: 3, criticalNames: ['sshd'], cpuBurners: 3 }, /cpuBurners must be an integer from 0 to 2 .* got 3/],
    [{ count: 3, burnDutyPercent: 0 }, /burnDutyPercent .* got 0/],
    [{ count: 3, churn: { everyMs: 5, fraction: 0.5 } }, /churn.everyMs .* got 5/],
    [{ count: 3, churn: { everyMs: 100, fraction: 1.5 } }, /churn.fraction .* got 1.5/],
    [{ count: 1, criticalNames: ['sshd'], churn: { everyMs: 100, fraction: 0.5 } }, /churn.fraction needs at least one non-critical/],
    [{ count: 3, dir: '' }, /dir must be a directory path/],
    [{ count: 3, dir: '/nonexistent/phx-sim' }, /dir must be an existing directory, got '\/nonexistent\/phx-sim'/],
  ];
  for (const [options, message] of cases) {
    await t.rejects(startSimulator(options), { name: 'UsageError', code: 'PHX_USAGE', exitCode: 2, message }, JSON.stringify(options).slice(0, 80));
  }
});

/** Collects what main() writes, and resolves `line` on its first full stdout line. */
function capture(): { stdout: { write(text: string): boolean }; stderr: { write(text: string): boolean }; out: () => string; err: () => string; line: Promise<string> } {
  let out = '';
  let err = '';
  let resolveLine: (line: string) => void = () => {};
  const line = new Promise<string>((resolve) => (resolveLine = resolve));
  return {
    stdout: {
      write(text) {
        out += text;
        if (out.includes('\n')) resolveLine(out.slice(0, out.indexOf('\n')));
        return true;
      },
    },
    stderr: {
      write(text) {
        err += text;
        return true;
      },
    },
    out: () => out,
    err: () => err,
    line,
  };
}

class FakeProcess extends EventEmitter {
  readonly exits: number[] = [];
  exit(code: number): void {
    this.exits.push(code);
  }
  listening(): number {
    return this.listenerCount('SIGTERM') + this.listenerCount('SIGINT') + this.listenerCount('exit');
  }
}

interface Ready {
  ready: boolean;
  pids: number[];
  dir: string;
}

/** Runs main() in-process with a fake process; teardown signals it and kills any pid it reported. */
async function runMain(t: Test, argv: string[]): Promise<{ fake: FakeProcess; ready: Ready; paths: Map<number, string>; done: Promise<number> }> {
  const fake = new FakeProcess();
  const io = capture();
  const done = main(argv, { ...io, process: fake, logger: silentLogger() });
  const line = await Promise.race([io.line, done.then((code) => `main returned ${code} before ready: ${io.err()}`)]);
  if (!line.startsWith('{')) throw new Error(line);
  const ready = JSON.parse(line) as Ready;
  const paths = new Map(ready.pids.map((pid) => [pid, readlinkSync(`/proc/${pid}/exe`)]));
  t.teardown(async () => {
    fake.emit('SIGTERM');
    await done;
    for (const [pid, path] of paths) if (runs(pid, path)) process.kill(pid, 'SIGKILL');
  });
  return { fake, ready, paths, done };
}

t.test('cli: bad flags print the flag and value and return 2', async (t) => {
  const cases: [string[], RegExp][] = [
    [['--count', '0'], /--count must be an integer from 1 to 5000, got 0/],
    [['--count', 'abc'], /option '--count <n>' argument 'abc' is invalid/],
    [[], /required option '--count <n>' not specified/],
    [['--count', '3', '--burners', '4'], /--burners must be an integer from 0 to 3 .* got 4/],
    [['--count', '3', '--critical', 'sshd,sshd'], /--critical must not repeat a name, got 'sshd'/],
    [['--count', '3', '--churn-fraction', '0.5'], /--churn-fraction 0.5 needs --churn-every/],
    [['--count', '3', '--churn-every', '1'], /--churn-every .* got 1/],
    [['--count', '3', '--duty', '101'], /--duty .* got 101/],
    [['--count', '3', '--bogus'], /unknown option '--bogus'/],
    [['--count', '3', 'extra'], /too many arguments/],
    [['--count', '3', '--dir', '/nonexistent/phx-sim'], /dir must be an existing directory, got '\/nonexistent\/phx-sim'/],
  ];
  for (const [argv, message] of cases) {
    const io = capture();
    const fake = new FakeProcess();
    t.equal(await main(argv, { ...io, process: fake, logger: silentLogger() }), 2, argv.join(' '));
    t.match(io.err(), message);
    t.equal(io.out(), '', 'nothing on stdout');
    t.equal(fake.listening(), 0, 'no listener left behind');
  }
  const help = capture();
  t.equal(await main(['--help'], help), 0, '--help returns 0');
  t.match(help.out(), /--churn-every <ms>/);
});

t.test('cli: ready line, SIGTERM, clean close, no listeners left', async (t) => {
  const { fake, ready, paths, done } = await runMain(t, ['--count', '4', '--critical', `sshd,${LONG_NAME}`, '--burners', '1', '--churn-every', '1000']);
  t.equal(ready.ready, true);
  t.equal(ready.pids.length, 4);
  t.ok(existsSync(ready.dir));
  t.ok(fake.listenerCount('SIGTERM') === 1 && fake.listenerCount('SIGINT') === 1 && fake.listenerCount('exit') === 1, 'listening while running');
  fake.emit('SIGTERM');
  t.equal(await done, 0);
  t.same([...paths].filter(([pid, path]) => runs(pid, path)), [], 'every child is gone');
  t.notOk(existsSync(ready.dir), 'dir removed');
  t.equal(fake.listening(), 0, 'every listener removed');
  t.same(fake.exits, [], 'no forced exit');
});

t.test('cli: a signal during the start stops it cleanly, with no ready line', async (t) => {
  const dir = tempDir(t);
  const fake = new FakeProcess();
  const io = capture();
  const done = main(['--count', '1000', '--dir', dir], { ...io, process: fake, logger: silentLogger() });
  await waitFor('the first processes to run', () => pidsRunningFrom(dir).length > 0);
  fake.emit('SIGTERM');
  t.equal(await done, 0);
  t.equal(io.out(), '', 'no ready line');
  t.equal(io.err(), '');
  t.same(pidsRunningFrom(dir), [], 'no process left');
  t.same(readdirSync(dir), [], 'no file left');
  t.equal(fake.listening(), 0);
});

t.test('cli: a second signal kills at once and exits 1', async (t) => {
  const { fake, paths, done } = await runMain(t, ['--count', '3']);
  fake.emit('SIGINT');
  fake.emit('SIGTERM');
  t.same(fake.exits, [1]);
  await waitFor('children to die', () => [...paths].every(([pid, path]) => !runs(pid, path)));
  t.equal(await done, 0, 'the orderly close still completes in-process');
  t.equal(fake.listening(), 0);
});

t.test("cli: the 'exit' handler kills every child synchronously", async (t) => {
  const { fake, paths } = await runMain(t, ['--count', '3']);
  fake.emit('exit');
  await waitFor('children to die', () => [...paths].every(([pid, path]) => !runs(pid, path)));
  t.pass('all children gone');
});

t.test('cli: a real process, SIGTERM, children gone', { timeout: 60_000 }, async (t) => {
  const child = spawnTs(BIN, ['--count', '5', '--critical', 'sshd', '--burners', '1']);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const paths = new Map<number, string>();
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
    for (const [pid, path] of paths) if (runs(pid, path)) process.kill(pid, 'SIGKILL');
  });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (text: string) => (err += text));
  const line = await new Promise<string>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (text: string) => {
      out += text;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    void exited.then((code) => reject(new Error(`cli exited ${code} before ready: ${err}`)));
  });
  const ready = JSON.parse(line) as Ready;
  t.equal(ready.pids.length, 5);
  for (const pid of ready.pids) paths.set(pid, readlinkSync(`/proc/${pid}/exe`));
  t.ok([...paths.values()].every((path) => path.startsWith(`${ready.dir}/`)), 'every child runs from the dir');
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'exit code 0 after SIGTERM');
  t.same([...paths].filter(([pid, path]) => runs(pid, path)), [], 'every child is gone');
  t.notOk(existsSync(ready.dir), 'dir removed');
  t.match(err, /signal received/, 'it logged the stop to stderr');
});
