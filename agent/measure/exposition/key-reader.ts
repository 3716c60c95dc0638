// Reads a sample line's series key, `name{label="value",...}`: a fast path for keys spelt as the last ones, and the general grammar.
import { showValue } from '../../../common/errors.js';
import { canonicalKey } from './canonical-key.js';
import { KnownName } from './known-name.js';
import { LabelRanges } from './label-ranges.js';
import type { LineErrors } from './line-errors.js';
import { QuoteScanner } from './quoted-strings.js';
import {
  CLOSE_BRACE,
  COMMA,
  EQUALS,
  ESCAPED_NAME,
  ESCAPED_VALUE,
  LABEL_CHAR,
  LABEL_START,
  METRIC_CHAR,
  METRIC_START,
  OPEN_BRACE,
  QUOTE,
  QUOTED_NAME,
  compareRanges,
  isBlank,
  isClass,
  skipBlanks,
  utf8,
} from './syntax.js';

/**
 * The key's grammar (blanks, spaces or tabs, may stand between any two tokens):
 *
 *     key    = bare-metric [ "{" [ item { "," item } [ "," ] ] "}" ]
 *            | "{" item { "," item } [ "," ] "}"       one item must be the metric name
 *     item   = quoted                                  the metric name: the first item only
 *            | name "=" quoted                          a label
 *     name   = bare-label | quoted
 *
 * Calling rules: `startRegion()` for each region of lines, then `read()` for each sample line in
 * it, in order. After a read() that did not return -1, the fields below describe that key until
 * the next read(); positions are in the region's text, whose bytes `view` holds.
 */
export class KeyReader {
  /** The region's bytes, the same as its latin1 text: for matching known names and hashing keys in place. */
  view: DataView = new DataView(new ArrayBuffer(0));
  /** The metric name is text[metricStart, metricEnd), without quotes; metricFlags as a label's flags. */
  metricStart = 0;
  metricEnd = 0;
  metricFlags = 0;
  /** Whether text[metricStart, keyEnd) already is the canonical key (see canonicalKey), to hash as it is. */
  canonical = true;
  labelCount = 0;
  readonly labels = new LabelRanges();
  /** The metric name of the last lines read; its bare spelling stands for the name when metricFlags is 0. */
  knownMetric = new KnownName('');
  /** The label names of the last lines, by position, each followed by '="'. */
  readonly knownLabels: (KnownName | undefined)[] = [];
  readonly quotes: QuoteScanner;
  // The same names as text, and whether each sorts after the one before it.
  private readonly knownNames: (string | undefined)[] = [];
  private readonly knownIncreasing: boolean[] = [];
  private scratch = Buffer.alloc(1024);

  /**
   * `collect`: label names whose values are wanted (latin1 spelling) -> where they go; a known
   * label name carries its set. `record`: whether the fast path must fill `labels` too (the
   * general path always does).
   */
  constructor(
    private readonly errors: LineErrors,
    private readonly collect: ReadonlyMap<string, Set<string>>,
    private readonly record: boolean,
  ) {
    this.quotes = new QuoteScanner(errors);
  }

  /** The region buf[start, end) whose latin1 text the next lines are read from. */
  startRegion(buf: Buffer, start: number, end: number): void {
    this.view = new DataView(buf.buffer, buf.byteOffset + start, end - start);
    this.quotes.forget();
  }

  /**
   * Reads the key at s of the line text[lineStart, e) (s after its leading blanks): returns the
   * position after it, or -1 after counting the line's error.
   */
  read(text: string, lineStart: number, s: number, e: number): number {
    // Usually spelt as the lines before it; else the general path reads (or rejects) the key.
    const keyEnd = this.knownKeyEnd(text, s, e);
    return keyEnd >= 0 ? keyEnd : this.parseKey(text, lineStart, s, e);
  }

  /** The canonical key of a key read as not canonical, as bytes to hash; null, the error counted, when a label name repeats. */
  rebuiltKey(text: string, lineStart: number, e: number): DataView | null {
    const key = canonicalKey(text, this.metricStart, this.metricEnd, this.metricFlags, this.labels, this.labelCount);
    if (typeof key !== 'string') {
      const i = key.duplicate;
      this.errors.fail(`duplicate label name ${showValue(utf8(this.labels.name(text, i)), 40)}`, text, lineStart, e, this.labels.nameStart[i]!);
      return null;
    }
    if (this.scratch.length < key.length) this.scratch = Buffer.alloc(key.length * 2);
    this.scratch.write(key, 0, 'latin1');
    return new DataView(this.scratch.buffer, this.scratch.byteOffset, key.length);
  }

  /**
   * The fast path for the usual line, spelt as the last ones: the known metric name, '{', and at each
   * position the known label name (names increasing, so the key is canonical), no blanks, well-formed
   * values, '}'. Returns the position after '}' and sets the key fields (and the label positions, when
   * recording); -1 for any other line, which the general path then reads and reports.
   */
  private knownKeyEnd(text: string, s: number, e: number): number {
    const view = this.view;
    const metric = this.knownMetric;
    if (metric.length === 0 || !metric.matches(view, s) || text.charCodeAt(s + metric.length) !== OPEN_BRACE) return -1;
    const quotes = this.quotes;
    // text[e] is '\n', '\r' or past the end, so comparing it with ',' or '}' needs no bounds check.
    for (let n = 0, p = s + metric.length + 1; ; n++) {
      const known = this.knownLabels[n];
      if (known === undefined || !known.matches(view, p) || (n > 0 && !this.knownIncreasing[n])) return this.leaveFastPath();
      const valueStart = p + known.length;
      const q = quotes.end(text, valueStart, e);
      if (q < 0) return this.leaveFastPath();
      if (this.record) this.labels.set(n, p, valueStart - 2, valueStart, q, quotes.escaped ? ESCAPED_VALUE : 0);
      const c = text.charCodeAt(q + 1);
      if (c === CLOSE_BRACE) {
        this.metricStart = s;
        this.metricEnd = s + metric.length;
        this.metricFlags = 0;
        this.canonical = true;
        this.labelCount = n + 1;
        return q + 2;
      }
      if (c !== COMMA) return this.leaveFastPath();
      p = q + 2;
    }
  }

  /** The general path re-reads the line from its start: forget the quote and backslash found ahead. */
  private leaveFastPath(): number {
    this.quotes.forget();
    return -1;
  }

  /** The general path: any spelling of the grammar above, or the error. */
  private parseKey(text: string, lineStart: number, s: number, e: number): number {
    this.metricStart = -1;
    this.metricEnd = -1;
    this.metricFlags = 0;
    this.canonical = true;
    this.labelCount = 0;
    let p = s;
    let keyEnd = -1;
    let c = text.charCodeAt(p);
    if (isClass(c, METRIC_START)) {
      p = keyEnd = this.readMetricName(text, p, e);
      if (p < e) {
        c = text.charCodeAt(p);
        if (isBlank(c)) {
          p = skipBlanks(text, p, e);
          if (text.charCodeAt(p) === OPEN_BRACE) this.canonical = false;
        } else if (c !== OPEN_BRACE) {
          return this.errors.reject('invalid metric name', text, lineStart, e, p);
        }
      }
    } else if (c !== OPEN_BRACE) {
      return this.errors.reject('invalid metric name', text, lineStart, e, p);
    }
    if (p < e && text.charCodeAt(p) === OPEN_BRACE) {
      keyEnd = this.readLabels(text, lineStart, p + 1, e);
      if (keyEnd >= 0 && this.metricStart < 0) return this.errors.reject('missing metric name', text, lineStart, e, s);
    }
    return keyEnd;
  }

  /** The bare metric name at s (its first character checked): where it ends. Learns it, unless it is the known one. */
  private readMetricName(text: string, s: number, e: number): number {
    this.metricStart = s;
    const known = this.knownMetric;
    let p = s;
    if (known.matches(this.view, p) && !isClass(text.charCodeAt(p + known.length), METRIC_CHAR)) {
      p += known.length;
    } else {
      while (++p < e && isClass(text.charCodeAt(p), METRIC_CHAR));
      this.knownMetric = new KnownName(text.slice(s, p));
    }
    this.metricEnd = p;
    return p;
  }

  /** The items after '{' at p, and the '}': the position after it, or -1. */
  private readLabels(text: string, lineStart: number, p: number, e: number): number {
    for (let afterComma = false; ; ) {
      const blanksFrom = p;
      p = skipBlanks(text, p, e);
      if (p !== blanksFrom) this.canonical = false;
      if (p >= e) return this.errors.reject("missing '}'", text, lineStart, e, p);
      let c = text.charCodeAt(p);
      if (c === CLOSE_BRACE) {
        // Empty braces and a trailing comma are spellings the canonical key does not use.
        if (this.labelCount === 0 || afterComma) this.canonical = false;
        return p + 1;
      }
      if (c === QUOTE) p = this.readQuotedItem(text, lineStart, p, e);
      else if (isClass(c, LABEL_START)) p = this.readBareLabel(text, lineStart, p, e);
      else return this.errors.reject('invalid label name', text, lineStart, e, p);
      if (p < 0) return -1;
      // text[e] is never ',' or '}' (see knownKeyEnd), and p <= e.
      c = text.charCodeAt(p);
      if (c === CLOSE_BRACE) return p + 1;
      if (c !== COMMA) return this.errors.reject("expected ',' or '}' after label value", text, lineStart, e, p);
      p++;
      afterComma = true;
    }
  }

  /** A quoted metric name, or a label with a quoted name, at the quote at p: the position after it and its blanks, or -1. */
  private readQuotedItem(text: string, lineStart: number, quoteAt: number, e: number): number {
    const q = this.quotes.read(text, lineStart, quoteAt + 1, e);
    if (q < 0) return -1;
    this.canonical = false;
    const flags = QUOTED_NAME | (this.quotes.escaped ? ESCAPED_NAME : 0);
    const p = skipBlanks(text, q + 1, e);
    const next = text.charCodeAt(p);
    if (next !== COMMA && next !== CLOSE_BRACE) {
      if (q === quoteAt + 1) return this.errors.reject('empty label name', text, lineStart, e, quoteAt);
      return this.readValue(text, lineStart, quoteAt + 1, q, flags, p, e);
    }
    // A quoted string on its own is the metric name (UTF-8 names), allowed only first.
    if (this.metricStart >= 0) return this.errors.reject('metric name given twice', text, lineStart, e, quoteAt);
    if (this.labelCount > 0) return this.errors.reject('quoted metric name must come first in braces', text, lineStart, e, quoteAt);
    if (q === quoteAt + 1) return this.errors.reject('empty metric name', text, lineStart, e, quoteAt);
    this.metricStart = quoteAt + 1;
    this.metricEnd = q;
    this.metricFlags = flags;
    return p;
  }

  /** A label with a bare name (its first character checked) at p: the position after it and its blanks, or -1. */
  private readBareLabel(text: string, lineStart: number, p: number, e: number): number {
    const n = this.labelCount;
    const labelStart = p;
    let labelEnd: number;
    const known = this.knownLabels[n];
    if (known !== undefined && known.matches(this.view, p)) {
      // The name the previous line had here, already checked, and its order with the one before.
      p = labelEnd = p + known.length - 2;
      if (n > 0 && !this.knownIncreasing[n]) this.canonical = false;
    } else {
      while (++p < e && isClass(text.charCodeAt(p), LABEL_CHAR));
      labelEnd = p;
      const c = text.charCodeAt(p);
      if (p < e && c !== EQUALS && !isBlank(c)) return this.errors.reject('invalid label name', text, lineStart, e, p);
      p = skipBlanks(text, p, e);
      if (p !== labelEnd) this.canonical = false;
      const labels = this.labels;
      if (this.canonical && n > 0 && compareRanges(text, labels.nameStart[n - 1]!, labels.nameEnd[n - 1]!, labelStart, labelEnd) >= 0) {
        this.canonical = false;
      }
      if (this.canonical && text.charCodeAt(p + 1) === QUOTE) this.learnLabel(n, text.slice(labelStart, labelEnd));
    }
    return this.readValue(text, lineStart, labelStart, labelEnd, 0, p, e);
  }

  /**
   * `= "value"` at p, after the name text[nameStart, nameEnd): records the label and returns the
   * position after the value and its blanks, or -1.
   */
  private readValue(text: string, lineStart: number, nameStart: number, nameEnd: number, flags: number, p: number, e: number): number {
    if (text.charCodeAt(p) !== EQUALS || p >= e) return this.errors.reject("expected '=' after label name", text, lineStart, e, p);
    const valueFrom = ++p;
    p = skipBlanks(text, p, e);
    if (p !== valueFrom) this.canonical = false;
    if (text.charCodeAt(p) !== QUOTE || p >= e) return this.errors.reject("expected '\"' to start the label value", text, lineStart, e, p);
    const q = this.quotes.read(text, lineStart, p + 1, e);
    if (q < 0) return -1;
    this.labels.set(this.labelCount++, nameStart, nameEnd, p + 1, q, this.quotes.escaped ? flags | ESCAPED_VALUE : flags);
    p = skipBlanks(text, q + 1, e);
    if (p !== q + 1) this.canonical = false;
    return p;
  }

  /**
   * Remembers the label name at index n, so that the next line with the same names skips checking
   * them character by character. Called only while the line is canonical so far, so the name
   * before it is the one remembered at n - 1.
   */
  private learnLabel(n: number, label: string): void {
    const known = (this.knownLabels[n] = new KnownName(`${label}="`));
    const name = known.text.slice(0, -2);
    const names = this.knownNames;
    names[n] = name;
    known.values = this.collect.get(name);
    this.knownIncreasing[n] = n > 0 && names[n - 1]! < name;
    const next = names[n + 1];
    if (next !== undefined) this.knownIncreasing[n + 1] = name < next;
  }
}
