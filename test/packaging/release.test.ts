// The release: phoenix-agent and phoenix-hub as single executables with the collector beside them, run in a
// mount namespace where /usr/bin/node is masked — proof that they need no system Node.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildRelease, type Release } from '../../packaging/release.js';
import { silentLogger } from '../../common/logger.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import { realCollector } from '../helpers/collector.js';
import { checkHubServes } from '../helpers/hub-command.js';
import { startPostgres } from '../helpers/postgres.js';

const work = mkdtempSync(path.join(tmpdir(), 'phx-release-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** `argv` as a shell command line inside a new mount namespace with node hidden, and a bare environment. */
function withoutNode(argv: string[]): string[] {
  const quoted = argv.map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const script = `mount --bind /dev/null "$(command -v node || echo /usr/bin/node)" 2>/dev/null || mount --bind /dev/null /usr/bin/node; if node --version >/dev/null 2>&1; then echo 'node still runs' >&2; exit 99; fi; exec ${quoted}`;
  return ['unshare', '--mount', '--propagation', 'private', 'env', '-i', `PATH=${process.env.PATH}`, `HOME=${work}`, 'sh', '-c', script];
}

function run(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = withoutNode(argv);
  const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let release: Release;
t.before(async () => {
  release = await buildRelease({ outDir: path.join(work, 'out'), collectorBinary: realCollector(), logger: silentLogger() });
});

t.test('the agent executable: --version, validate, and a full measurement round', { timeout: 240_000 }, async (t) => {
  const version = run([release.agent, '--version']);
  t.equal(version.code, 0, version.stderr);
  t.equal(version.stdout.trim(), release.version);
  const validate = run([release.agent, 'validate']);
  t.equal(validate.code, 0, validate.stderr);
  t.match(validate.stdout, /ok {2}baseline .*\/pipelines\/baseline\.yaml/, 'pipelines come from the release directory');
  const config = path.join(work, 'agent.yaml');
  writeFileSync(config, `ports: { base: 0 }\nstateDir: ${path.join(work, 'state')}\npipeline: { collectionInterval: 2s, metricExpiration: 30s }\nlog: { level: warn }\n`);
  const once = run([release.agent, 'run', '--once', '--json', '--config', config]);
  t.equal(once.code, 0, once.stderr);
  const report = JSON.parse(once.stdout) as { variants: { name: string; series: number }[] };
  t.same(report.variants.map((v) => v.name), ['baseline', 'optimized-a']);
  t.ok(report.variants.every((v) => v.series > 0), `series: ${report.variants.map((v) => v.series).join(', ')} (the shipped collector ran)`);
});

t.test('the hub executable: --version, serves the page and its store with the shipped SQLite binding, the comparison in its window thread', { timeout: 120_000 }, async (t) => {
  t.equal(run([release.hub, '--version']).stdout.trim(), release.version);
  const tokens = path.join(work, 'tokens');
  writeFileSync(tokens, 'release-token-0123456789\n');
  const port = await autoPort();
  const argv = withoutNode([release.hub, '--port', String(port), '--data-dir', path.join(work, 'hub'), '--token-file', tokens, '--log-level', 'info']);
  const logged = await checkHubServes(t, argv, port, () => path.join(work, 'hub', 'admin-token'), async (base, admin) => {
    const res = await fetch(`${base}/api/v1/comparison?window=1h`, { headers: { authorization: `Bearer ${admin}` } });
    t.equal(res.status, 200, 'the comparison answers');
  });
  t.match(logged, /comparisons are read in a window thread/, 'the thread started (the SQLite binding loaded there too)');
  t.notMatch(logged, /no window thread|window thread failed/, 'read in the thread, not on the loop');
});

t.test("the hub executable on PostgreSQL: the comparison is read in the window thread bundled beside it", { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const tokens = path.join(work, 'tokens-pg');
  writeFileSync(tokens, 'release-token-0123456789\n');
  const port = await autoPort();
  const dataDir = path.join(work, 'hub-pg');
  const argv = withoutNode([release.hub, '--port', String(port), '--data-dir', dataDir, '--token-file', tokens, '--store', server.url, '--log-level', 'info']);
  const logged = await checkHubServes(t, argv, port, () => path.join(dataDir, 'admin-token'), async (base, admin) => {
    const res = await fetch(`${base}/api/v1/comparison?window=1h`, { headers: { authorization: `Bearer ${admin}` } });
    t.equal(res.status, 200, 'the comparison answers');
    t.same(((await res.json()) as { groups: unknown[] }).groups, [], 'over no hosts yet');
  });
  t.match(logged, /comparisons are read in a window thread/, 'the thread started');
  t.notMatch(logged, /no window thread|window thread failed/, 'read in the thread, not on the loop');
});
