// Builds phoenix_<version>-1_<arch>.deb with dpkg-deb from a release directory (packaging/release.ts):
// the executables and collector in /usr/lib/phoenix (linked from /usr/bin), the units, a default config.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { packageRoot } from '../common/paths.js';
import type { Release } from './release.js';

export const DEB_PACKAGE = 'phoenix';
export const INSTALL_DIR = '/usr/lib/phoenix';
export const UNIT_DIR = '/lib/systemd/system';

const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

export interface Deb {
  file: string;
  version: string;
}

function control(version: string, arch: string, installedKiB: number): string {
  return [
    `Package: ${DEB_PACKAGE}`,
    `Version: ${version}`,
    `Architecture: ${arch}`,
    'Maintainer: Phoenix maintainers <maintainers@phoenix.invalid>',
    `Installed-Size: ${installedKiB}`,
    'Depends: adduser, libc6 (>= 2.28), libstdc++6 (>= 8)',
    'Section: admin',
    'Priority: optional',
    'Homepage: https://phoenix.invalid/',
    'Description: measure OpenTelemetry Collector pipeline variants side by side',
    ' Phoenix runs two OpenTelemetry Collector pipeline variants (a baseline and an',
    ' optimized one) on the host, and measures what each costs (collector CPU and',
    ' memory, series and estimated price) and what it keeps (which of the host\'s',
    ' critical processes stay visible). The agent reports to a hub that compares the',
    ' variants across the fleet. This package holds the agent, the hub, the',
    ' collector they run and their systemd units; the agent starts at install.',
    '',
  ].join('\n');
}

function duKiB(dir: string): number {
  return Number(execFileSync('du', ['-sk', '--apparent-size', dir], { encoding: 'utf8' }).split('\t')[0]);
}

/** Lays out the package tree under `stage` and builds the .deb into `outDir`. */
export function buildDeb(release: Release, outDir: string): Deb {
  const root = packageRoot();
  const arch = ARCH[process.arch] ?? process.arch;
  const version = `${release.version}-1`;
  const stage = path.join(outDir, `.stage-${DEB_PACKAGE}`);
  rmSync(stage, { recursive: true, force: true });
  const at = (p: string) => path.join(stage, p);

  cpSync(release.dir, at(INSTALL_DIR), { recursive: true, filter: (f) => path.basename(f) !== 'README.md' });
  mkdirSync(at('/usr/bin'), { recursive: true });
  for (const program of ['phoenix-agent', 'phoenix-hub']) symlinkSync(`../lib/phoenix/${program}`, at(`/usr/bin/${program}`));
  mkdirSync(at(UNIT_DIR), { recursive: true });
  for (const unit of ['phoenix-agent.service', 'phoenix-hub.service']) {
    copyFileSync(path.join(root, 'systemd', unit), at(`${UNIT_DIR}/${unit}`));
  }
  // The units point at the collector in the package: /usr/lib/phoenix/otelcol-phoenix.
  mkdirSync(at('/etc/phoenix'), { recursive: true });
  copyFileSync(path.join(root, 'packaging', 'deb', 'agent.yaml'), at('/etc/phoenix/agent.yaml'));
  const doc = at('/usr/share/doc/phoenix');
  mkdirSync(doc, { recursive: true });
  copyFileSync(path.join(root, 'packaging', 'deb', 'copyright'), path.join(doc, 'copyright'));
  writeFileSync(path.join(doc, 'README.md.gz'), gzipSync(readFileSync(path.join(root, 'README.md')), { level: 9 }));
  const changelog = `phoenix (${version}) unstable; urgency=medium\n\n  * Release ${release.version}.\n\n -- Phoenix maintainers <maintainers@phoenix.invalid>  ${new Date('2026-11-22T00:00:00Z').toUTCString().replace('GMT', '+0000')}\n`;
  writeFileSync(path.join(doc, 'changelog.Debian.gz'), gzipSync(changelog, { level: 9 }));
  mkdirSync(at('/usr/share/man/man1'), { recursive: true });
  for (const page of ['phoenix-agent.1', 'phoenix-hub.1']) {
    writeFileSync(at(`/usr/share/man/man1/${page}.gz`), gzipSync(readFileSync(path.join(root, 'packaging', 'deb', 'man', page)), { level: 9 }));
  }
  // A native module is a shared object: shipped stripped, as Debian expects.
  execFileSync('strip', ['--strip-unneeded', at(`${INSTALL_DIR}/better_sqlite3.node`)]);
  mkdirSync(at('/usr/share/lintian/overrides'), { recursive: true });
  copyFileSync(path.join(root, 'packaging', 'deb', 'lintian-overrides'), at('/usr/share/lintian/overrides/phoenix'));

  const installedKiB = duKiB(stage);
  mkdirSync(at('/DEBIAN'), { recursive: true });
  writeFileSync(at('/DEBIAN/control'), control(version, arch, installedKiB));
  writeFileSync(at('/DEBIAN/conffiles'), '/etc/phoenix/agent.yaml\n');
  for (const script of ['postinst', 'prerm', 'postrm']) {
    copyFileSync(path.join(root, 'packaging', 'deb', script), at(`/DEBIAN/${script}`));
    chmodSync(at(`/DEBIAN/${script}`), 0o755);
  }
  execFileSync('chmod', ['-R', 'u=rwX,go=rX', stage]);
  for (const exe of ['phoenix-agent', 'phoenix-hub', 'otelcol-phoenix']) chmodSync(at(`${INSTALL_DIR}/${exe}`), 0o755);
  chmodSync(at(`${INSTALL_DIR}/better_sqlite3.node`), 0o644);
  for (const script of ['postinst', 'prerm', 'postrm']) chmodSync(at(`/DEBIAN/${script}`), 0o755);

  const file = path.join(outDir, `${DEB_PACKAGE}_${version}_${arch}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', '-Zgzip', '-z6', '--build', stage, file], { stdio: 'pipe' });
  rmSync(stage, { recursive: true, force: true });
  return { file, version };
}
