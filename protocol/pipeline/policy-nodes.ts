// Pipeline policy rules that hold at every node: no YAML construct that could hide a component from the check, no
// `$` expansion, and no string that names a file, a URL or an address other than this host's loopback.
import { isAlias, isMap, isScalar, isSeq, type Node } from 'yaml';
import { showValue } from '../../common/errors.js';
import type { KeyPath, Report } from './policy-yaml.js';

const LOOPBACK = ['127.0.0.1', 'localhost', '::1'];
const FILE_PATH = /^(?:\/|\.\.?\/|~)|^file:/i;
// `host:port`, `[v6]:port` or `:port` (every interface); the host is whatever stands before the last colon.
const ADDRESS = /^(\S*):(\d{1,5})$/;

/**
 * Walks every node under `node`. `allowsFilePath` says where a file path is the agent's own value (root_path),
 * checked exactly by the section rules instead. `key` is the key `node` stands under: a block collection's own
 * position is its first item, so an anchor or tag on it is reported at its key's line.
 */
export function checkNodes(
  node: Node | null,
  path: KeyPath,
  report: Report,
  allowsFilePath: (path: KeyPath) => boolean,
  key: Node | null = null,
): void {
  if (node == null) return;
  const at = key ?? node;
  if (isAlias(node)) {
    report(at, path, `an alias (*${node.source}) is not allowed: write the value out where it is used`);
    return;
  }
  if ('anchor' in node && typeof node.anchor === 'string') {
    report(at, path, `an anchor (&${node.anchor}) is not allowed: write each value out where it is used`);
  }
  if ('tag' in node && typeof node.tag === 'string') report(at, path, `an explicit tag (${node.tag}) is not allowed`);
  if (isMap(node)) {
    for (const pair of node.items) {
      const text = checkKey(pair.key as Node | null, path, report);
      if (text !== null) checkNodes(pair.value as Node | null, [...path, text], report, allowsFilePath, pair.key as Node);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => checkNodes(item as Node | null, [...path, i], report, allowsFilePath));
  } else if (isScalar(node) && typeof node.value === 'string') {
    const problem = expands(node.value) ?? (allowsFilePath(path) ? null : leavesHost(node.value));
    if (problem !== null) report(node, path, problem);
  }
}

/** The key's text, its problems reported; null when it is not a string (and so no path to the value beneath). */
function checkKey(key: Node | null, path: KeyPath, report: Report): string | null {
  if (!isScalar(key) || typeof key.value !== 'string') {
    report(key, path, `a key must be a plain string, got ${isScalar(key) ? showValue(key.value) : 'a collection'}`);
    return null;
  }
  const text = key.value;
  const at = [...path, text];
  if (key.anchor !== undefined || key.tag !== undefined) report(key, at, `a key may carry no anchor or tag ('${text}')`);
  const problem =
    text === '<<'
      ? 'a merge key (<<) is not allowed: write the values out where they are used'
      : text.includes('::')
        ? `a key with '::' ('${text}') is not allowed: the collector reads it as a path of nested keys`
        : expands(text);
  if (problem !== null) report(key, at, problem);
  return text;
}

/** Why `text` would make the collector expand something (an environment variable, a file), or null. */
function expands(text: string): string | null {
  if (!text.replace(/\$\$/g, '').includes('$')) return null;
  return `${showValue(text)}: '$' is not allowed, it would read the host's environment or files (write '$$' for a literal '$')`;
}

/** Why `text` names something beyond the collector's loopback (a file, a URL, another host's address), or null. */
function leavesHost(text: string): string | null {
  if (FILE_PATH.test(text)) return `${showValue(text)}: a file path is not allowed`;
  if (text.includes('://')) return `${showValue(text)}: a URL is not allowed`;
  const address = ADDRESS.exec(text);
  if (address !== null) {
    const host = address[1]!.replace(/^\[(.*)\]$/, '$1');
    if (!LOOPBACK.includes(host)) return `${showValue(text)}: an address other than 127.0.0.1, localhost or [::1] is not allowed`;
  }
  return null;
}
