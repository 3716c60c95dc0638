// `npm start`'s program as a user runs it: `node dist/stack/local-bin.js`, its printed URL, the first comparison in
// the API and the page, Ctrl-C (SIGINT) stopping everything; bad flags exit 2. Only the command line, stdout, HTTP,
// the page, the agent's collectors.json and /proc are used, so the test holds however the stack is put together.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPidFile, type PidEntry } from '../../agent/supervisor/pidfile.js';
import { openBrowser } from '../helpers/browser.js';
import { onlyPair } from '../helpers/hub-api.js';
import { isAlive, waitFor } from '../helpers/process.js';

const BIN = fileURLToPath(new URL('../../dist/stack/local-bin.js', import.meta.url));
const HOST = 'local-stack-host';
const CANDIDATE = 'optimized-b';

interface Run {
  pid: number;
  output: { stdout: string; stderr: string };
  exited: Promise<[number | null, NodeJS.Signals | null]>;
  /** Not yet exited (its pid is still its own). */
  running(): boolean;
  /** Signals its process group, while it runs. */
  kill(signal: NodeJS.Signals): void;
}

/** Starts the bin with `args` in its own temp data dir's environment; what it prints is kept. */
function startBin(args: string[]): Run {
  if (!existsSync(BIN)) throw new Error(`${BIN} is missing: run \`npm run build\` first`);
  // Its own process group, as a terminal's foreground job: a signal goes to the group, as Ctrl-C sends it.
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, PHOENIX_HOST_ID: HOST } });
  const output = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (output.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output.stderr += d));
  return {
    pid: child.pid!,
    output,
    exited: once(child, 'exit') as Run['exited'],
    running: () => child.exitCode === null && child.signalCode === null,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, signal);
    },
  };
}

/** The bin run to its end, for flags that must be refused before anything starts (SIGKILL after 20 s if it does not end). */
async function runBin(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startBin(args);
  const timer = setTimeout(() => run.kill('SIGKILL'), 20_000);
  const [code] = await run.exited.finally(() => clearTimeout(timer));
  return { code, ...run.output };
}

/** /proc facts about a pid; null once it is gone. */
function procStat(pid: number): { ppid: number; exe: string } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return { ppid, exe: readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '') };
  } catch {
    return null;
  }
}

/** Every live process on the host whose parent is `ppid` and whose executable is `exe`. */
function childrenRunning(ppid: number, exe: string): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .map(Number)
    .filter((pid) => {
      const s = procStat(pid);
      return s !== null && s.ppid === ppid && s.exe === exe && isAlive(pid);
    })
    .sort((a, b) => a - b);
}

/** The agent's record of its collectors, wherever under the data dir the stack keeps the agent's state. */
function collectorsFile(dataDir: string): string | null {
  const found = readdirSync(dataDir, { recursive: true, encoding: 'utf8' }).filter((f) => path.basename(f) === 'collectors.json');
  return found.length === 1 ? path.join(dataDir, found[0]!) : null;
}

/** Resolves with the connection's error code ('ECONNREFUSED' once nothing listens), or 'connected'. */
function tryConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve('connected')));
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? String(error)));
  });
}

t.test('the local stack on --port 0: URL with the real port, first comparison in the API and the page, Ctrl-C stops all of it', { timeout: 200_000 }, async (t) => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'phx-local-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const started = Date.now();
  const stack = startBin(['--port', '0', '--data-dir', dataDir, '--candidate', CANDIDATE]);
  let collectors: PidEntry[] = [];
  t.teardown(async () => {
    // On a failure: nothing of the stack outlives the test.
    if (stack.running()) {
      stack.kill('SIGKILL');
      await stack.exited;
    }
    for (const c of collectors) if (isAlive(c.pid) && procStat(c.pid)?.exe === c.binary) process.kill(c.pid, 'SIGKILL');
  });
  const running = () => {
    if (!stack.running()) throw new Error(`the stack exited early: ${stack.output.stderr}`);
  };

  const printed = await waitFor('the page URL on stdout', () => (running(), /Open (http:\/\/127\.0\.0\.1:(\d+))\/signin\?code=(phx_c_[\w-]{43})\n/.exec(stack.output.stdout)), 60_000, 100);
  const [signInUrl, url, portText] = printed;
  const port = Number(portText);
  t.ok(port > 0, `the printed URL carries the real port (${url}), not 0`);
  t.equal((await fetch(`${url}/readyz`)).status, 200, 'the hub answers at the printed URL');

  // The API with the admin token the hub wrote into its data dir on first start (mode 0600).
  const adminFile = path.join(dataDir, 'admin-token');
  t.equal(statSync(adminFile).mode & 0o777, 0o600, 'the first admin token is readable by its owner only');
  const target = { url: url!, token: readFileSync(adminFile, 'utf8').trim() };
  const pair = await waitFor('the first comparison in /api/v1/comparison', async () => (running(), await onlyPair(target)), 120_000, 500);
  const firstComparisonMs = Date.now() - started;
  t.comment(`first comparison ${firstComparisonMs} ms after start`);
  t.equal(pair.baseline, 'baseline');
  t.equal(pair.candidate, CANDIDATE, 'the --candidate flag chose variant B');
  t.equal(pair.hosts, 1, 'one host: this one');
  t.ok(pair.a.totalSeries > pair.b.totalSeries, `${CANDIDATE} exports fewer series than the baseline (${pair.b.totalSeries} < ${pair.a.totalSeries})`);

  const { page, errors } = await openBrowser(t);
  // The printed link signs the browser in (a session cookie) and lands on the page; the code is then used up.
  await page.goto(signInUrl!.slice('Open '.length).trim());
  await page.locator(`tr[data-host="${HOST}"]`).waitFor({ timeout: 20_000 });
  t.equal(await page.locator('#whoami').textContent(), 'local (admin)', 'signed in as the local user, an admin');
  const again = await fetch(signInUrl!.slice('Open '.length).trim(), { redirect: 'manual' });
  t.same([again.status, again.headers.get('location'), again.headers.get('set-cookie')], [303, '/?signin=code', null], 'the code works once');
  t.match(await page.locator('[data-verdict]').first().textContent(), new RegExp(`^${CANDIDATE} cuts series \\d+%`), 'the page shows the comparison');
  t.same(errors, [], 'no errors in the browser console');

  // The collectors it started, as the agent recorded them and as /proc shows the stack's children.
  const file = await waitFor('collectors.json under the data dir', () => collectorsFile(dataDir));
  collectors = readPidFile(file);
  t.same(collectors.map((c) => c.variant).sort(), ['baseline', CANDIDATE].sort(), 'both collectors recorded');
  const binary = collectors[0]!.binary;
  t.same(childrenRunning(stack.pid, binary), collectors.map((c) => c.pid).sort((a, b) => a - b), 'they are the stack\'s running collector children');

  const stopping = Date.now();
  stack.kill('SIGINT');
  const [code, signal] = await stack.exited;
  t.comment(`stopped ${Date.now() - stopping} ms after SIGINT`);
  t.equal(code, 0, 'exit 0 on Ctrl-C');
  if (code !== 0) t.comment(`its stderr: ${stack.output.stderr.slice(-4000)}`);
  t.equal(signal, null, 'it exited by itself, not by the signal');
  t.equal(await tryConnect(port), 'ECONNREFUSED', 'the hub port is closed');
  for (const c of collectors) t.notOk(isAlive(c.pid) && procStat(c.pid)?.exe === c.binary, `${c.variant} collector (pid ${c.pid}) is gone`);
});

t.test('bad flags exit 2 naming the value, before anything starts', { timeout: 60_000 }, async (t) => {
  const dataDir = path.join(mkdtempSync(path.join(tmpdir(), 'phx-local-bad-')), 'data');
  t.teardown(() => rmSync(path.dirname(dataDir), { recursive: true, force: true }));
  for (const [args, named] of [
    [['--candidate', 'optimized-z'], 'optimized-z'],
    [['--port', '70000'], '70000'],
    [['--port', 'eighty'], 'eighty'],
  ] as const) {
    const result = await runBin([...args, '--data-dir', dataDir]);
    t.equal(result.code, 2, `${args.join(' ')}: exit 2`);
    t.match(result.stderr, `'${named}'`, `${args.join(' ')}: the message names the value (${result.stderr.trim()})`);
    t.notMatch(result.stdout, /Open http/, `${args.join(' ')}: no stack started`);
  }
  t.notOk(existsSync(dataDir), 'no data dir was made');
});
