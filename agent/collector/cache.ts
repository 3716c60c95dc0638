// Where the Phoenix collector build is cached: outside git, keyed by the manifest's content hash.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { collectorManifestPath } from '../../common/paths.js';

export const COLLECTOR_BINARY_NAME = 'otelcol-phoenix';

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.PHOENIX_CACHE_DIR) return env.PHOENIX_CACHE_DIR;
  if (env.XDG_CACHE_HOME) return path.join(env.XDG_CACHE_HOME, 'phoenix');
  return path.join(homedir(), '.cache', 'phoenix');
}

/** First 16 hex digits of the manifest's SHA-256: any change to the manifest means a new build. */
export function manifestHash(manifestPath = collectorManifestPath()): string {
  return createHash('sha256').update(readFileSync(manifestPath)).digest('hex').slice(0, 16);
}

export interface CachedBuild {
  dir: string;
  binary: string;
  infoFile: string;
}

export function cachedBuild(env: NodeJS.ProcessEnv = process.env, manifestPath = collectorManifestPath()): CachedBuild {
  const dir = path.join(cacheRoot(env), 'otelcol', manifestHash(manifestPath));
  return { dir, binary: path.join(dir, COLLECTOR_BINARY_NAME), infoFile: path.join(dir, 'build-info.json') };
}
