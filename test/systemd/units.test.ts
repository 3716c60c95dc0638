// The systemd units: `systemd-analyze verify` finds nothing to say, the security settings the product
// promises are there, and the exposure scores are what the README records.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const UNITS = fileURLToPath(new URL('../../systemd/', import.meta.url));
const SYSTEM_UNITS = '/usr/lib/systemd/system';

/**
 * A throwaway root for `systemd-analyze --root`: the host's own unit library (targets the units refer to),
 * our units, and an executable at every ExecStart path (the package test checks them with the real ones).
 */
function unitRoot(t: Test, edit: (name: string, text: string) => string = (_n, text) => text): string {
  const root = mkdtempSync(path.join(tmpdir(), 'phx-systemd-'));
  t.teardown(() => rmSync(root, { recursive: true, force: true }));
  cpSync(SYSTEM_UNITS, path.join(root, SYSTEM_UNITS), { recursive: true });
  mkdirSync(path.join(root, 'etc/systemd/system'), { recursive: true });
  mkdirSync(path.join(root, 'usr/bin'), { recursive: true });
  for (const name of ['phoenix-agent.service', 'phoenix-hub.service']) {
    writeFileSync(path.join(root, 'etc/systemd/system', name), edit(name, readFileSync(path.join(UNITS, name), 'utf8')));
  }
  for (const bin of ['phoenix-agent', 'phoenix-hub']) {
    writeFileSync(path.join(root, 'usr/bin', bin), '#!/bin/sh\n');
    chmodSync(path.join(root, 'usr/bin', bin), 0o755);
  }
  return root;
}

function analyze(args: string[]): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The directives a unit sets, name → values (a directive may repeat). */
function directives(name: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(path.join(UNITS, name), 'utf8').split('\n')) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (m) out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

t.test('systemd-analyze verify: both units, no complaint', async (t) => {
  const root = unitRoot(t);
  const result = analyze(['verify', `--root=${root}`, 'phoenix-agent.service', 'phoenix-hub.service']);
  t.equal(result.code, 0, result.stderr);
  t.equal(result.stderr.trim(), '', 'not even a warning (verify exits 0 on ignored lines, so silence is the test)');
});

t.test('verify is a real check: a broken directive or a missing executable is reported', async (t) => {
  const broken = unitRoot(t, (name, text) => (name === 'phoenix-agent.service' ? text.replace('KillMode=mixed', 'KillMode=sometimes') : text));
  t.match(analyze(['verify', `--root=${broken}`, 'phoenix-agent.service']).stderr, /Failed to parse kill mode specification.*sometimes/);
  const noBinary = unitRoot(t);
  rmSync(path.join(noBinary, 'usr/bin/phoenix-hub'));
  const result = analyze(['verify', `--root=${noBinary}`, 'phoenix-hub.service']);
  t.not(result.code, 0);
  t.match(result.stderr, /phoenix-hub is not executable/);
});

t.test('the settings the product promises', async (t) => {
  for (const name of ['phoenix-agent.service', 'phoenix-hub.service']) {
    const d = directives(name);
    const one = (key: string) => d.get(key)?.at(-1);
    t.equal(one('User'), 'phoenix', `${name}: a dedicated user`);
    t.equal(one('KillMode'), 'mixed', `${name}: KillMode=mixed (children stop with the service)`);
    t.equal(one('Restart'), 'on-failure', name);
    t.ok(one('StateDirectory') && one('ConfigurationDirectory') === 'phoenix', `${name}: StateDirectory= and ConfigurationDirectory=phoenix`);
    t.match(one('EnvironmentFile'), /^-\/etc\/phoenix\//, `${name}: an optional EnvironmentFile in /etc/phoenix`);
    for (const [key, value] of [['NoNewPrivileges', 'yes'], ['ProtectSystem', 'strict'], ['PrivateTmp', 'yes']]) t.equal(one(key), value, `${name}: ${key}=${value}`);
    t.ok(['yes', 'read-only'].includes(one('ProtectHome') ?? ''), `${name}: ProtectHome`);
  }
  const agent = directives('phoenix-agent.service');
  t.equal(agent.get('CapabilityBoundingSet')?.at(-1), 'CAP_DAC_READ_SEARCH CAP_SYS_PTRACE', 'agent: only what reading every /proc entry needs');
  t.equal(agent.get('AmbientCapabilities')?.at(-1), 'CAP_DAC_READ_SEARCH CAP_SYS_PTRACE', 'agent: … and the collectors inherit them');
  t.equal(directives('phoenix-hub.service').get('CapabilityBoundingSet')?.at(-1), '', 'hub: no capability at all');
});

t.test('systemd-analyze security: the exposure scores the README records', async (t) => {
  const root = unitRoot(t);
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  for (const unit of ['phoenix-agent', 'phoenix-hub']) {
    const result = analyze(['security', '--offline=yes', `--root=${root}`, `${unit}.service`]);
    const score = /Overall exposure level for .*: (\d+\.\d)/.exec(result.stdout)?.[1];
    t.ok(score, `${unit}: ${score}`);
    t.ok(Number(score) <= 2.5, `${unit}: exposure ${score} is "OK" territory`);
    t.match(readme, new RegExp(`${unit}\\.service\`?[^\\n]*exposure ${score!.replace('.', '\\.')}`), `README records ${unit} at ${score}`);
  }
});
