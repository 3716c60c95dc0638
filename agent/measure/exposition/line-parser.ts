// Parses a region of whole exposition lines, one pass over each: comments, and samples (key, value, timestamp) into the tally.
import { showValue } from '../../../common/errors.js';
import { KeyReader } from './key-reader.js';
import type { RegionParser } from './line-framer.js';
import { EXCERPT_SOURCE_BYTES, type LineErrors } from './line-errors.js';
import type { ExpositionTally } from './tally.js';
import {
  BACKSLASH,
  ESCAPED_NAME,
  HASH,
  LOWER_N,
  METRIC_CHAR,
  METRIC_START,
  QUOTE,
  decimalEnd,
  isBlank,
  isClass,
  isGoFloat,
  isInteger,
  readName,
  skipBlanks,
  utf8,
} from './syntax.js';

const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * The line grammar (blanks are spaces or tabs; a line may end in '\r'; the key's grammar is in
 * key-reader.ts):
 *
 *     line    = blanks [ sample | comment ]
 *     sample  = key blanks value [ blanks timestamp ] blanks      value as Go's ParseFloat, timestamp an integer
 *     comment = "#" blanks ( "HELP" blanks name [ blanks text ]  text with \\ and \n escapes only
 *                          | "TYPE" blanks name [ blanks type ]  counter, gauge, histogram, summary, untyped
 *                          | anything else )                     ignored
 *     name    = bare-metric | quoted
 *
 * Lines are read as latin1 text (one character per byte, so positions are byte offsets and the
 * grammar's ASCII never meets a UTF-8 byte); names and values are decoded as UTF-8 only for output.
 * A malformed line is counted in `errors` and skipped.
 */
export class LineParser implements RegionParser {
  private readonly keys: KeyReader;

  constructor(
    private readonly tally: ExpositionTally,
    private readonly errors: LineErrors,
    private readonly maxLineBytes: number,
  ) {
    this.keys = new KeyReader(errors, tally.collect, tally.record);
  }

  parseRegion(buf: Buffer, start: number, end: number): void {
    const text = buf.toString('latin1', start, end);
    this.keys.startRegion(buf, start, end);
    const n = text.length;
    let p = 0;
    for (;;) {
      let nl = text.indexOf('\n', p);
      if (nl < 0) nl = n;
      this.parseLine(text, p, nl);
      this.errors.line++;
      if (nl >= n) break;
      p = nl + 1;
    }
  }

  private parseLine(text: string, lineStart: number, lineEnd: number): void {
    if (lineEnd - lineStart > this.maxLineBytes) {
      this.errors.lineTooLong(Buffer.from(text.slice(lineStart, lineStart + EXCERPT_SOURCE_BYTES), 'latin1'), this.maxLineBytes);
      return;
    }
    let e = lineEnd;
    if (e > lineStart && text.charCodeAt(e - 1) === 13) e--;
    const s = skipBlanks(text, lineStart, e);
    if (s === e) return;
    if (text.charCodeAt(s) === HASH) this.parseComment(text, lineStart, s + 1, e);
    else this.parseSample(text, lineStart, s, e);
  }

  /** `name{label="value",...} value [timestamp]`, or `{"name",label="value"} value [timestamp]`. */
  private parseSample(text: string, lineStart: number, s: number, e: number): void {
    const keys = this.keys;
    const keyEnd = keys.read(text, lineStart, s, e);
    if (keyEnd < 0) return;

    // The value, then an optional timestamp. A plain decimal is read in one pass; anything else
    // (a sign, NaN, Inf, junk) is delimited first, then checked.
    let p = skipBlanks(text, keyEnd, e);
    let t = decimalEnd(text, p, e);
    if (t < 0 || (t < e && !isBlank(text.charCodeAt(t)))) {
      t = p;
      while (t < e && !isBlank(text.charCodeAt(t))) t++;
      if (t === p) return this.errors.fail('missing value', text, lineStart, e, p);
      if (!isGoFloat(text, p, t)) {
        return this.errors.fail(`invalid value ${showValue(utf8(text.slice(p, t)), 40)}`, text, lineStart, e, p);
      }
    }
    const valueAt = p;
    const valueEnd = t;
    let stampAt = -1;
    p = skipBlanks(text, t, e);
    if (p < e) {
      t = p;
      while (t < e && !isBlank(text.charCodeAt(t))) t++;
      if (!isInteger(text, p, t)) {
        return this.errors.fail(`invalid timestamp ${showValue(utf8(text.slice(p, t)), 40)}`, text, lineStart, e, p);
      }
      stampAt = p;
      p = skipBlanks(text, t, e);
      if (p < e) return this.errors.fail('unexpected text after the timestamp', text, lineStart, e, p);
    }

    // The series key: the line's own bytes when already canonical, else rebuilt.
    if (keys.canonical) {
      this.tally.sample(keys, text, keys.view, keys.metricStart, keyEnd, valueAt, valueEnd, stampAt, t);
    } else {
      const key = keys.rebuiltKey(text, lineStart, e);
      if (key !== null) this.tally.sample(keys, text, key, 0, key.byteLength, valueAt, valueEnd, stampAt, t);
    }
  }

  /** `# HELP name text`, `# TYPE name type`, or any other comment (ignored). */
  private parseComment(text: string, lineStart: number, start: number, e: number): void {
    const quotes = this.keys.quotes;
    let p = skipBlanks(text, start, e);
    const help = text.startsWith('HELP', p);
    if (!help && !text.startsWith('TYPE', p)) return;
    p += 4;
    if (p < e && !isBlank(text.charCodeAt(p))) return; // "#HELPER ...": a plain comment
    p = skipBlanks(text, p, e);
    // As in Go's expfmt, a HELP or TYPE line that stops before its name or its text is no error.
    if (p >= e) return;
    let name: string;
    if (text.charCodeAt(p) === QUOTE) {
      const q = quotes.read(text, lineStart, p + 1, e);
      if (q < 0) return;
      if (q === p + 1) return this.errors.fail('empty metric name in comment', text, lineStart, e, p);
      name = readName(text, p + 1, q, quotes.escaped ? ESCAPED_NAME : 0);
      p = q + 1;
    } else {
      const nameStart = p;
      if (isClass(text.charCodeAt(p), METRIC_START)) while (++p < e && isClass(text.charCodeAt(p), METRIC_CHAR));
      if (p === nameStart) return this.errors.fail('invalid metric name in comment', text, lineStart, e, p);
      name = text.slice(nameStart, p);
    }
    if (p < e && !isBlank(text.charCodeAt(p))) {
      return this.errors.fail('invalid metric name in comment', text, lineStart, e, p);
    }
    p = skipBlanks(text, p, e);
    if (p >= e) return;
    if (help) {
      // Help text only needs its escapes checked: \\ and \n.
      for (;;) {
        const b = quotes.nextBackslash(text, p);
        if (b >= e) return;
        const next = text.charCodeAt(b + 1);
        if (b + 1 >= e || (next !== BACKSLASH && next !== LOWER_N)) {
          const sequence = utf8(text.slice(b, Math.min(b + 2, e)));
          return this.errors.fail(`invalid escape sequence in help text '${sequence}'`, text, lineStart, e, b);
        }
        p = b + 2;
      }
    }
    let end = e;
    while (end > p && isBlank(text.charCodeAt(end - 1))) end--;
    const type = text.slice(p, end);
    if (!METRIC_TYPES.has(type)) {
      return this.errors.fail(`unknown metric type ${showValue(utf8(type), 40)}`, text, lineStart, e, p);
    }
    this.tally.type(name, type);
  }
}
