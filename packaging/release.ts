// Builds a release directory: phoenix-agent and phoenix-hub as single executables (Node's SEA: the Node
// runtime with our bundled code injected), the collector, and the files they read, side by side.
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { build } from 'esbuild';
import { RELEASE_COLLECTOR } from '../agent/collector/locate.js';
import { RELEASE_WINDOW_WORKER } from '../hub/store/postgres-window-thread.js';
import { RELEASE_SQLITE_WINDOW_WORKER } from '../hub/store/sqlite-window-thread.js';
import type { Logger } from '../common/logger.js';
import { packageRoot, phoenixVersion } from '../common/paths.js';

/** The fuse Node's SEA support looks for (documented in Node's single-executable-applications guide). */
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const require = createRequire(import.meta.url);

export interface ReleaseOptions {
  /** Where release directories go (default: build/release in the checkout). */
  outDir?: string;
  collectorBinary: string;
  logger: Logger;
}

export interface Release {
  dir: string;
  version: string;
  agent: string;
  hub: string;
  collector: string;
}

const PROGRAMS = [
  { name: 'phoenix-agent', entry: 'packaging/sea/agent-main.ts' },
  { name: 'phoenix-hub', entry: 'packaging/sea/hub-main.ts' },
] as const;

/** Bundles `entry` into one CommonJS file (what SEA runs, and what a thread of it loads). */
async function bundle(entry: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    // ws's optional native helpers: it skips them when told to, instead of a require() that SEA refuses.
    external: ['bufferutil', 'utf-8-validate'],
    define: {
      'process.env.WS_NO_BUFFER_UTIL': '"1"',
      'process.env.WS_NO_UTF_8_VALIDATE': '"1"',
      // Dependencies' ES modules read import.meta.url at load time (node-cron): give them this file's URL.
      'import.meta.url': '__phoenix_import_meta_url',
    },
    banner: { js: 'const __phoenix_import_meta_url = require("node:url").pathToFileURL(__filename).href;' },
    logLevel: 'error',
  });
}

/** Bundles one entry into a CommonJS file (SEA runs one CommonJS script) and makes it a single executable. */
async function singleExecutable(root: string, work: string, program: (typeof PROGRAMS)[number], target: string): Promise<void> {
  const script = path.join(work, `${program.name}.cjs`);
  await bundle(path.join(root, program.entry), script);
  const config = path.join(work, `${program.name}.sea.json`);
  const blob = path.join(work, `${program.name}.blob`);
  writeFileSync(config, JSON.stringify({ main: script, output: blob, disableExperimentalSEAWarning: true }));
  execFileSync(process.execPath, ['--experimental-sea-config', config], { stdio: 'pipe' });
  copyFileSync(process.execPath, target);
  chmodSync(target, 0o755);
  execFileSync(process.execPath, [require.resolve('postject/dist/cli.js'), target, 'NODE_SEA_BLOB', blob, '--sentinel-fuse', SEA_FUSE], { stdio: 'pipe' });
}

export async function buildRelease(options: ReleaseOptions): Promise<Release> {
  const root = packageRoot();
  const version = phoenixVersion();
  const name = `phoenix-${version}-linux-${process.arch}`;
  const outDir = options.outDir ?? path.join(root, 'build', 'release');
  const dir = path.join(outDir, name);
  const work = path.join(outDir, `.work-${name}`);
  rmSync(dir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  mkdirSync(work, { recursive: true });
  try {
    for (const program of PROGRAMS) {
      options.logger.info({ program: program.name }, 'bundling and building the single executable');
      await singleExecutable(root, work, program, path.join(dir, program.name));
    }
    // The hub's window threads (the comparison read off its event loop), on PostgreSQL and on SQLite: scripts beside it.
    await bundle(path.join(root, 'hub', 'store', 'postgres-window-worker.ts'), path.join(dir, RELEASE_WINDOW_WORKER));
    await bundle(path.join(root, 'hub', 'store', 'sqlite-window-worker.ts'), path.join(dir, RELEASE_SQLITE_WINDOW_WORKER));
    copyFileSync(options.collectorBinary, path.join(dir, RELEASE_COLLECTOR));
    chmodSync(path.join(dir, RELEASE_COLLECTOR), 0o755);
    copyFileSync(require.resolve('better-sqlite3/build/Release/better_sqlite3.node'), path.join(dir, 'better_sqlite3.node'));
    // Only what the programs read at run time: their version, the pipelines, the page and its chart library.
    writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({ name: 'phoenix', version, private: true }, null, 2)}\n`);
    cpSync(path.join(root, 'pipelines'), path.join(dir, 'pipelines'), { recursive: true, filter: (f) => !f.endsWith('.md') });
    cpSync(path.join(root, 'hub', 'page'), path.join(dir, 'hub', 'page'), { recursive: true });
    const uplot = path.dirname(require.resolve('uplot/dist/uPlot.iife.min.js'));
    mkdirSync(path.join(dir, 'vendor', 'uplot'), { recursive: true });
    for (const file of ['uPlot.iife.min.js', 'uPlot.min.css']) copyFileSync(path.join(uplot, file), path.join(dir, 'vendor', 'uplot', file));
    copyFileSync(path.join(root, 'README.md'), path.join(dir, 'README.md'));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  options.logger.info({ dir }, 'release built');
  return {
    dir,
    version,
    agent: path.join(dir, 'phoenix-agent'),
    hub: path.join(dir, 'phoenix-hub'),
    collector: path.join(dir, RELEASE_COLLECTOR),
  };
}
