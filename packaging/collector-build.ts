// Builds Phoenix's minimal collector with the OpenTelemetry Collector Builder and caches it by manifest hash.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CollectorBuildError } from './errors.js';
import type { Logger } from '../common/logger.js';
import { cacheRoot, cachedBuild, COLLECTOR_BINARY_NAME, manifestHash } from '../agent/collector/cache.js';

export interface BuildOptions {
  manifestPath: string;
  env?: NodeJS.ProcessEnv;
  logger: Logger;
  /** Rebuild even when a cached binary exists. */
  force?: boolean;
  /** How often to log "still building" while the compiler is quiet. */
  heartbeatMs?: number;
}

export interface BuildResult {
  binary: string;
  cached: boolean;
  buildSeconds: number | null;
  sizeBytes: number;
  builderVersion: string;
}

const MIN_GO = [1, 25] as const;

/** The builder is released with the core modules: use the manifest's go.opentelemetry.io/collector v0.x version. */
export function builderVersion(manifest: string): string {
  const match = /gomod:\s*go\.opentelemetry\.io\/collector\/\S+\s+(v0\.\d+\.\d+)/.exec(manifest);
  if (!match) throw new CollectorBuildError('manifest has no go.opentelemetry.io/collector v0.x module to take the builder version from');
  return match[1]!;
}

export async function buildCollector(options: BuildOptions): Promise<BuildResult> {
  const env = options.env ?? process.env;
  const { logger } = options;
  const manifest = await readFile(options.manifestPath, 'utf8');
  const version = builderVersion(manifest);
  const target = cachedBuild(env, options.manifestPath);

  if (!options.force) {
    const existing = await stat(target.binary).catch(() => null);
    if (existing?.isFile()) {
      logger.info({ binary: target.binary }, 'collector already built for this manifest (cached)');
      return { binary: target.binary, cached: true, buildSeconds: null, sizeBytes: existing.size, builderVersion: version };
    }
  }

  await checkGo(env, logger);
  const started = Date.now();
  const toolsDir = path.join(cacheRoot(env), 'tools', `builder-${version}`);
  const builder = path.join(toolsDir, 'builder');
  if (!(await stat(builder).catch(() => null))) {
    logger.info({ version }, 'installing the OpenTelemetry Collector Builder with go install');
    await run('go', ['install', `go.opentelemetry.io/collector/cmd/builder@${version}`], { ...env, GOBIN: toolsDir }, logger, options);
  }

  const workDir = path.join(cacheRoot(env), 'otelcol', `build-${manifestHash(options.manifestPath)}`);
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const workManifest = path.join(workDir, 'manifest.yaml');
  // Same manifest, but build into the cache's work dir rather than the repository.
  await writeFile(workManifest, manifest.replace(/^(\s*output_path:).*$/m, `$1 ${path.join(workDir, 'out')}`));
  logger.info({ workDir }, 'building the collector: downloading modules and compiling takes several minutes the first time');
  await run(builder, ['--config', workManifest], env, logger, options);

  await mkdir(target.dir, { recursive: true });
  await rename(path.join(workDir, 'out', COLLECTOR_BINARY_NAME), target.binary);
  await rm(workDir, { recursive: true, force: true });
  const sizeBytes = (await stat(target.binary)).size;
  const buildSeconds = Math.round((Date.now() - started) / 1000);
  await writeFile(
    target.infoFile,
    `${JSON.stringify({ builderVersion: version, buildSeconds, sizeBytes, builtAt: new Date().toISOString() }, null, 2)}\n`,
  );
  logger.info({ binary: target.binary, buildSeconds, sizeMiB: +(sizeBytes / 2 ** 20).toFixed(1) }, 'collector built');
  return { binary: target.binary, cached: false, buildSeconds, sizeBytes, builderVersion: version };
}

async function checkGo(env: NodeJS.ProcessEnv, logger: Logger): Promise<void> {
  let output = '';
  try {
    output = await capture('go', ['env', 'GOVERSION'], env);
  } catch (error) {
    throw new CollectorBuildError(
      'Go is not installed (no `go` on PATH). Install Go >= 1.25, or use an existing otelcol-contrib binary with --otelcol PATH',
      { cause: error },
    );
  }
  const match = /go(\d+)\.(\d+)/.exec(output);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  if (major < MIN_GO[0] || (major === MIN_GO[0] && minor < MIN_GO[1])) {
    throw new CollectorBuildError(`Go ${MIN_GO.join('.')} or newer is needed to build the collector, found '${output.trim()}'`);
  }
  logger.debug({ go: output.trim() }, 'using Go');
}

function capture(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', reject);
    child.once('close', (code) => (code === 0 ? resolve(out) : reject(new CollectorBuildError(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

/** Runs a build step, relaying its output lines to the logger and a heartbeat while it is quiet. */
function run(command: string, args: string[], env: NodeJS.ProcessEnv, logger: Logger, options: BuildOptions): Promise<void> {
  const step = path.basename(command);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const relay = (line: string) => {
      tail.push(line);
      if (tail.length > 20) tail.shift();
      logger.info({ step }, line);
    };
    createInterface({ input: child.stdout }).on('line', relay);
    createInterface({ input: child.stderr }).on('line', relay);
    const heartbeat = setInterval(
      () => logger.info({ step, elapsedSeconds: Math.round((Date.now() - started) / 1000) }, 'still building…'),
      options.heartbeatMs ?? 15_000,
    );
    child.once('error', (error) => {
      clearInterval(heartbeat);
      reject(new CollectorBuildError(`cannot run ${command}: ${error.message}`, { cause: error }));
    });
    child.once('close', (code, signal) => {
      clearInterval(heartbeat);
      if (code === 0) resolve();
      else reject(new CollectorBuildError(`${step} failed (${signal ?? `exit ${code}`}); last output:\n${tail.join('\n')}`));
    });
  });
}
