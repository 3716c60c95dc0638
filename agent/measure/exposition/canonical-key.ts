// Spells a series key the one canonical way, for keys not already written so: the same series hashes the same.
import type { LabelRanges } from './label-ranges.js';
import { LABEL_CHAR, LABEL_START, METRIC_CHAR, METRIC_START, isLegacyName, readName } from './syntax.js';

/** Label sets up to this size are sorted by insertion (fastest for the usual handful); larger ones by Array#sort. */
const INSERTION_SORT_MAX = 32;

/**
 * `name{l1="v1",l2="v2"}` with label names sorted, no blanks, no trailing comma, and names bare
 * unless they need quotes; values keep their escaped spelling, the only valid spelling of an
 * unescaped value. The metric name is text[metricStart, metricEnd) (flags as a label's), the n
 * labels are in `labels`. No key has a label name twice: for such a line, the index of the second.
 */
export function canonicalKey(
  text: string,
  metricStart: number,
  metricEnd: number,
  metricFlags: number,
  labels: LabelRanges,
  n: number,
): string | { duplicate: number } {
  const metric = readName(text, metricStart, metricEnd, metricFlags);
  let key = isLegacyName(metric, METRIC_START, METRIC_CHAR) ? metric : `"${text.slice(metricStart, metricEnd)}"`;
  if (n === 0) return key;
  const names: string[] = [];
  const order: number[] = [];
  for (let i = 0; i < n; i++) {
    names.push(labels.name(text, i));
    if (n > INSERTION_SORT_MAX) continue;
    // Insertion sort: label sets are small.
    let j = i;
    for (; j > 0 && names[order[j - 1]!]! > names[i]!; j--) order[j] = order[j - 1]!;
    order[j] = i;
  }
  if (n > INSERTION_SORT_MAX) {
    // A hostile line with thousands of labels: n log n, not n² (114k labels took 33 s by insertion).
    for (let i = 0; i < n; i++) order.push(i);
    order.sort((a, b) => (names[a]! < names[b]! ? -1 : names[a]! > names[b]! ? 1 : 0));
  }
  key += '{';
  for (let k = 0; k < n; k++) {
    const i = order[k]!;
    const name = names[i]!;
    if (k > 0) {
      if (name === names[order[k - 1]!]) return { duplicate: i };
      key += ',';
    }
    key += isLegacyName(name, LABEL_START, LABEL_CHAR) ? name : `"${text.slice(labels.nameStart[i]!, labels.nameEnd[i]!)}"`;
    key += `="${text.slice(labels.valueStart[i]!, labels.valueEnd[i]!)}"`;
  }
  return key + '}';
}
