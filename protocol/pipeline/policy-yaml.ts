// YAML node helpers for the pipeline policy: a violation's line and key path, a mapping's entries, a list's names.
import { isAlias, isMap, isScalar, isSeq, type LineCounter, type Node } from 'yaml';
import { showValue } from '../../common/errors.js';
import type { PolicyViolation } from './policy.js';

/** Where a node stands: mapping keys and list indexes from the document's root. */
export type KeyPath = readonly (string | number)[];

/** Records a violation at the first line of `node` (or without a line when there is none). */
export type Report = (node: Node | null | undefined, path: KeyPath, message: string) => void;

export function reporter(lines: LineCounter, out: PolicyViolation[]): Report {
  return (node, path, message) => {
    const offset = node?.range?.[0];
    out.push({ line: offset === undefined ? null : lines.linePos(offset).line, path: pathText(path), message });
  };
}

/** `service.telemetry.metrics.readers[0].pull` */
export function pathText(path: KeyPath): string {
  return path.map((part, i) => (typeof part === 'number' ? `[${part}]` : i === 0 ? part : `.${part}`)).join('');
}

export interface Entry {
  key: string;
  keyNode: Node;
  /** null when the key has no value (`batch:`). */
  value: Node | null;
  path: KeyPath;
}

// An alias is refused by the node walk; the section rules see nothing there rather than report it twice.
const isEmpty = (node: Node | null | undefined) => node == null || isAlias(node) || (isScalar(node) && node.value === null);

/**
 * The entries of a mapping whose keys are strings (other keys are refused by the node walk). An absent or empty
 * value has none; any other value that is not a mapping is reported, as `what`, and has none.
 */
export function entries(node: Node | null | undefined, path: KeyPath, report: Report, what = 'a mapping'): Entry[] {
  if (isEmpty(node)) return [];
  if (!isMap(node)) {
    report(node, path, `must be ${what}, got ${shown(node)}`);
    return [];
  }
  const out: Entry[] = [];
  for (const pair of node.items) {
    const key = pair.key as Node | null;
    if (!isScalar(key) || typeof key.value !== 'string') continue;
    const value = isEmpty(pair.value as Node | null) ? null : (pair.value as Node);
    out.push({ key: key.value, keyNode: key, value, path: [...path, key.value] });
  }
  return out;
}

/** Reports every entry whose key is not in `allowed`; returns the others. */
export function onlyKeys(list: Entry[], allowed: readonly string[], report: Report, why = ''): Entry[] {
  return list.filter((entry) => {
    if (allowed.includes(entry.key)) return true;
    report(entry.keyNode, entry.path, `'${entry.key}' is not allowed here; only ${allowed.join(', ')}${why}`);
    return false;
  });
}

export const find = (list: Entry[], key: string) => list.find((entry) => entry.key === key);

/** The string items of a list (`[batch, transform/merge]`); anything else in it is reported. */
export function names(node: Node | null, path: KeyPath, report: Report): { name: string; node: Node; path: KeyPath }[] {
  if (isEmpty(node)) return [];
  if (!isSeq(node)) {
    report(node, path, `must be a list of names, got ${shown(node)}`);
    return [];
  }
  return node.items.flatMap((item, i) => {
    const at = [...path, i];
    if (isScalar(item) && typeof item.value === 'string') return [{ name: item.value, node: item, path: at }];
    report(item as Node, at, `must be a name, got ${shown(item as Node)}`);
    return [];
  });
}

/** A node's value for a message: a scalar's value, or the kind of collection. */
export function shown(node: Node | null | undefined): string {
  if (isScalar(node)) return showValue(node.value);
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  return 'nothing';
}

/** Reports `message` (and what it got) unless `entry` is set to exactly `expected`; `at` is where a missing one belongs. */
export function exactly(entry: Entry | undefined, at: Entry, expected: string | number, report: Report, message: string): void {
  if (entry === undefined) {
    report(at.keyNode, at.path, `${message}; it is not set`);
    return;
  }
  if (isScalar(entry.value) && entry.value.value === expected) return;
  report(entry.value ?? entry.keyNode, entry.path, `${message}, got ${shown(entry.value)}`);
}
