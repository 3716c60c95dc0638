// The .deb under a real systemd: a Debian tree booted with systemd-nspawn, the package installed in it with dpkg, and
// the units run for real — the agent enabled and ready, restarted after kill -9 with no collector left, stopped with
// nothing left; the hub started with its token file; the live `systemd-analyze security` scores the README records.
//
// Beside test/packaging/deb.test.ts (which installs the same .deb on the host, maybe at the same time: tap runs two files at
// once) nothing is shared: the container has its own dpkg database, /usr/lib/phoenix, /etc/phoenix and user, and its
// own network namespace (only a loopback), so its agent's fixed ports (19095, 19100…) and the hub's 8080 meet nothing
// on the host. What the host does see is the container's processes in its /proc: tests there that read the host's
// process list see systemd, systemd-journald and systemd-logind running (critical names) and its agent and
// collectors, all long-lived, which the host's own collectors scrape like any other process.
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { packageRoot } from '../../common/paths.js';
import type { Deb } from '../../packaging/deb.js';
import { bootContainer, containerWorkDir, killOrphanedContainers, processesInNamespace, type Container, type ProcessEntry } from '../helpers/nspawn.js';
import { describeResult, runCommand } from '../helpers/nspawn-command.js';
import { debianTree, type CachedTree } from '../helpers/nspawn-tree.js';
import { waitFor } from '../helpers/process.js';
import { buildTestDeb } from '../helpers/deb-build.js';

// Cold (first debootstrap, alongside the release build) this file took 128 s here, warm 28–50 s (README, systemd section).
t.setTimeout(360_000);

const AGENT = 'phoenix-agent.service';
const HUB = 'phoenix-hub.service';
const root = packageRoot();
const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
/** The health port the packaged /etc/phoenix/agent.yaml sets. */
const AGENT_HEALTH = Number((parseYaml(readFileSync(path.join(root, 'packaging/deb/agent.yaml'), 'utf8')) as { health: { port: number } }).health.port);
/** The port of the hub unit's default flags. */
const HUB_PORT = Number(/^Environment="PHOENIX_HUB_FLAGS=.*--port (\d+)/m.exec(readFileSync(path.join(root, 'systemd', HUB), 'utf8'))?.[1]);
/** CAP_DAC_READ_SEARCH (2) and CAP_SYS_PTRACE (19): the agent unit's ambient set, as /proc/PID/status writes it. */
const AGENT_CAPS = (1n << 2n | 1n << 19n).toString(16).padStart(16, '0');
/** A fetch in the container's network namespace with the host's Node (the tree has no HTTP client). */
const PROBE = `fetch(process.argv[1], { signal: AbortSignal.timeout(5000) })
  .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
  .catch((e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })));`;

const since = (start: number) => `${((Date.now() - start) / 1000).toFixed(1)} s`;
let tree: CachedTree;
let treePrint: string;
let deb: Deb;
let box: Container | undefined;
let work = '';

/** Names, sizes, times, modes and owners of everything in the tree: any write into it changes this. */
async function fingerprint(dir: string): Promise<string> {
  const r = await runCommand('find', [dir, '-printf', '%P %s %T@ %m %U:%G %l\\n']);
  if (r.code !== 0) throw new Error(describeResult('find', r));
  return createHash('sha256').update(r.stdout.split('\n').sort().join('\n')).digest('hex');
}

t.before(async () => {
  const start = Date.now();
  const orphans = killOrphanedContainers();
  if (orphans.length) t.comment(`killed the containers of a run that died before its teardown: init pids ${orphans.join(', ')}`);
  work = containerWorkDir();
  // The tree is a download and the release a build: side by side.
  mkdirSync(path.join(work, 'deb'));
  [tree, deb] = await Promise.all([debianTree(), buildTestDeb(path.join(work, 'deb'))]);
  t.comment(`tree ${tree.built ? 'made with debootstrap' : 'from the cache'} and .deb built: ${since(start)}`);
  treePrint = await fingerprint(tree.dir);
  const booting = Date.now();
  box = await bootContainer({
    tree: tree.dir,
    work,
    name: `phx-test-${process.pid}`,
    binds: [{ host: path.dirname(deb.file), container: '/mnt/phoenix' }],
  });
  t.comment(`booted (systemctl is-system-running: running) in ${since(booting)}`);
});

t.teardown(async () => {
  await box?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const container = (): Container => box!;

async function get(port: number, route: string): Promise<{ status: number; body: string }> {
  const r = await container().runInNetwork([process.execPath, '-e', PROBE, `http://127.0.0.1:${port}${route}`], { env: { PATH: process.env.PATH } });
  return r.code === 0 ? (JSON.parse(r.stdout) as { status: number; body: string }) : { status: 0, body: describeResult('probe', r) };
}

async function journal(unit: string): Promise<string> {
  return (await container().run(['journalctl', '--no-pager', '-o', 'cat', '-n', '40', '-u', unit])).stdout;
}

/** Waits for 200 from `route`; the unit's journal goes into the failure. */
async function ready(unit: string, port: number, route = '/readyz', timeoutMs = 90_000): Promise<{ status: number; body: string }> {
  try {
    return await waitFor(`${unit} ${route} on ${port}`, async () => {
      const r = await get(port, route);
      return r.status === 200 ? r : null;
    }, timeoutMs, 500);
  } catch (error) {
    throw new Error(`${(error as Error).message}; last answer ${JSON.stringify(await get(port, route))}; journal:\n${await journal(unit)}`);
  }
}

const named = (procs: ProcessEntry[], comm: string) => procs.filter((p) => p.comm === comm);

/** The effective and ambient capability sets and the uid of a container process. */
async function credentials(pid: number): Promise<{ uid: string; capEff: string; capAmb: string }> {
  const status = await container().check(['cat', `/proc/${pid}/status`]);
  const field = (name: string) => new RegExp(`^${name}:\\s+(\\S+)`, 'm').exec(status)?.[1] ?? '';
  return { uid: field('Uid'), capEff: field('CapEff'), capAmb: field('CapAmb') };
}

t.test('dpkg installs the package; the agent unit is enabled, started, and becomes ready', async (t) => {
  const c = container();
  const start = Date.now();
  const install = await c.run(['dpkg', '--install', `/mnt/phoenix/${path.basename(deb.file)}`], { timeoutMs: 120_000 });
  t.equal(install.code, 0, install.code === 0 ? 'dpkg --install' : describeResult('dpkg --install', install));
  t.equal((await c.run(['systemctl', 'is-enabled', AGENT])).stdout.trim(), 'enabled', 'enabled by the postinst');
  const answer = await ready(AGENT, AGENT_HEALTH);
  t.comment(`install → agent /readyz 200: ${since(start)}`);
  t.match(JSON.parse(answer.body), { status: 'ready' }, `/readyz on ${AGENT_HEALTH}, the packaged agent.yaml's health port`);

  const unit = await c.unit(AGENT, ['ActiveState', 'SubState', 'MainPID']);
  t.match(unit, { ActiveState: 'active', SubState: 'running' });
  const main = Number(unit.MainPID);
  const procs = await c.processes();
  const collectors = named(procs, 'otelcol-phoenix');
  t.same(collectors.map((p) => p.ppid), [main, main], 'two collectors, both children of the unit\'s main process');
  const phoenixUid = (await c.check(['id', '-u', 'phoenix'])).trim();
  for (const pid of [main, ...collectors.map((p) => p.pid)]) {
    t.same(await credentials(pid), { uid: phoenixUid, capEff: AGENT_CAPS, capAmb: AGENT_CAPS }, `pid ${pid}: user phoenix, only CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE (ambient, so the collectors have them too)`);
  }
});

t.test('kill -9 of the main PID: systemd restarts the agent and no collector of the old one is left', async (t) => {
  const c = container();
  const before = await c.unit(AGENT, ['MainPID', 'NRestarts']);
  const oldMain = Number(before.MainPID);
  const oldCollectors = named(await c.processes(), 'otelcol-phoenix').filter((p) => p.ppid === oldMain).map((p) => p.pid);
  t.equal(oldCollectors.length, 2, `the old agent ${oldMain} runs two collectors: ${oldCollectors.join(', ')}`);

  const killed = Date.now();
  await c.check(['sh', '-c', `kill -9 ${oldMain}`]);
  const after = await waitFor('a new main PID', async () => {
    const u = await c.unit(AGENT, ['MainPID', 'NRestarts', 'ActiveState']);
    return u.ActiveState === 'active' && Number(u.MainPID) > 0 && Number(u.MainPID) !== oldMain ? u : null;
  }, 60_000, 250);
  t.comment(`kill -9 → new MainPID ${after.MainPID}: ${since(killed)} (RestartSec=5s)`);
  t.equal(Number(after.NRestarts), Number(before.NRestarts) + 1, 'one restart, counted by systemd');
  await ready(AGENT, AGENT_HEALTH);
  t.comment(`kill -9 → ready again: ${since(killed)}`);

  const procs = await c.processes();
  t.same(oldCollectors.filter((pid) => procs.some((p) => p.pid === pid)), [], 'the old agent\'s collectors are gone');
  const newMain = Number(after.MainPID);
  t.same(named(procs, 'otelcol-phoenix').map((p) => p.ppid), [newMain, newMain], 'the only collectors are the new agent\'s two');
  t.same(named(procs, 'phoenix-agent').map((p) => p.pid), [newMain], 'one agent process');
});

t.test('systemctl stop: no process of the unit is left', async (t) => {
  const c = container();
  const { ControlGroup: cgroup, MainPID: main } = await c.unit(AGENT, ['ControlGroup', 'MainPID']);
  t.match(cgroup, /phoenix-agent\.service$/);
  // Whichever hierarchy this host mounts (unified, or hybrid with systemd's own): the unit's member list.
  const members = async () => (await c.check(['sh', '-c', `for h in /sys/fs/cgroup /sys/fs/cgroup/unified /sys/fs/cgroup/systemd; do f=$h${cgroup}/cgroup.procs; [ -e $f ] && cat $f; done; true`]))
    .split('\n').filter(Boolean).map(Number);
  const running = await members();
  t.ok(running.includes(Number(main)) && running.length >= 3, `the unit's cgroup holds the agent and its collectors: ${[...new Set(running)].join(', ')}`);

  const stopping = Date.now();
  await c.check(['systemctl', 'stop', AGENT], { timeoutMs: 60_000 });
  t.comment(`systemctl stop: ${since(stopping)}`);
  t.match(await c.unit(AGENT, ['ActiveState', 'MainPID', 'Result']), { ActiveState: 'inactive', MainPID: '0', Result: 'success' },
    'stopped cleanly (Result=success: the agent ended its collectors itself, no SIGKILL at the stop timeout)');
  t.same(await members(), [], 'the unit\'s cgroup is empty (or gone)');
  const left = (await c.processes()).filter((p) => p.comm === 'phoenix-agent' || p.comm === 'otelcol-phoenix');
  t.same(left, [], 'no phoenix-agent or otelcol-phoenix process anywhere in the container');
});

t.test('the hub unit starts with its token file and answers /readyz', async (t) => {
  const c = container();
  // As the README's install section does it.
  await c.check(['sh', '-c', 'head -c 24 /dev/urandom | base64 | install -m 0640 -g phoenix /dev/stdin /etc/phoenix/hub-tokens']);
  const start = Date.now();
  await c.check(['systemctl', 'enable', '--now', HUB], { timeoutMs: 60_000 });
  const answer = await ready(HUB, HUB_PORT);
  t.comment(`hub enable --now → /readyz 200: ${since(start)}`);
  t.match(JSON.parse(answer.body), { status: 'ready' }, `/readyz on ${HUB_PORT}, the unit's default port`);
  t.equal((await c.run(['systemctl', 'is-enabled', HUB])).stdout.trim(), 'enabled');
  t.equal((await c.run(['test', '-s', '/var/lib/phoenix-hub/hub.db'])).code, 0, 'its store is in the unit\'s StateDirectory');
  const main = Number((await c.unit(HUB, ['MainPID'])).MainPID);
  t.match(await credentials(main), { capEff: '0000000000000000', capAmb: '0000000000000000' }, 'the hub holds no capability');
});

t.test('systemd-analyze security in the booted systemd: the exposure the README records', async (t) => {
  for (const unit of [AGENT, HUB]) {
    const out = await container().check(['systemd-analyze', 'security', '--no-pager', unit]);
    const live = /Overall exposure level for \S+: (\d+\.\d)/.exec(out)?.[1];
    const recorded = new RegExp(`\`${unit.replace('.', '\\.')}\`: exposure (\\d+\\.\\d)`).exec(readme)?.[1];
    t.ok(recorded, `README records an exposure for ${unit}`);
    t.equal(live, recorded, `${unit}: live exposure ${live}, README ${recorded}`);
  }
});

t.test('stopping the container leaves no process of it and the cached tree as it was', async (t) => {
  const c = container();
  const stopping = Date.now();
  await c.close();
  t.comment(`container stopped (SIGTERM to systemd-nspawn): ${since(stopping)}`);
  t.same(processesInNamespace(c.pidNamespace), [], `no host process left in its PID namespace ${c.pidNamespace}`);
  t.equal(await fingerprint(tree.dir), treePrint, `the cached tree ${tree.dir} is unchanged (the run wrote into its overlay)`);
});
