// The container image, built without a container engine: a valid OCI layout (checked by our own digest
// walk and by skopeo), whose layer alone — unpacked into an empty root — runs the agent and the hub.
import t from 'tap';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { buildImage, IMAGE_USER, type ImageResult } from '../../packaging/image.js';
import { buildRelease } from '../../packaging/release.js';
import { silentLogger } from '../../common/logger.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import { realCollector } from '../helpers/collector.js';
import { checkHubServes } from '../helpers/hub-command.js';

const work = mkdtempSync(path.join(tmpdir(), 'phx-image-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const sha256 = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

let image: ImageResult;
let rebuilt: ImageResult;
let root: string;
t.before(async () => {
  const release = await buildRelease({ outDir: path.join(work, 'release'), collectorBinary: realCollector(), logger: silentLogger() });
  image = buildImage(release, path.join(work, 'image'));
  rebuilt = buildImage(release, path.join(work, 'again'));
  // Only the image's own layer, unpacked into an empty directory, is run below.
  root = path.join(work, 'unpacked');
  mkdirSync(root);
  const index = JSON.parse(readFileSync(path.join(image.layout, 'index.json'), 'utf8'));
  const manifest = JSON.parse(readFileSync(blobPath(index.manifests[0].digest), 'utf8'));
  execFileSync('tar', ['-xzf', blobPath(manifest.layers[0].digest), '-C', root]);
});

function blobPath(digest: string): string {
  return path.join(image.layout, 'blobs', 'sha256', digest.replace('sha256:', ''));
}

/** Runs `argv` chrooted into the unpacked image, with the host's /proc (like hostPID) and /dev. */
function inImage(argv: string[], user = '0:0'): string[] {
  const q = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const script = [
    `mount --rbind /dev ${q(path.join(root, 'dev'))}`,
    `mount --rbind /proc ${q(path.join(root, 'proc'))}`,
    // The image's environment (its config's Env), set before entering it: the image has no env(1).
    `exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root PHOENIX_HOME=/usr/lib/phoenix chroot --userspec=${user} ${q(root)} ${argv.map(q).join(' ')}`,
  ].join(' && ');
  return ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', script];
}

function runInImage(argv: string[]): { code: number | null; stdout: string; stderr: string } {
  const [cmd, ...args] = inImage(argv);
  const r = spawnSync(cmd!, args, { encoding: 'utf8', timeout: 180_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

t.test('a valid OCI image layout: every blob matches its digest and size; skopeo reads it', async (t) => {
  const index = JSON.parse(readFileSync(path.join(image.layout, 'index.json'), 'utf8'));
  t.same(JSON.parse(readFileSync(path.join(image.layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
  const descriptor = index.manifests[0];
  const manifestBytes = readFileSync(blobPath(descriptor.digest));
  t.same([sha256(manifestBytes), manifestBytes.length], [descriptor.digest, descriptor.size], 'manifest digest and size');
  t.equal(descriptor.digest, image.manifestDigest);
  const manifest = JSON.parse(manifestBytes.toString());
  for (const d of [manifest.config, ...manifest.layers]) {
    const blob = readFileSync(blobPath(d.digest));
    t.same([sha256(blob), blob.length], [d.digest, d.size], `${d.mediaType}: digest and size`);
  }
  const config = JSON.parse(readFileSync(blobPath(manifest.config.digest), 'utf8'));
  t.same(config.rootfs.diff_ids, [sha256(gunzipSync(readFileSync(blobPath(manifest.layers[0].digest))))], 'diff_id = digest of the uncompressed layer');
  t.match(config, { os: 'linux', config: { User: IMAGE_USER, Entrypoint: ['/usr/lib/phoenix/phoenix-agent'] } });

  t.equal(rebuilt.manifestDigest, image.manifestDigest, 'reproducible: the same release gives the same image digest');

  const inspect = spawnSync('skopeo', ['inspect', `oci-archive:${image.archive}`], { encoding: 'utf8' });
  t.equal(inspect.status, 0, inspect.stderr);
  t.match(JSON.parse(inspect.stdout), { Digest: image.manifestDigest, Os: 'linux', Layers: [manifest.layers[0].digest] }, 'skopeo agrees on the digests');
  const copy = spawnSync('skopeo', ['copy', '--quiet', `oci:${image.layout}`, `dir:${path.join(work, 'copied')}`], { encoding: 'utf8' });
  t.equal(copy.status, 0, `skopeo copies it (verifying every blob): ${copy.stderr}`);
});

t.test('the unpacked image runs the agent: --version, validate, a full round over the host processes', { timeout: 240_000 }, async (t) => {
  t.equal(runInImage(['/usr/bin/phoenix-agent', '--version']).stdout.trim(), JSON.parse(readFileSync(path.join(root, 'usr/lib/phoenix/package.json'), 'utf8')).version);
  const validate = runInImage(['/usr/bin/phoenix-agent', 'validate']);
  t.equal(validate.code, 0, validate.stderr);
  writeFileSync(path.join(root, 'etc/phoenix/agent.yaml'), 'ports: { base: 0 }\nstateDir: /var/lib/phoenix-agent\npipeline: { collectionInterval: 2s, metricExpiration: 30s }\nlog: { level: warn }\n');
  const once = runInImage(['/usr/bin/phoenix-agent', 'run', '--once', '--json', '--config', '/etc/phoenix/agent.yaml']);
  t.equal(once.code, 0, once.stderr.slice(-2000));
  const report = JSON.parse(once.stdout) as { host: { processCount: number }; variants: { series: number }[] };
  t.ok(report.host.processCount > 10, `the agent in the image read ${report.host.processCount} host processes from /proc`);
  t.ok(report.variants.every((v) => v.series > 0), 'both collectors in the image produced series');
});

t.test('the unpacked image runs the hub as its unprivileged user', { timeout: 120_000 }, async (t) => {
  writeFileSync(path.join(root, 'etc/phoenix/hub-tokens'), 'image-token-0123456789\n');
  execFileSync('chown', ['-R', IMAGE_USER, path.join(root, 'var/lib/phoenix-hub')]);
  const port = await autoPort();
  await checkHubServes(t, inImage(['/usr/bin/phoenix-hub', '--port', String(port), '--data-dir', '/var/lib/phoenix-hub', '--token-file', '/etc/phoenix/hub-tokens', '--log-level', 'warn'], IMAGE_USER), port, () => path.join(root, 'var/lib/phoenix-hub/admin-token'));
});
