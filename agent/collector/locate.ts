// Finds the collector binary: --otelcol, config collector.binary, $PHOENIX_OTELCOL, the one shipped in a release
// ($PHOENIX_HOME), the cached build, otelcol-contrib on PATH.
import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { CollectorNotFoundError } from '../errors.js';
import { ConfigError, UsageError } from '../../common/errors.js';
import { cachedBuild } from './cache.js';
import { HOME_ENV } from '../../common/paths.js';

export type CollectorSource = 'flag' | 'config' | 'env' | 'release' | 'cache' | 'path';

export interface LocatedCollector {
  path: string;
  source: CollectorSource;
}

export interface LocateOptions {
  /** --otelcol PATH */
  flag?: string | undefined;
  /** collector.binary from the config file, and that file's name for messages */
  configBinary?: string | undefined;
  configSource?: string;
  env?: NodeJS.ProcessEnv;
  /** Overrides the cached-build location (tests). */
  cachedBinary?: string;
}

export const CONTRIB_BINARY = 'otelcol-contrib';
/** The collector's file name in a release, beside the executables. */
export const RELEASE_COLLECTOR = 'otelcol-phoenix';

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Throws CollectorNotFoundError (or a usage/config error for an explicit path that is wrong). */
export function locateCollector(options: LocateOptions = {}): LocatedCollector {
  const env = options.env ?? process.env;
  // An explicitly named binary that is wrong is the user's mistake: say so rather than fall through.
  if (options.flag !== undefined) {
    if (!isExecutableFile(options.flag)) throw new UsageError(`--otelcol: '${options.flag}' is not an executable file`);
    return { path: path.resolve(options.flag), source: 'flag' };
  }
  if (options.configBinary !== undefined) {
    if (!isExecutableFile(options.configBinary)) {
      throw new ConfigError(`${options.configSource ?? 'config'}: collector.binary '${options.configBinary}' is not an executable file`);
    }
    return { path: path.resolve(options.configBinary), source: 'config' };
  }
  if (env.PHOENIX_OTELCOL) {
    if (!isExecutableFile(env.PHOENIX_OTELCOL)) {
      throw new UsageError(`PHOENIX_OTELCOL: '${env.PHOENIX_OTELCOL}' is not an executable file`);
    }
    return { path: path.resolve(env.PHOENIX_OTELCOL), source: 'env' };
  }
  if (env[HOME_ENV]) {
    const shipped = path.join(env[HOME_ENV], RELEASE_COLLECTOR);
    if (isExecutableFile(shipped)) return { path: shipped, source: 'release' };
  }
  const cached = options.cachedBinary ?? cachedBuild(env).binary;
  if (isExecutableFile(cached)) return { path: cached, source: 'cache' };
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, CONTRIB_BINARY);
    if (isExecutableFile(candidate)) return { path: candidate, source: 'path' };
  }
  throw new CollectorNotFoundError(
    [
      'no OpenTelemetry Collector binary found. Looked for: --otelcol PATH, collector.binary in the config,',
      `$PHOENIX_OTELCOL, ${RELEASE_COLLECTOR} in a release's directory, the cached build at ${cached}, and ${CONTRIB_BINARY} on PATH.`,
      'Get one by either:',
      '  - building Phoenix\'s minimal collector (needs Go >= 1.25): npm run build:collector',
      '  - downloading otelcol-contrib from the official OpenTelemetry Collector releases',
      '    (opentelemetry-collector-releases) and passing --otelcol PATH or setting PHOENIX_OTELCOL.',
    ].join('\n'),
  );
}
