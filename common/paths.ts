// Locates Phoenix's own files from source, from dist/, or in a release (single executables with their files
// beside them; see packaging/release), and reads the version they carry.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PhoenixError } from './errors.js';

let cachedRoot: string | undefined;

/** The directory of a release's files; set by the single executables' entry (packaging/sea) to their own directory. */
export const HOME_ENV = 'PHOENIX_HOME';

/** The repository / package root: $PHOENIX_HOME, else the nearest ancestor holding Phoenix's package.json. */
export function packageRoot(): string {
  if (process.env[HOME_ENV]) return process.env[HOME_ENV];
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (existsSync(candidate) && JSON.parse(readFileSync(candidate, 'utf8')).name === 'phoenix') {
      cachedRoot = dir;
      return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new PhoenixError(
        'PHX_FILES_NOT_FOUND',
        `cannot find Phoenix's own files: no package.json named phoenix above ${fileURLToPath(import.meta.url)}; set $${HOME_ENV} to the directory that holds them`,
      );
    dir = parent;
  }
}

/** Phoenix's version, from package.json. */
export function phoenixVersion(): string {
  return JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')).version as string;
}

/** The collector distribution's builder manifest (built by packaging/, found by the agent's cache lookup). */
export function collectorManifestPath(): string {
  return path.join(packageRoot(), 'packaging', 'otelcol', 'manifest.yaml');
}

/** The built-in pipeline templates: $PHOENIX_PIPELINES_DIR (e.g. a Kubernetes ConfigMap), else Phoenix's own. */
export function pipelinesDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.PHOENIX_PIPELINES_DIR || path.join(packageRoot(), 'pipelines');
}
