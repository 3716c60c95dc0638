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
const PLAIN = /\b(?:throw|reject\(|Promise\.reject\()\s*new (?:Error|RangeError|TypeError|SyntaxError)\(/g;
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

t.test('every PHX_ code in the source is registered, and every registered code can be thrown', async (t) => {
  // A code is thrown where its class is constructed (`new ClassName(`), or where it is passed as a value outside
  // the class that carries it (CallingRuleError, SimulatorError take the code as an argument).
  const classes = new Map<string, string>();
  const passed = new Set<string>();
  for (const [file, source] of text) {
    for (const m of source.matchAll(/'(PHX_[A-Z_]+)'/g)) {
      t.ok((ERROR_CODES as readonly string[]).includes(m[1]!), `${file}: ${m[1]} is registered`);
    }
    for (const m of source.matchAll(/class (\w+) extends \w+ \{(?:(?!\nexport class |\nclass )[^])*?super\('(PHX_[A-Z_]+)'/g)) classes.set(m[1]!, m[2]!);
    for (const line of source.split('\n')) {
      if (/^\s*super\(|^\s*(constructor|export class)|code: '/.test(line)) continue;
      for (const m of line.matchAll(/'(PHX_[A-Z_]+)'/g)) passed.add(m[1]!);
    }
  }
  const constructed = new Set([...classes].filter(([name]) => [...text.values()].some((s) => s.includes(`new ${name}(`))).map(([, code]) => code));
  t.same(ERROR_CODES.filter((c) => !constructed.has(c) && !passed.has(c)), [], 'no registered code is never thrown');
});

t.test("each documented exit status is the one the code's class exits with", async (t) => {
  const doc = readFileSync(path.join(root, 'docs', 'errors.md'), 'utf8');
  const documented = new Map([...doc.matchAll(/^## (PHX_[A-Z_]+)\n(?:Exit (\d)|HTTP (\d+))/gm)].map((m) => [m[1]!, m[2] ? Number(m[2]) : 1]));
  for (const [file, source] of text) {
    // super('PHX_…', message, exitCode[, options]): the exit code given, or the base class's default, 1.
    for (const m of source.matchAll(/super\(\s*'(PHX_[A-Z_]+)',\s*[^;]*?,\s*(\d)\s*[,)]/g)) {
      t.equal(documented.get(m[1]!), Number(m[2]), `${file}: ${m[1]} exits ${m[2]}, as documented`);
    }
  }
});

t.test('no product code throws an uncoded error', async (t) => {
  // Errors given to req.destroy() become a scrape's or probe's result (data), never thrown to a caller; a caught
  // error rethrown unchanged is whatever it was (coded where Phoenix made it).
  const found = [...text].flatMap(([file, source]) => [...source.matchAll(PLAIN)].map((m) => `${file}: ${m[0].trim()}`));
  t.same(found, [], found.join('\n') || 'none');
  t.equal([..."throw new Error('x'); reject(new RangeError('y'))".matchAll(PLAIN)].length, 2, 'the check itself sees both forms');
});
