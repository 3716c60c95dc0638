// The collector build script's flow, with a stand-in `go` toolchain (the real build runs in `npm test`'s set-up).
import t, { type Test } from 'tap';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildCollector } from '../../packaging/collector-build.js';
import { cachedBuild } from '../../agent/collector/cache.js';
import { CollectorBuildError } from '../../packaging/errors.js';
import { collectorManifestPath } from '../../common/paths.js';
import { captureLogs } from '../helpers/logs.js';

// A fake `go`: `go env GOVERSION` prints $FAKE_GO_VERSION; `go install …builder@V` writes a fake builder
// into $GOBIN that "builds" by writing an executable at the manifest's output_path after a pause.
const FAKE_GO = `#!/bin/sh
if [ "$1" = env ]; then echo "$FAKE_GO_VERSION"; exit 0; fi
if [ "$1" = install ]; then
  mkdir -p "$GOBIN"
  cat > "$GOBIN/builder" <<'EOS'
#!/bin/sh
out=$(sed -n 's/^ *output_path: *//p' "$2")
echo "Compiling"
[ -n "$FAKE_BUILD_FAIL" ] && { echo "compile error: boom" >&2; exit 1; }
sleep 0.3
mkdir -p "$out" && printf '#!/bin/sh\\necho fake\\n' > "$out/otelcol-phoenix" && chmod +x "$out/otelcol-phoenix"
EOS
  chmod +x "$GOBIN/builder"
  exit 0
fi
exit 2
`;

async function toolchain(t: Test, version: string, extra: NodeJS.ProcessEnv = {}) {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-build-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(path.join(dir, 'bin'));
  await writeFile(path.join(dir, 'bin', 'go'), FAKE_GO);
  await chmod(path.join(dir, 'bin', 'go'), 0o755);
  return { dir, env: { PATH: `${path.join(dir, 'bin')}:/usr/bin:/bin`, PHOENIX_CACHE_DIR: path.join(dir, 'cache'), FAKE_GO_VERSION: version, ...extra } };
}

t.test('builds once into the cache keyed by the manifest, then reuses it', async (t) => {
  const { env } = await toolchain(t, 'go1.26.8');
  const { logger, lines } = captureLogs('info');
  const built = await buildCollector({ manifestPath: collectorManifestPath(), env, logger, heartbeatMs: 100 });
  t.equal(built.cached, false);
  t.equal(built.binary, cachedBuild(env).binary);
  t.ok((await stat(built.binary)).mode & 0o111, 'executable');
  t.equal(built.builderVersion, 'v0.159.0');
  t.ok(lines.some((l) => l.msg === 'still building…'), 'progress is shown while the build is quiet');
  t.ok(lines.some((l) => l.step === 'builder' && l.msg === 'Compiling'), "the builder's own output is relayed");
  const info = JSON.parse(await readFile(cachedBuild(env).infoFile, 'utf8'));
  t.equal(info.sizeBytes, built.sizeBytes);
  const again = await buildCollector({ manifestPath: collectorManifestPath(), env, logger });
  t.equal(again.cached, true, 'second call finds the cached binary');
  t.equal(again.buildSeconds, null);
});

t.test('no Go, too old a Go, and a failing build are clear errors', async (t) => {
  const { logger } = captureLogs('warn');
  const noGo = await toolchain(t, '');
  const err1 = await buildCollector({ manifestPath: collectorManifestPath(), env: { ...noGo.env, PATH: '/nonexistent' }, logger }).catch((e: unknown) => e);
  t.type(err1, CollectorBuildError);
  t.match((err1 as Error).message, /Go is not installed.*--otelcol PATH/);
  const old = await toolchain(t, 'go1.22.5');
  const err2 = await buildCollector({ manifestPath: collectorManifestPath(), env: old.env, logger }).catch((e: unknown) => e);
  t.match((err2 as Error).message, /Go 1\.25 or newer is needed to build the collector, found 'go1\.22\.5'/);
  const failing = await toolchain(t, 'go1.25.0', { FAKE_BUILD_FAIL: '1' });
  const err3 = await buildCollector({ manifestPath: collectorManifestPath(), env: failing.env, logger }).catch((e: unknown) => e);
  t.type(err3, CollectorBuildError);
  t.match((err3 as Error).message, /builder failed \(exit 1\); last output:\n(.|\n)*compile error: boom/);
});
