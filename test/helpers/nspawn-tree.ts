// A minimal Debian tree with systemd as its init, made once with debootstrap and cached outside git for systemd-nspawn.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { cacheRoot } from '../../agent/collector/cache.js';
import { describeResult, runCommand } from './nspawn-command.js';
import { isAlive } from './process.js';

/** What the tree holds beyond minbase: systemd as init, the bus systemctl talks over, and the .deb's one extra dependency. */
const INCLUDE = ['systemd', 'systemd-sysv', 'dbus', 'libstdc++6'];
const VARIANT = 'minbase';
const SOURCES_DIR = '/etc/apt/sources.list.d';
const SOURCES_LIST = '/etc/apt/sources.list';

/** The host's Debian release (the tree is the same release, so the packaged executables find the libraries they were built against). */
export function hostCodename(osRelease = readFileSync('/etc/os-release', 'utf8')): string {
  const codename = /^VERSION_CODENAME=("?)([a-z]+)\1$/m.exec(osRelease)?.[2];
  if (!codename) throw new Error('/etc/os-release names no VERSION_CODENAME: not a Debian release debootstrap knows');
  return codename;
}

/**
 * The Debian archive apt itself uses for `suite`: the first URI of a deb822 `.sources` stanza (or a one-line
 * `deb` entry) listing that suite. Taken from apt's configuration so the tree comes from wherever this machine's
 * packages come from (a mirror, a proxy) and no archive address is written here.
 */
export function aptArchive(suite: string, files = aptSourceFiles()): string {
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const field = (name: string) => new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza)?.[1]?.trim().split(/\s+/) ?? [];
        if (field('Types').includes('deb') && field('Suites').includes(suite) && !field('Enabled').includes('no')) {
          const uri = field('URIs')[0];
          if (uri) return uri;
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line.trim());
        if (m && m[2] === suite) return m[1]!;
      }
    }
  }
  throw new Error(`no deb source for ${suite} in ${files.join(', ') || `${SOURCES_DIR} or ${SOURCES_LIST}`}: debootstrap needs the archive apt uses`);
}

function aptSourceFiles(): string[] {
  const dropIns = existsSync(SOURCES_DIR)
    ? readdirSync(SOURCES_DIR).filter((f) => f.endsWith('.sources') || f.endsWith('.list')).sort().map((f) => path.join(SOURCES_DIR, f))
    : [];
  return [...(existsSync(SOURCES_LIST) ? [SOURCES_LIST] : []), ...dropIns];
}

export interface CachedTree {
  dir: string;
  /** True when this call ran debootstrap (the cold case). */
  built: boolean;
}

/**
 * The cached tree for the host's release: `<cacheRoot>/nspawn/<key>`, key = first 16 hex of the sha256 of what
 * debootstrap is asked for (release, variant, packages, architecture). Made in a `.partial-` directory and
 * renamed when complete, so a run killed half-way leaves nothing that looks finished. Runs as root (debootstrap).
 * The caller must not write into the tree: boot it through an overlay (see nspawn.ts).
 */
export async function debianTree(env: NodeJS.ProcessEnv = process.env): Promise<CachedTree> {
  const suite = hostCodename();
  const spec = { suite, variant: VARIANT, include: INCLUDE, arch: process.arch };
  const key = createHash('sha256').update(JSON.stringify(spec)).digest('hex').slice(0, 16);
  const parent = path.join(cacheRoot(env), 'nspawn');
  const dir = path.join(parent, key);
  if (existsSync(path.join(dir, 'etc', 'os-release'))) return { dir, built: false };

  mkdirSync(parent, { recursive: true });
  // Partial trees of runs that died (their pid is in the name) are garbage.
  for (const name of readdirSync(parent)) {
    const m = /^\.partial-[0-9a-f]{16}-(\d+)$/.exec(name);
    if (m && !isAlive(Number(m[1]))) rmSync(path.join(parent, name), { recursive: true, force: true });
  }
  const partial = path.join(parent, `.partial-${key}-${process.pid}`);
  const args = [`--variant=${VARIANT}`, `--include=${INCLUDE.join(',')}`, suite, partial, aptArchive(suite)];
  // About a minute on a 2-core VM; ten is a stuck download.
  const sbin = { ...env, PATH: `${env.PATH ?? ''}:/usr/sbin:/sbin` };
  const result = await runCommand('debootstrap', args, { timeoutMs: 10 * 60_000, env: sbin });
  if (result.code !== 0) {
    rmSync(partial, { recursive: true, force: true });
    throw new Error(describeResult(`debootstrap ${args.join(' ')}`, result));
  }
  try {
    renameSync(partial, dir);
  } catch (error) {
    // Another run finished the same tree first: use its copy.
    rmSync(partial, { recursive: true, force: true });
    if (!existsSync(path.join(dir, 'etc', 'os-release'))) throw error;
  }
  return { dir, built: true };
}
