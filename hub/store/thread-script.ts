// Where a store thread's script is (SQLite's writer and readers, PostgreSQL's window reader): beside the executable in
// a release, beside this file compiled, or — from the TypeScript sources under tap's loader — the compiled one when
// the build is newer than every source of the store (a thread that compiles its own sources takes seconds to start),
// else the source itself.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { isSea } from 'node:sea';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { packageRoot } from '../../common/paths.js';

const found = new Map<string, URL>();

/** `name` (without extension) in hub/store; under a single executable, `releaseName` beside it. */
export function threadScript(name: string, releaseName: string): URL {
  const known = found.get(name);
  if (known) return known;
  const script = locate(name, releaseName);
  found.set(name, script);
  return script;
}

function locate(name: string, releaseName: string): URL {
  if (isSea()) return pathToFileURL(path.join(path.dirname(process.execPath), releaseName));
  const self = fileURLToPath(import.meta.url);
  if (!self.endsWith('.ts')) return new URL(`./${name}.js`, import.meta.url);
  const here = path.dirname(self);
  const built = path.join(packageRoot(), 'dist', 'hub', 'store', `${name}.js`);
  const newest = (dir: string) => Math.max(...readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => statSync(path.join(dir, f)).mtimeMs));
  const sources = [here, ...['..', '../access', '../experiments', '../../common', '../../protocol'].map((d) => path.join(here, d))];
  const fresh = existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources.map(newest));
  return fresh ? pathToFileURL(built) : new URL(`./${name}.ts`, import.meta.url);
}

/** Whether `script` can be started (a single executable's release may not ship it). */
export const scriptExists = (script: URL): boolean => existsSync(fileURLToPath(script));

/** Environment for a thread: from TypeScript sources (tests) it only transpiles what its parent has type-checked. */
export const threadEnv = (script: URL): NodeJS.ProcessEnv => (script.pathname.endsWith('.ts') ? { ...process.env, TS_NODE_TRANSPILE_ONLY: '1' } : process.env);
