// The error registry: every code thrown is in common/error-codes.ts, documented in docs/errors.md, and used.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { ERROR_CODES } from '../../common/error-codes.js';
import { packageRoot } from '../../common/paths.js';

const root = packageRoot();
const PRODUCT = ['common', 'protocol', 'agent', 'hub', 'stack', 'tools', 'packaging'];

function sources(dir: string): string[] {
  return readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory()) return sources(rel);
    return /\.ts$/.test(entry.name) ? [rel] : [];
  });
}

const files = PRODUCT.flatMap(sources).filter((f) => f !== path.join('common', 'error-codes.ts'));
const text = new Map(files.map((f) => [f, readFileSync(path.join(root, f), 'utf8')]));

t.test('docs/errors.md documents exactly the registered codes, each once', async (t) => {
  const doc = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const headings = [...doc.matchAll(/^## (PHX_[A-Z_]+)\s*$/gm)].map((m) => m[1]!);
  t.same([...headings].sort(), [...new Set(headings)].sort(), 'no code documented twice');
  t.same(headings.filter((c) => !(ERROR_CODES as readonly string[]).includes(c)), [], 'the doc names no code that does not exist');
  t.same(ERROR_CODES.filter((c) => !headings.includes(c)), [], 'every code is documented');
  for (const code of headings) {
    const section = doc.split(`## ${code}\n`)[1]!.split('\n## ')[0]!;
    t.match(section, /^(Exit [0-3]\.|HTTP [45]\d\d,)/, `${code}: its exit status (or HTTP status) comes first`);
    t.match(section, /\*\*Do:\*\*/, `${code}: says what the user should do`);
  }
});

t.test('every PHX_ code in the source is registered, and every registered code is used', async (t) => {
  const used = new Set<string>();
  for (const [file, source] of text) {
    for (const m of source.matchAll(/'(PHX_[A-Z_]+)'/g)) {
      used.add(m[1]!);
      t.ok((ERROR_CODES as readonly string[]).includes(m[1]!), `${file}: ${m[1]} is registered`);
    }
  }
  t.same(ERROR_CODES.filter((c) => !used.has(c)), [], 'no registered code is unused');
});

t.test('no product code throws an uncoded error', async (t) => {
  const plain = /\b(?:throw|reject\(|Promise\.reject\()\s*new (?:Error|RangeError|TypeError|SyntaxError)\(/g;
  const found = [...text].flatMap(([file, source]) => [...source.matchAll(plain)].map((m) => `${file}: ${m[0]}`));
  t.same(found, [], found.join('\n') || 'none');
});
