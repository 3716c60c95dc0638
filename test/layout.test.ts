// The house's import rules (README, "Layout"): agent/, hub/ and tools/ are peers on common/ and protocol/;
// only stack/ composes the agent and the hub.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../common/paths.js';

/** Which top-level folders each product folder may import from (besides itself and npm packages). */
const ALLOWED: Record<string, readonly string[]> = {
  common: [],
  protocol: ['common'],
  agent: ['common', 'protocol'],
  hub: ['common', 'protocol'],
  tools: ['common', 'protocol'],
  stack: ['common', 'protocol', 'agent', 'hub'],
};

/** Folders that build, measure or prove the whole, and so may use any product folder; and what is not source. */
const EXEMPT = ['packaging', 'bench', 'test', 'node_modules', 'dist', 'build', 'pipelines', 'systemd', 'docs'];

// import … from, export … from, import '…', import(…), require(…), in either quote.
const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(['"])(\.{1,2}\/[^'"]+)\1/g;
/** A dynamic import whose target is computed cannot be checked: refused in product folders. */
const COMPUTED_IMPORT = /\bimport\s*\(\s*(?!['"])[^)]/g;

interface Violation {
  file: string;
  imports: string;
}

/** Every relative import of `file` (a path under `root`) that leaves what its folder may use. */
export function violations(root: string, file: string, source: string): Violation[] {
  const from = file.split('/')[0]!;
  const allowed = ALLOWED[from];
  if (allowed === undefined) return [];
  const found: Violation[] = [];
  for (const match of source.matchAll(SPECIFIER)) {
    const target = path.relative(root, path.resolve(root, path.dirname(file), match[2]!));
    const to = target.split(path.sep)[0]!;
    if (to !== from && !allowed.includes(to)) found.push({ file, imports: target });
  }
  for (const match of source.matchAll(COMPUTED_IMPORT)) found.push({ file, imports: `a computed import(${match[0].slice(-1)}…)` });
  return found;
}

function sources(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(root, rel));
    else if (/\.(ts|mts|cts|js|mjs|cjs)$/.test(entry.name) && !entry.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

t.test('the checker flags an import across the rules', async (t) => {
  t.same(violations('/r', 'hub/server.ts', "import { x } from '../agent/cli.js';"), [{ file: 'hub/server.ts', imports: 'agent/cli.js' }]);
  t.same(violations('/r', 'agent/daemon.ts', "const m = await import('../hub/store/sqlite.js');"), [
    { file: 'agent/daemon.ts', imports: 'hub/store/sqlite.js' },
  ]);
  t.same(violations('/r', 'common/errors.ts', "export { y } from '../protocol/messages.js';"), [
    { file: 'common/errors.ts', imports: 'protocol/messages.js' },
  ]);
  t.same(violations('/r', 'tools/simulator/cli.ts', "import { z } from '../../agent/errors.js';"), [
    { file: 'tools/simulator/cli.ts', imports: 'agent/errors.js' },
  ]);
  t.same(violations('/r', 'hub/server.ts', 'import { x } from "../agent/cli.js";').length, 1, 'double quotes too');
  t.same(violations('/r', 'hub/server.ts', "export * from '../agent/errors.js';").length, 1, 'export * from');
  t.same(violations('/r', 'hub/server.ts', "import type { X } from '../agent/daemon.js';").length, 1, 'import type');
  t.same(violations('/r', 'hub/server.ts', "const m = await import(`../agent/${name}.js`);").length, 1, 'a computed import');
  t.same(violations('/r', 'hub/server.ts', "const m = require('../agent/cli.js');").length, 1, 'require');
  t.same(violations('/r', 'hub/server.ts', "import { a } from '../common/logger.js';\nimport { b } from './live.js';"), []);
  t.same(violations('/r', 'stack/local-stack.ts', "import { main } from '../agent/cli.js';\nimport { startHub } from '../hub/server.js';"), []);
});

t.test('every top-level folder with source is a product folder with rules, or named as exempt', async (t) => {
  const root = packageRoot();
  const unknown = readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !(e.name in ALLOWED) && !EXEMPT.includes(e.name))
    .filter((e) => sources(root, e.name).length > 0)
    .map((e) => e.name);
  t.same(unknown, [], 'a new folder gets its import rules here');
});

t.test('no product folder imports what it may not', async (t) => {
  const root = packageRoot();
  const files = Object.keys(ALLOWED).flatMap((dir) => sources(root, dir));
  t.ok(files.length > 50, `${files.length} source files read`);
  const found = files.flatMap((file) => violations(root, file, readFileSync(path.join(root, file), 'utf8')));
  t.same(found, [], found.map((v) => `${v.file} imports ${v.imports}`).join('; ') || 'none');
});
