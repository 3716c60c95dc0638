// Finding the collector binary: flag, config, environment, a release's own, cached build, otelcol-contrib on PATH.
import t from 'tap';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cachedBuild, manifestHash } from '../../../agent/collector/cache.js';
import { builderVersion } from '../../../packaging/collector-build.js';
import { locateCollector } from '../../../agent/collector/locate.js';
import { CollectorNotFoundError } from '../../../agent/errors.js';
import { ConfigError, UsageError } from '../../../common/errors.js';
import { collectorManifestPath } from '../../../common/paths.js';
import { readFileSync } from 'node:fs';

t.test('lookup order and errors', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-locate-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const exe = async (file: string) => {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, '#!/bin/sh\n');
    await chmod(file, 0o755);
    return file;
  };
  const flag = await exe(path.join(dir, 'flag', 'otelcol'));
  const fromConfig = await exe(path.join(dir, 'config', 'otelcol'));
  const fromEnv = await exe(path.join(dir, 'env', 'otelcol'));
  const cacheDir = path.join(dir, 'cache');
  const cached = await exe(cachedBuild({ PHOENIX_CACHE_DIR: cacheDir }).binary);
  const contrib = await exe(path.join(dir, 'bin', 'otelcol-contrib'));
  const env = { PHOENIX_CACHE_DIR: cacheDir, PATH: path.join(dir, 'bin'), PHOENIX_OTELCOL: fromEnv };

  t.same(locateCollector({ flag, configBinary: fromConfig, env }), { path: flag, source: 'flag' });
  t.same(locateCollector({ configBinary: fromConfig, env }), { path: fromConfig, source: 'config' });
  t.same(locateCollector({ env }), { path: fromEnv, source: 'env' });
  const release = path.join(dir, 'release');
  const shipped = await exe(path.join(release, 'otelcol-phoenix'));
  t.same(locateCollector({ env: { ...env, PHOENIX_OTELCOL: '', PHOENIX_HOME: release } }), { path: shipped, source: 'release' });
  t.same(locateCollector({ env: { ...env, PHOENIX_OTELCOL: '', PHOENIX_HOME: path.join(dir, 'flag') } }), { path: cached, source: 'cache' }, 'a home without a collector falls through');
  t.same(locateCollector({ env: { ...env, PHOENIX_OTELCOL: '' } }), { path: cached, source: 'cache' });
  t.same(locateCollector({ env: { PATH: path.join(dir, 'bin'), PHOENIX_CACHE_DIR: path.join(dir, 'none') } }), { path: contrib, source: 'path' });

  t.throws(() => locateCollector({ flag: path.join(dir, 'missing'), env }), UsageError);
  t.throws(() => locateCollector({ configBinary: path.join(dir, 'flag'), configSource: 'a.yaml', env }), ConfigError, 'a directory is not a binary');
  const notExecutable = path.join(dir, 'plain');
  await writeFile(notExecutable, 'x');
  t.throws(() => locateCollector({ env: { PHOENIX_OTELCOL: notExecutable } }), /PHOENIX_OTELCOL: '.*plain' is not an executable file/);
  const error = t.throws(() => locateCollector({ env: { PATH: path.join(dir, 'empty'), PHOENIX_CACHE_DIR: path.join(dir, 'none') } })) as Error;
  t.type(error, CollectorNotFoundError);
  t.match(error.message, /npm run build:collector/);
});

t.test('the cache is keyed by the manifest content, and the builder version comes from it', async (t) => {
  const manifest = readFileSync(collectorManifestPath(), 'utf8');
  t.match(manifestHash(), /^[0-9a-f]{16}$/);
  t.equal(builderVersion(manifest), 'v0.159.0');
  t.throws(() => builderVersion('dist: {}\n'), /no go\.opentelemetry\.io\/collector v0\.x module/);
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-manifest-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const changed = path.join(dir, 'manifest.yaml');
  await writeFile(changed, `${manifest}\n# changed\n`);
  t.not(manifestHash(changed), manifestHash(), 'a changed manifest means a new build');
  t.match(cachedBuild({ PHOENIX_CACHE_DIR: dir }, changed).binary, new RegExp(`${dir}/otelcol/${manifestHash(changed)}/otelcol-phoenix$`));
});
