// The Debian package: lintian-clean, installs on this machine, runs the agent from its installed files,
// its installed units verify, and removal leaves only the config (purge: nothing).
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEB_PACKAGE, INSTALL_DIR, UNIT_DIR, type Deb } from '../../packaging/deb.js';
import { buildTestDeb } from '../helpers/deb-build.js';

const work = mkdtempSync(path.join(tmpdir(), 'phx-deb-'));
const sh = (cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 180_000, env });
  return { code: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
};
const installed = () => sh('dpkg-query', ['-W', '-f=${Status}', DEB_PACKAGE]).stdout;

let deb: Deb;
t.before(async () => {
  // A run that died half-way may have left the package behind.
  if (installed().includes('installed')) execFileSync('dpkg', ['--purge', DEB_PACKAGE], { stdio: 'pipe' });
  deb = await buildTestDeb(work);
});
t.teardown(() => {
  if (installed().includes('installed') || installed().includes('config-files')) spawnSync('dpkg', ['--purge', DEB_PACKAGE]);
  rmSync(work, { recursive: true, force: true });
});

t.test('the package: contents and lintian', { timeout: 240_000 }, async (t) => {
  const contents = execFileSync('dpkg-deb', ['--contents', deb.file], { encoding: 'utf8' });
  for (const file of [
    `.${INSTALL_DIR}/phoenix-agent`,
    `.${INSTALL_DIR}/phoenix-hub`,
    `.${INSTALL_DIR}/otelcol-phoenix`,
    `.${INSTALL_DIR}/pipelines/baseline.yaml`,
    './usr/bin/phoenix-agent -> ../lib/phoenix/phoenix-agent',
    `.${UNIT_DIR}/phoenix-agent.service`,
    `.${UNIT_DIR}/phoenix-hub.service`,
    './etc/phoenix/agent.yaml',
    './usr/share/doc/phoenix/copyright',
  ]) {
    t.ok(contents.includes(file), file);
  }
  t.match(execFileSync('dpkg-deb', ['--field', deb.file, 'Version'], { encoding: 'utf8' }), deb.version);
  const lintian = sh('lintian', ['--tag-display-limit', '0', deb.file]);
  t.equal(lintian.code, 0, lintian.stdout + lintian.stderr);
  t.same(lintian.stdout.split('\n').filter((l) => /^[EW]: /.test(l)), [], 'no error or warning left (overrides explain the rest)');
});

t.test('install, run the agent once from the installed files, verify the units, remove, purge', { timeout: 300_000 }, async (t) => {
  const install = sh('dpkg', ['--install', deb.file]);
  t.equal(install.code, 0, install.stderr);
  t.match(sh('getent', ['passwd', 'phoenix']).stdout, /^phoenix:x:\d+:\d+::\/nonexistent:\/usr\/sbin\/nologin/, 'the service user exists');
  t.ok(existsSync('/etc/systemd/system/multi-user.target.wants/phoenix-agent.service'), 'the agent unit is enabled');

  const state = path.join(work, 'state');
  const once = sh('/usr/bin/phoenix-agent', ['run', '--once', '--json', '--config', '/etc/phoenix/agent.yaml'], { PATH: process.env.PATH, STATE_DIRECTORY: state });
  t.equal(once.code, 0, once.stderr.slice(-2000));
  const report = JSON.parse(once.stdout) as { variants: { name: string; series: number | null; state: string }[] };
  t.same(report.variants.map((v) => v.name), ['baseline', 'optimized-a'], 'the default config');
  t.ok(report.variants.every((v) => (v.series ?? 0) > 0), 'both installed collectors produced series');

  const verify = sh('systemd-analyze', ['verify', `${UNIT_DIR}/phoenix-agent.service`, `${UNIT_DIR}/phoenix-hub.service`]);
  t.same([verify.code, verify.stderr.trim()], [0, ''], 'the installed units verify against the installed executables');

  const remove = sh('dpkg', ['--remove', DEB_PACKAGE]);
  t.equal(remove.code, 0, remove.stderr);
  t.match(installed(), /config-files/);
  for (const gone of [INSTALL_DIR, '/usr/bin/phoenix-agent', '/usr/bin/phoenix-hub', `${UNIT_DIR}/phoenix-agent.service`, '/usr/share/doc/phoenix']) {
    t.notOk(existsSync(gone) || isLink(gone), `${gone} removed`);
  }
  t.same(readdirSync('/etc/phoenix'), ['agent.yaml'], 'only the config is kept');

  const purge = sh('dpkg', ['--purge', DEB_PACKAGE]);
  t.equal(purge.code, 0, purge.stderr);
  t.notOk(existsSync('/etc/phoenix'), 'purge removes the config');
  t.notOk(isLink('/etc/systemd/system/multi-user.target.wants/phoenix-agent.service'), 'and the enablement');
  t.equal(installed(), '', 'dpkg knows nothing of it');
});

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}
