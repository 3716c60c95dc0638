// Reads a YAML config file into a plain mapping: an unreadable file, invalid YAML (with its line and column) or a
// document that is not a mapping is a ConfigError naming the file. What the fields mean is each program's business.
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError, showValue } from './errors.js';

export function readYamlMapping(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: cannot read config file (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, {
      cause: error,
    });
  }
  return parseYamlMapping(text, file);
}

export function parseYamlMapping(text: string, source: string): Record<string, unknown> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { prettyErrors: false, uniqueKeys: true, lineCounter });
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!;
    const pos = lineCounter.linePos(first.pos[0]);
    throw new ConfigError(`${source}: invalid YAML at line ${pos.line}, column ${pos.col}: ${first.message.split('\n')[0]}`);
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ConfigError(`${source}: the config must be a YAML mapping of fields, got ${showValue(raw)}`);
  }
  return raw as Record<string, unknown>;
}
