// Assembles the Phoenix container image without a container engine: one layer holding the release
// (/usr/lib/phoenix) and exactly the shared libraries and tools it runs with, written as an OCI image
// layout (index.json, blobs/sha256/…) and as a tar archive of that layout (`docker load`, skopeo, crane).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Release } from './release.js';

/**
 * Programs the agent runs inside the image: none. On Linux it reads /proc itself (the process list, pidusage),
 * so the image holds no shell and no ps.
 */
export const IMAGE_TOOLS: Record<string, string> = {};
export const IMAGE_USER = '65532:65532';
const CREATED = '2026-11-22T00:00:00Z';
const ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64' };

export interface ImageResult {
  /** The OCI image layout directory. */
  layout: string;
  /** A tar of that layout. */
  archive: string;
  /** The unpacked root filesystem the layer was made from. */
  rootfs: string;
  /** sha256:… of the image manifest. */
  manifestDigest: string;
  reference: string;
}

const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

/** The shared libraries an ELF file loads, as the dynamic loader would find them (ldd). */
export function sharedLibraries(file: string): string[] {
  let out: string;
  try {
    out = execFileSync('ldd', [file], { encoding: 'utf8' });
  } catch {
    return []; // static (the collector): "not a dynamic executable"
  }
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s+(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

/** Copies `source` (symlinks resolved) to `target` inside `rootfs`, keeping the mode. */
function place(rootfs: string, source: string, target = source): void {
  const to = path.join(rootfs, target);
  if (existsSync(to)) return;
  mkdirSync(path.dirname(to), { recursive: true });
  copyFileSync(realpathSync(source), to);
  chmodSync(to, 0o755);
}

/** Lays out the image's root filesystem: the release, the tools, every library either needs. */
function buildRootfs(release: Release, rootfs: string): void {
  rmSync(rootfs, { recursive: true, force: true });
  cpSync(release.dir, path.join(rootfs, 'usr/lib/phoenix'), { recursive: true, filter: (f) => path.basename(f) !== 'README.md' });
  const elves = [release.agent, release.hub, path.join(release.dir, 'better_sqlite3.node'), ...Object.keys(IMAGE_TOOLS)];
  for (const [target, source] of Object.entries(IMAGE_TOOLS)) place(rootfs, source, target);
  for (const elf of elves) for (const lib of sharedLibraries(elf)) place(rootfs, lib);
  mkdirSync(path.join(rootfs, 'usr/bin'), { recursive: true });
  for (const program of ['phoenix-agent', 'phoenix-hub']) symlinkSync(`../lib/phoenix/${program}`, path.join(rootfs, 'usr/bin', program));
  mkdirSync(path.join(rootfs, 'etc'), { recursive: true });
  writeFileSync(path.join(rootfs, 'etc/passwd'), 'root:x:0:0:root:/root:/sbin/nologin\nphoenix:x:65532:65532:phoenix:/nonexistent:/sbin/nologin\n');
  writeFileSync(path.join(rootfs, 'etc/group'), 'root:x:0:\nphoenix:x:65532:\n');
  for (const dir of ['tmp', 'proc', 'sys', 'dev', 'etc/phoenix', 'var/lib/phoenix-agent', 'var/lib/phoenix-hub', 'root']) mkdirSync(path.join(rootfs, dir), { recursive: true });
  chmodSync(path.join(rootfs, 'tmp'), 0o1777);
}

/** Builds the image from a release; `outDir` receives `oci/` (the layout), `phoenix-image.oci.tar` and `rootfs/`. */
export function buildImage(release: Release, outDir: string, repository = 'phoenix'): ImageResult {
  const rootfs = path.join(outDir, 'rootfs');
  buildRootfs(release, rootfs);
  // A reproducible layer: sorted entries, fixed times, root-owned.
  const layerTar = path.join(outDir, 'layer.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=posix', '--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime', '-C', rootfs, '-cf', layerTar, '.']);
  const layer = readFileSync(layerTar);
  const layerGz = gzipSync(layer, { level: 6 });
  rmSync(layerTar);

  const reference = `${repository}:${release.version}`;
  const config = Buffer.from(
    JSON.stringify({
      created: CREATED,
      architecture: ARCH[process.arch] ?? process.arch,
      os: 'linux',
      config: {
        User: IMAGE_USER,
        Env: ['PATH=/usr/sbin:/usr/bin:/sbin:/bin', 'PHOENIX_HOME=/usr/lib/phoenix'],
        Entrypoint: ['/usr/lib/phoenix/phoenix-agent'],
        Cmd: ['run', '--config', '/etc/phoenix/agent.yaml'],
        Labels: { 'org.opencontainers.image.title': 'phoenix', 'org.opencontainers.image.version': release.version },
      },
      rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
      history: [{ created: CREATED, created_by: 'packaging/image.ts: the Phoenix release with the libraries and tools it runs with' }],
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(layerGz), size: layerGz.length }],
    }),
  );
  const layout = path.join(outDir, 'oci');
  rmSync(layout, { recursive: true, force: true });
  mkdirSync(path.join(layout, 'blobs', 'sha256'), { recursive: true });
  for (const blob of [config, manifest, layerGz]) writeFileSync(path.join(layout, 'blobs', 'sha256', sha256(blob).slice(7)), blob);
  writeFileSync(path.join(layout, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const manifestDigest = sha256(manifest);
  writeFileSync(
    path.join(layout, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [
        {
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: manifestDigest,
          size: manifest.length,
          annotations: { 'org.opencontainers.image.ref.name': release.version, 'io.containerd.image.name': `docker.io/library/${reference}` },
        },
      ],
    }),
  );
  const archive = path.join(outDir, 'phoenix-image.oci.tar');
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '-C', layout, '-cf', archive, '.']);
  return { layout, archive, rootfs, manifestDigest, reference };
}
