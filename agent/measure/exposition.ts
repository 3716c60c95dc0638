// Streams a Prometheus text exposition (format 0.0.4, plus quoted UTF-8 names) and counts its cardinality.
import { CallingRuleError, ConfigError, showValue } from '../../common/errors.js';
import { SeriesSet } from './series-set.js';
import {
  METRIC_START,
  METRIC_CHAR,
  LABEL_START,
  LABEL_CHAR,
  QUOTED_NAME,
  ESCAPED_NAME,
  ESCAPED_VALUE,
  NEWLINE,
  QUOTE,
  HASH,
  COMMA,
  EQUALS,
  BACKSLASH,
  LOWER_N,
  OPEN_BRACE,
  CLOSE_BRACE,
  isClass,
  isBlank,
  skipBlanks,
  isLegacyName,
  readName,
  unescape,
  copy,
  utf8,
  sameText,
  compareRanges,
  isGoFloat,
  decimalEnd,
  parseGoFloat,
  isInteger,
} from './exposition-syntax.js';

export interface ExpositionStats {
  /** Distinct series: metric name + full label set (label order and spelling do not matter). */
  series: number;
  /** Sample lines accepted (a repeated series counts again here, not in `series`). */
  samples: number;
  /** Bytes fed in, skipped lines included (UTF-8 length for string chunks). */
  bytes: number;
  /** Distinct series per metric name as written on the sample line (`foo_bucket`, `foo_sum` apart). */
  seriesByMetric: Record<string, number>;
  /** Malformed lines; each was skipped and scanning went on. */
  errors: number;
  /** The first malformed line: 1-based line number, the problem, the byte column and an excerpt. */
  firstError: { line: number; message: string } | null;
  /** For each name in `options.collectLabels`: its distinct unescaped values (any metric), sorted. */
  labelValues: Record<string, string[]>;
  /** From `# TYPE` lines: family name -> type word. */
  types: Record<string, string>;
  /** The accepted samples whose metric name `options.capture` wanted, in input order. */
  captured: CapturedSample[];
}

/** One sample line, decoded: for the few samples a caller reads (a collector's own telemetry). */
export interface CapturedSample {
  name: string;
  labels: Record<string, string>;
  /** As Go parses it: NaN and ±Inf included. */
  value: number;
}

export interface ExpositionScannerOptions {
  /** Label names whose distinct values to report in `labelValues`. */
  collectLabels?: readonly string[];
  /** A longer line (in bytes, without its newline) is one error, skipped without being buffered. Default 1 MiB. */
  maxLineBytes?: number;
  /** Which samples to keep whole in `captured`, by metric name (asked once per name; must not throw). */
  capture?: (metricName: string) => boolean;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
const METRIC_TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
/** How much of an over-long line is kept for its error message. */
const EXCERPT_SOURCE_BYTES = 120;
/** Label sets up to this size are sorted by insertion (fastest for the usual handful); larger ones by Array#sort. */
const INSERTION_SORT_MAX = 32;
/**
 * Complete lines are decoded and parsed in regions of at most this many bytes (unless one line is
 * longer), and long strings are encoded in pieces of this many units: V8 puts strings and buffers
 * over about 128 KiB in its large-object space, and decoding into them was ~70x slower here.
 */
const REGION_BYTES = 64 * 1024;

/**
 * A streaming scanner. Calling rules: `write()` any number of chunks (bytes or strings, split
 * anywhere — inside a line, an escape, or a UTF-8 character), then call `end()` once to flush a
 * final line without a newline and get the stats. A malformed line is counted, never thrown.
 * `write()` after `end()` throws; `end()` again returns the same stats.
 *
 * Lines are parsed as latin1 text (one character per byte, so positions are byte offsets and the
 * grammar's ASCII never meets a UTF-8 byte); names and values are decoded as UTF-8 only for output.
 */
export class ExpositionScanner {
  private readonly maxLineBytes: number;
  /** Wanted label names, in the latin1 spelling of their UTF-8 bytes -> values seen (same spelling). */
  private readonly collect = new Map<string, Set<string>>();
  private readonly collectNames = new Map<string, string>();
  private readonly capture: ((metricName: string) => boolean) | undefined;
  private readonly captureByName = new Map<string, boolean>();
  private readonly captured: CapturedSample[] = [];

  private readonly series = new SeriesSet();
  private readonly metrics = new Map<string, MetricCount>();
  private readonly typeMap = new Map<string, string>();
  private samples = 0;
  private bytes = 0;
  private errors = 0;
  private firstError: { line: number; message: string } | null = null;
  private lineNo = 1;

  // The start of an incomplete line (copied into one buffer, whatever the chunking), and whether
  // an over-long line is being skipped.
  private pending = Buffer.alloc(0);
  private pendingLength = 0;
  private skipping = false;
  // A string chunk's final high surrogate, held back until its low half arrives.
  private highSurrogate = '';
  private result: ExpositionStats | null = null;

  // The region being parsed: its bytes (for hashing keys) and the same bytes as latin1 text.
  private view: DataView = new DataView(new ArrayBuffer(0));
  private scratch = Buffer.alloc(1024);
  // Next '"' and '\' at or after the last position asked about; parsing only moves forward, so
  // each region is searched once however many quoted strings its lines have.
  private nextQuoteAt = -1;
  private nextBackslashAt = -1;
  private lastEscaped = false;
  /** Where quoteEnd() met an invalid escape, when it returned -1 for one (else -1: unterminated). */
  private badEscapeAt = -1;

  // Names seen on the last lines: the metric name, and each label name by position (plain, and
  // followed by '="'), with whether it sorts after the one before it.
  private knownMetric = new KnownName('');
  private readonly knownNames: (string | undefined)[] = [];
  private readonly knownLabels: (KnownName | undefined)[] = [];
  private readonly knownIncreasing: boolean[] = [];
  // The key of the sample line being parsed, as knownKeyEnd() or parseKey() found it: where its
  // metric name is (and whether quoted or escaped), whether it is canonical, and how many labels.
  private keyMetricStart = 0;
  private keyMetricEnd = 0;
  private keyMetricFlags = 0;
  private keyCanonical = true;
  private keyLabels = 0;

  // Labels of the line being parsed (reused between lines).
  private nameStart = new Int32Array(16);
  private nameEnd = new Int32Array(16);
  private valueStart = new Int32Array(16);
  private valueEnd = new Int32Array(16);
  private flags = new Uint8Array(16);

  constructor(options: ExpositionScannerOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ConfigError(`exposition scanner: maxLineBytes must be a positive integer, got ${showValue(max)}`);
    }
    this.maxLineBytes = max;
    this.capture = options.capture;
    for (const name of options.collectLabels ?? []) {
      const raw = Buffer.from(name).toString('latin1');
      if (this.collect.has(raw)) continue;
      this.collect.set(raw, new Set());
      this.collectNames.set(raw, name);
    }
  }

  /** Bytes held for an incomplete line (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  write(chunk: Uint8Array | string): void {
    if (this.result !== null) {
      throw new CallingRuleError('PHX_SCANNER_ENDED', 'exposition scanner: write() called after end()');
    }
    // A held high surrogate is completed only by a string; before bytes it is U+FFFD, as Buffer.from makes it.
    let text = this.highSurrogate;
    this.highSurrogate = '';
    if (typeof chunk !== 'string') {
      if (text !== '') this.writeBytes(Buffer.from(text));
      this.writeBytes(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return;
    }
    for (let i = 0; i < chunk.length; i += REGION_BYTES) {
      text += chunk.slice(i, i + REGION_BYTES);
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.highSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
      this.writeBytes(Buffer.from(text));
      text = this.highSurrogate;
      this.highSurrogate = '';
    }
    this.highSurrogate = text;
  }

  end(): ExpositionStats {
    if (this.result !== null) return this.result;
    // A lone high surrogate at the very end has no UTF-8 form: it becomes U+FFFD, as Buffer.from does.
    if (this.highSurrogate !== '') this.writeBytes(Buffer.from(this.highSurrogate));
    this.highSurrogate = '';
    if (!this.skipping && this.pendingLength > 0) this.parseRegion(this.pending, 0, this.pendingLength);
    this.dropPending();

    const seriesByMetric = new Map<string, number>();
    for (const { name, count } of this.metrics.values()) {
      const decoded = utf8(name);
      seriesByMetric.set(decoded, (seriesByMetric.get(decoded) ?? 0) + count);
    }
    // fromEntries, not assignment: a label named __proto__ stays an ordinary key.
    const labelValues: Record<string, string[]> = Object.fromEntries(
      [...this.collect].map(([raw, values]) => [this.collectNames.get(raw)!, [...new Set([...values].map(utf8))].sort()]),
    );
    this.result = {
      series: this.series.size,
      samples: this.samples,
      bytes: this.bytes,
      seriesByMetric: Object.fromEntries(seriesByMetric),
      errors: this.errors,
      firstError: this.firstError,
      labelValues,
      types: Object.fromEntries(this.typeMap),
      captured: this.captured,
    };
    this.series.release();
    return this.result;
  }

  private writeBytes(buf: Buffer): void {
    this.bytes += buf.length;
    let pos = 0;
    if (this.skipping) {
      const nl = buf.indexOf(NEWLINE);
      if (nl < 0) return;
      this.skipping = false;
      this.lineNo++;
      pos = nl + 1;
    }
    const first = buf.indexOf(NEWLINE, pos);
    if (first < 0) {
      this.hold(buf, pos);
      return;
    }
    if (this.pendingLength > 0) {
      if (this.pendingLength + (first - pos) > this.maxLineBytes) {
        this.lineTooLong(this.pendingHead(buf.subarray(pos, first)));
        this.lineNo++;
      } else {
        this.append(buf.subarray(pos, first));
        this.parseRegion(this.pending, 0, this.pendingLength);
      }
      this.dropPending();
      pos = first + 1;
    }
    const last = buf.lastIndexOf(NEWLINE);
    while (pos <= last) {
      let cut = last;
      if (last - pos > REGION_BYTES) {
        cut = buf.lastIndexOf(NEWLINE, pos + REGION_BYTES);
        if (cut < pos) cut = buf.indexOf(NEWLINE, pos + REGION_BYTES); // one line longer than a region
      }
      this.parseRegion(buf, pos, cut);
      pos = cut + 1;
    }
    this.hold(buf, pos);
  }

  /** Keeps the start of an incomplete line, unless that makes it too long. */
  private hold(buf: Buffer, from: number): void {
    const n = buf.length - from;
    if (n === 0) return;
    if (this.pendingLength + n > this.maxLineBytes) {
      this.lineTooLong(this.pendingHead(buf.subarray(from)));
      this.dropPending();
      this.skipping = true;
      return;
    }
    this.append(buf.subarray(from));
  }

  private append(bytes: Buffer): void {
    const needed = this.pendingLength + bytes.length;
    if (needed > this.pending.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(needed, 2 * this.pending.length, 256)));
      this.pending.copy(bigger, 0, 0, this.pendingLength);
      this.pending = bigger;
    }
    bytes.copy(this.pending, this.pendingLength);
    this.pendingLength = needed;
  }

  /** Forgets the held line; a buffer grown for a long one is let go. */
  private dropPending(): void {
    this.pendingLength = 0;
    if (this.pending.length > REGION_BYTES) this.pending = Buffer.alloc(0);
  }

  /** The first bytes of the held line continued by `next`, for an error message. */
  private pendingHead(next: Buffer): Buffer {
    const held = this.pending.subarray(0, Math.min(this.pendingLength, EXCERPT_SOURCE_BYTES));
    return Buffer.concat([held, next.subarray(0, EXCERPT_SOURCE_BYTES - held.length)]);
  }

  private lineTooLong(start: Buffer): void {
    this.countError(() => {
      // At most maxLineBytes + 1 bytes: all any chunking is sure to have seen when the line went over.
      const text = start.toString('latin1', 0, Math.min(EXCERPT_SOURCE_BYTES, this.maxLineBytes + 1));
      return `line longer than maxLineBytes (${this.maxLineBytes} bytes), skipped: ${excerpt(text, 0, text.length, 0)}`;
    });
  }

  /** Parses the complete lines in buf[start, end), separated by '\n' (the last one needs none). */
  private parseRegion(buf: Buffer, start: number, end: number): void {
    const text = buf.toString('latin1', start, end);
    this.view = new DataView(buf.buffer, buf.byteOffset + start, end - start);
    this.nextQuoteAt = -1;
    this.nextBackslashAt = -1;
    const n = text.length;
    let p = 0;
    for (;;) {
      let nl = text.indexOf('\n', p);
      if (nl < 0) nl = n;
      this.parseLine(text, p, nl);
      this.lineNo++;
      if (nl >= n) break;
      p = nl + 1;
    }
  }

  private parseLine(text: string, lineStart: number, lineEnd: number): void {
    if (lineEnd - lineStart > this.maxLineBytes) {
      this.lineTooLong(Buffer.from(text.slice(lineStart, lineStart + EXCERPT_SOURCE_BYTES), 'latin1'));
      return;
    }
    let e = lineEnd;
    if (e > lineStart && text.charCodeAt(e - 1) === 13) e--;
    const s = skipBlanks(text, lineStart, e);
    if (s === e) return;
    if (text.charCodeAt(s) === HASH) this.parseComment(text, lineStart, s + 1, e);
    else this.parseSample(text, lineStart, s, e);
  }

  /** `# HELP name text`, `# TYPE name type`, or any other comment (ignored). */
  private parseComment(text: string, lineStart: number, start: number, e: number): void {
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
      const q = this.readQuoted(text, lineStart, p + 1, e);
      if (q < 0) return;
      if (q === p + 1) return this.fail('empty metric name in comment', text, lineStart, e, p);
      name = readName(text, p + 1, q, this.lastEscaped ? ESCAPED_NAME : 0);
      p = q + 1;
    } else {
      const nameStart = p;
      if (isClass(text.charCodeAt(p), METRIC_START)) while (++p < e && isClass(text.charCodeAt(p), METRIC_CHAR));
      if (p === nameStart) return this.fail('invalid metric name in comment', text, lineStart, e, p);
      name = text.slice(nameStart, p);
    }
    if (p < e && !isBlank(text.charCodeAt(p))) {
      return this.fail('invalid metric name in comment', text, lineStart, e, p);
    }
    p = skipBlanks(text, p, e);
    if (p >= e) return;
    if (help) {
      // Help text only needs its escapes checked: \\ and \n.
      for (;;) {
        const b = this.nextBackslash(text, p);
        if (b >= e) return;
        const next = text.charCodeAt(b + 1);
        if (b + 1 >= e || (next !== BACKSLASH && next !== LOWER_N)) {
          const sequence = utf8(text.slice(b, Math.min(b + 2, e)));
          return this.fail(`invalid escape sequence in help text '${sequence}'`, text, lineStart, e, b);
        }
        p = b + 2;
      }
    }
    let end = e;
    while (end > p && isBlank(text.charCodeAt(end - 1))) end--;
    const type = text.slice(p, end);
    if (!METRIC_TYPES.has(type)) {
      return this.fail(`unknown metric type ${showValue(utf8(type), 40)}`, text, lineStart, e, p);
    }
    this.typeMap.set(utf8(name), type);
  }

  /** `name{label="value",...} value [timestamp]`, or `{"name",label="value"} value [timestamp]`. */
  private parseSample(text: string, lineStart: number, s: number, e: number): void {
    // Usually spelt as the lines before it; else the general path reads (or rejects) the key.
    let keyEnd = this.knownKeyEnd(text, s, e);
    if (keyEnd < 0) keyEnd = this.parseKey(text, lineStart, s, e);
    if (keyEnd < 0) return;
    const metricStart = this.keyMetricStart;
    const metricEnd = this.keyMetricEnd;
    const metricFlags = this.keyMetricFlags;
    const canonical = this.keyCanonical;
    const n = this.keyLabels;

    // The value, then an optional timestamp. A plain decimal is read in one pass; anything else
    // (a sign, NaN, Inf, junk) is delimited first, then checked.
    let p = skipBlanks(text, keyEnd, e);
    let t = decimalEnd(text, p, e);
    if (t < 0 || (t < e && !isBlank(text.charCodeAt(t)))) {
      t = p;
      while (t < e && !isBlank(text.charCodeAt(t))) t++;
      if (t === p) return this.fail('missing value', text, lineStart, e, p);
      if (!isGoFloat(text, p, t)) {
        return this.fail(`invalid value ${showValue(utf8(text.slice(p, t)), 40)}`, text, lineStart, e, p);
      }
    }
    const valueAt = p;
    const valueEnd = t;
    p = skipBlanks(text, t, e);
    if (p < e) {
      t = p;
      while (t < e && !isBlank(text.charCodeAt(t))) t++;
      if (!isInteger(text, p, t)) {
        return this.fail(`invalid timestamp ${showValue(utf8(text.slice(p, t)), 40)}`, text, lineStart, e, p);
      }
      p = skipBlanks(text, t, e);
      if (p < e) return this.fail('unexpected text after the timestamp', text, lineStart, e, p);
    }

    // Key: the raw `name{...}` bytes when already canonical (bare sorted names, no blanks), else rebuilt; kept as a 64-bit hash.
    let isNew: boolean;
    if (canonical) {
      isNew = this.series.add(this.view, metricStart, keyEnd);
    } else {
      const key = this.canonicalKey(text, lineStart, e, metricStart, metricEnd, metricFlags, n);
      if (key === null) return;
      if (this.scratch.length < key.length) this.scratch = Buffer.alloc(key.length * 2);
      this.scratch.write(key, 0, 'latin1');
      isNew = this.series.add(new DataView(this.scratch.buffer, this.scratch.byteOffset, key.length), 0, key.length);
    }
    this.samples++;
    if (this.capture !== undefined) this.captureSample(text, metricStart, metricEnd, metricFlags, n, valueAt, valueEnd);
    if (!isNew) return;

    // A new series: count it under its metric name, and collect the wanted label values.
    // A bare metric name is the known one (matched or just learnt), which keeps its counter.
    let metric: MetricCount;
    if (metricFlags === 0) metric = this.knownMetric.counter ??= this.metricCount(this.knownMetric.text);
    else metric = this.metricCount(readName(text, metricStart, metricEnd, metricFlags));
    metric.count++;
    if (this.collect.size > 0) this.collectValues(text, n, canonical);
  }

  /**
   * The general path for a sample's `name{...}` (any spelling): checks it, sets the key fields and
   * returns where it ends, or counts the error and returns -1.
   */
  private parseKey(text: string, lineStart: number, s: number, e: number): number {
    let p = s;
    let c = text.charCodeAt(p);
    let metricStart = -1;
    let metricEnd = -1;
    let metricFlags = 0;
    let keyEnd = -1;
    // Whether the text from the name to '}' already is the canonical key (see canonicalKey).
    let canonical = true;
    let n = 0;

    if (isClass(c, METRIC_START)) {
      metricStart = p;
      const known = this.knownMetric;
      if (known.matches(this.view, p) && !isClass(text.charCodeAt(p + known.length), METRIC_CHAR)) {
        p += known.length;
      } else {
        while (++p < e && isClass(text.charCodeAt(p), METRIC_CHAR));
        this.knownMetric = new KnownName(text.slice(metricStart, p));
      }
      metricEnd = keyEnd = p;
      if (p < e) {
        c = text.charCodeAt(p);
        if (isBlank(c)) {
          p = skipBlanks(text, p, e);
          if (text.charCodeAt(p) === OPEN_BRACE) canonical = false;
        } else if (c !== OPEN_BRACE) {
          return this.reject('invalid metric name', text, lineStart, e, p);
        }
      }
    } else if (c !== OPEN_BRACE) {
      return this.reject('invalid metric name', text, lineStart, e, p);
    }

    if (p < e && text.charCodeAt(p) === OPEN_BRACE) {
      p++;
      let afterComma = false;
      for (;;) {
        const blanksFrom = p;
        p = skipBlanks(text, p, e);
        if (p !== blanksFrom) canonical = false;
        if (p >= e) return this.reject("missing '}'", text, lineStart, e, p);
        c = text.charCodeAt(p);
        if (c === CLOSE_BRACE) {
          // Empty braces and a trailing comma are spellings the canonical key does not use.
          if (n === 0 || afterComma) canonical = false;
          p++;
          break;
        }
        let labelStart: number;
        let labelEnd: number;
        let labelFlags = 0;
        if (c === QUOTE) {
          const quoteAt = p;
          const q = this.readQuoted(text, lineStart, p + 1, e);
          if (q < 0) return -1;
          canonical = false;
          const escaped = this.lastEscaped ? ESCAPED_NAME : 0;
          p = skipBlanks(text, q + 1, e);
          const next = text.charCodeAt(p);
          if (next === COMMA || next === CLOSE_BRACE) {
            // A quoted string on its own is the metric name (UTF-8 names), allowed only first.
            if (metricStart >= 0) return this.reject('metric name given twice', text, lineStart, e, quoteAt);
            if (n > 0) return this.reject('quoted metric name must come first in braces', text, lineStart, e, quoteAt);
            if (q === quoteAt + 1) return this.reject('empty metric name', text, lineStart, e, quoteAt);
            metricStart = quoteAt + 1;
            metricEnd = q;
            metricFlags = QUOTED_NAME | escaped;
            p++;
            afterComma = next === COMMA;
            if (afterComma) continue;
            break;
          }
          if (q === quoteAt + 1) return this.reject('empty label name', text, lineStart, e, quoteAt);
          labelStart = quoteAt + 1;
          labelEnd = q;
          labelFlags = QUOTED_NAME | escaped;
        } else if (isClass(c, LABEL_START)) {
          labelStart = p;
          const known = this.knownLabels[n];
          if (known !== undefined && known.matches(this.view, p)) {
            // The name the previous line had here, already checked, and its order with the one before.
            p = labelEnd = p + known.length - 2;
            if (n > 0 && !this.knownIncreasing[n]) canonical = false;
          } else {
            while (++p < e && isClass(text.charCodeAt(p), LABEL_CHAR));
            labelEnd = p;
            c = text.charCodeAt(p);
            if (p < e && c !== EQUALS && !isBlank(c)) return this.reject('invalid label name', text, lineStart, e, p);
            p = skipBlanks(text, p, e);
            if (p !== labelEnd) canonical = false;
            if (canonical && n > 0 && compareRanges(text, this.nameStart[n - 1]!, this.nameEnd[n - 1]!, labelStart, labelEnd) >= 0) {
              canonical = false;
            }
            if (canonical && text.charCodeAt(p + 1) === QUOTE) this.learnLabel(n, text.slice(labelStart, labelEnd));
          }
        } else {
          return this.reject('invalid label name', text, lineStart, e, p);
        }
        if (text.charCodeAt(p) !== EQUALS || p >= e) {
          return this.reject("expected '=' after label name", text, lineStart, e, p);
        }
        const valueFrom = ++p;
        p = skipBlanks(text, p, e);
        if (p !== valueFrom) canonical = false;
        if (text.charCodeAt(p) !== QUOTE || p >= e) {
          return this.reject("expected '\"' to start the label value", text, lineStart, e, p);
        }
        const q = this.readQuoted(text, lineStart, p + 1, e);
        if (q < 0) return -1;
        if (this.lastEscaped) labelFlags |= ESCAPED_VALUE;
        if (n === this.flags.length) this.growLabels();
        this.nameStart[n] = labelStart;
        this.nameEnd[n] = labelEnd;
        this.valueStart[n] = p + 1;
        this.valueEnd[n] = q;
        this.flags[n] = labelFlags;
        n++;
        p = skipBlanks(text, q + 1, e);
        if (p !== q + 1) canonical = false;
        c = text.charCodeAt(p);
        if (c === COMMA && p < e) {
          p++;
          afterComma = true;
        } else if (c === CLOSE_BRACE && p < e) {
          p++;
          afterComma = false;
          break;
        } else {
          return this.reject("expected ',' or '}' after label value", text, lineStart, e, p);
        }
      }
      keyEnd = p;
      if (metricStart < 0) return this.reject('missing metric name', text, lineStart, e, s);
    }

    this.keyMetricStart = metricStart;
    this.keyMetricEnd = metricEnd;
    this.keyMetricFlags = metricFlags;
    this.keyCanonical = canonical;
    this.keyLabels = n;
    return keyEnd;
  }

  /**
   * The fast path for the usual line, spelt as the last ones: the known metric name, '{', and at each
   * position the known label name (names increasing, so the key is canonical), no blanks, well-formed
   * values, '}'. Returns the position after '}' and sets the key fields (and the label positions, when
   * captured or collected); -1 for any other line, which the general path then parses and reports.
   */
  private knownKeyEnd(text: string, s: number, e: number): number {
    const view = this.view;
    const metric = this.knownMetric;
    if (metric.length === 0 || !metric.matches(view, s) || text.charCodeAt(s + metric.length) !== OPEN_BRACE) return -1;
    const record = this.capture !== undefined || this.collect.size > 0;
    // text[e] is '\n', '\r' or past the end, so comparing it with ',' or '}' needs no bounds check.
    for (let n = 0, p = s + metric.length + 1; ; n++) {
      const known = this.knownLabels[n];
      if (known === undefined || !known.matches(view, p) || (n > 0 && !this.knownIncreasing[n])) return this.leaveFastPath();
      const valueStart = p + known.length;
      const q = this.quoteEnd(text, valueStart, e);
      if (q < 0) return this.leaveFastPath();
      if (record) {
        if (n === this.flags.length) this.growLabels();
        this.nameStart[n] = p;
        this.nameEnd[n] = valueStart - 2;
        this.valueStart[n] = valueStart;
        this.valueEnd[n] = q;
        this.flags[n] = this.lastEscaped ? ESCAPED_VALUE : 0;
      }
      const c = text.charCodeAt(q + 1);
      if (c === CLOSE_BRACE) {
        this.keyMetricStart = s;
        this.keyMetricEnd = s + metric.length;
        this.keyMetricFlags = 0;
        this.keyCanonical = true;
        this.keyLabels = n + 1;
        return q + 2;
      }
      if (c !== COMMA) return this.leaveFastPath();
      p = q + 2;
    }
  }

  /** The general path re-reads the line from its start: forget the quote and backslash found ahead. */
  private leaveFastPath(): number {
    this.nextQuoteAt = -1;
    this.nextBackslashAt = -1;
    return -1;
  }

  private captureSample(
    text: string,
    metricStart: number,
    metricEnd: number,
    metricFlags: number,
    n: number,
    valueAt: number,
    valueEnd: number,
  ): void {
    const name = utf8(readName(text, metricStart, metricEnd, metricFlags));
    let wanted = this.captureByName.get(name);
    if (wanted === undefined) {
      wanted = this.capture!(name);
      this.captureByName.set(name, wanted);
    }
    if (!wanted) return;
    const labels: [string, string][] = [];
    for (let i = 0; i < n; i++) {
      const flags = this.flags[i]!;
      const vs = this.valueStart[i]!;
      const ve = this.valueEnd[i]!;
      const value = (flags & ESCAPED_VALUE) !== 0 ? unescape(text, vs, ve) : text.slice(vs, ve);
      labels.push([utf8(readName(text, this.nameStart[i]!, this.nameEnd[i]!, flags)), utf8(value)]);
    }
    this.captured.push({ name, labels: Object.fromEntries(labels), value: parseGoFloat(text.slice(valueAt, valueEnd)) });
  }

  private metricCount(name: string): MetricCount {
    let metric = this.metrics.get(name);
    if (metric === undefined) {
      metric = { name: copy(name), count: 0 };
      this.metrics.set(metric.name, metric);
    }
    return metric;
  }

  /**
   * Series key: `name{l1="v1",l2="v2"}` with label names sorted, no blanks, no trailing comma, and
   * names bare unless they need quotes; values keep their escaped spelling, the only valid spelling
   * of an unescaped value. A line already written so is hashed in place (the fast path), others are
   * rebuilt here; the key set holds 64-bit hashes of keys, not the keys.
   */
  private canonicalKey(
    text: string,
    lineStart: number,
    e: number,
    metricStart: number,
    metricEnd: number,
    metricFlags: number,
    n: number,
  ): string | null {
    const metric = readName(text, metricStart, metricEnd, metricFlags);
    let key = isLegacyName(metric, METRIC_START, METRIC_CHAR) ? metric : `"${text.slice(metricStart, metricEnd)}"`;
    if (n === 0) return key;
    const names: string[] = [];
    const order: number[] = [];
    for (let i = 0; i < n; i++) {
      names.push(readName(text, this.nameStart[i]!, this.nameEnd[i]!, this.flags[i]!));
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
        if (name === names[order[k - 1]!]) {
          this.fail(`duplicate label name ${showValue(utf8(name), 40)}`, text, lineStart, e, this.nameStart[i]!);
          return null;
        }
        key += ',';
      }
      key += isLegacyName(name, LABEL_START, LABEL_CHAR) ? name : `"${text.slice(this.nameStart[i]!, this.nameEnd[i]!)}"`;
      key += `="${text.slice(this.valueStart[i]!, this.valueEnd[i]!)}"`;
    }
    return key + '}';
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

  /** A canonical line's label names are the known ones, which know whether they are wanted. */
  private collectValues(text: string, n: number, canonical: boolean): void {
    for (let i = 0; i < n; i++) {
      const flags = this.flags[i]!;
      const vs = this.valueStart[i]!;
      const ve = this.valueEnd[i]!;
      let values: Set<string> | undefined;
      if (canonical) {
        const known = this.knownLabels[i]!;
        values = known.values;
        if (values === undefined) continue;
        // Neighbouring lines often repeat a value: comparing is cheaper than slicing and hashing.
        if (known.lastText !== '' && sameText(known.lastText, known.lastStart, known.lastEnd, text, vs, ve)) continue;
        known.lastText = text;
        known.lastStart = vs;
        known.lastEnd = ve;
      } else {
        values = this.collect.get(readName(text, this.nameStart[i]!, this.nameEnd[i]!, flags));
        if (values === undefined) continue;
      }
      const value = (flags & ESCAPED_VALUE) !== 0 ? unescape(text, vs, ve) : text.slice(vs, ve);
      if (!values.has(value)) values.add(copy(value));
    }
  }

  /**
   * Finds the closing quote of a quoted string whose content starts at `p`, checks its escapes
   * and sets lastEscaped. Returns -1, after counting the error, when it is malformed.
   */
  private readQuoted(text: string, lineStart: number, p: number, e: number): number {
    const q = this.quoteEnd(text, p, e);
    if (q >= 0) return q;
    const b = this.badEscapeAt;
    if (b >= 0) this.fail(`invalid escape sequence '${utf8(text.slice(b, b + 2))}'`, text, lineStart, e, b);
    else this.fail('unterminated quoted string', text, lineStart, e, p - 1);
    return -1;
  }

  /**
   * readQuoted without the error: -1 when malformed (badEscapeAt says where an invalid escape is).
   * It never looks past e + 1, so the next line's searches still start after what it found.
   */
  private quoteEnd(text: string, p: number, e: number): number {
    let q = this.nextQuote(text, p);
    let b = this.nextBackslash(text, p);
    this.lastEscaped = b < q;
    while (b < q && b + 1 < e) {
      const c = text.charCodeAt(b + 1);
      if (c !== BACKSLASH && c !== QUOTE && c !== LOWER_N) {
        this.badEscapeAt = b;
        return -1;
      }
      q = this.nextQuote(text, b + 2);
      b = this.nextBackslash(text, b + 2);
    }
    if (q >= e) {
      this.badEscapeAt = -1;
      return -1;
    }
    return q;
  }

  private nextQuote(text: string, p: number): number {
    if (this.nextQuoteAt < p) {
      const q = text.indexOf('"', p);
      this.nextQuoteAt = q < 0 ? text.length : q;
    }
    return this.nextQuoteAt;
  }

  private nextBackslash(text: string, p: number): number {
    if (this.nextBackslashAt < p) {
      const b = text.indexOf('\\', p);
      this.nextBackslashAt = b < 0 ? text.length : b;
    }
    return this.nextBackslashAt;
  }

  private growLabels(): void {
    const size = this.flags.length * 2;
    const grow = <T extends Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(a: T, bigger: T): T => {
      bigger.set(a);
      return bigger;
    };
    this.nameStart = grow(this.nameStart, new Int32Array(size));
    this.nameEnd = grow(this.nameEnd, new Int32Array(size));
    this.valueStart = grow(this.valueStart, new Int32Array(size));
    this.valueEnd = grow(this.valueEnd, new Int32Array(size));
    this.flags = grow(this.flags, new Uint8Array(size));
  }

  private fail(problem: string, text: string, lineStart: number, lineEnd: number, at: number): void {
    this.countError(() => `${problem} at column ${at - lineStart + 1}: ${excerpt(text, lineStart, lineEnd, at)}`);
  }

  /** fail(), for the paths that return a position: -1. */
  private reject(problem: string, text: string, lineStart: number, lineEnd: number, at: number): -1 {
    this.fail(problem, text, lineStart, lineEnd, at);
    return -1;
  }

  /** Builds the message for the first error only: garbage input must stay cheap. */
  private countError(message: () => string): void {
    this.errors++;
    if (this.firstError === null) this.firstError = { line: this.lineNo, message: message() };
  }
}

/** Scans a whole exposition at once. */
export function scanExposition(text: string | Uint8Array, options?: ExpositionScannerOptions): ExpositionStats {
  const scanner = new ExpositionScanner(options);
  scanner.write(text);
  return scanner.end();
}

interface MetricCount {
  /** latin1 spelling of the UTF-8 bytes */
  name: string;
  count: number;
}

/** A name (latin1 text) remembered from an earlier line, compared with the bytes four at a time. */
class KnownName {
  /** A copy: a slice of the region would keep all of it alive. */
  readonly text: string;
  readonly length: number;
  /** For a metric name: its series counter, once it has one. */
  counter: MetricCount | undefined = undefined;
  /** For a label name: where its values go, if it is one of the collected labels. */
  values: Set<string> | undefined = undefined;
  /** For a collected label name: where its last value was (text, start, end), already collected. */
  lastText = '';
  lastStart = 0;
  lastEnd = 0;
  private readonly words: Int32Array;
  /** The last four bytes, compared at once when the length is not a multiple of four. */
  private readonly tail: number;
  private readonly bytes: Buffer;

  constructor(text: string) {
    this.length = text.length;
    this.bytes = Buffer.from(text, 'latin1');
    this.text = this.bytes.toString('latin1');
    this.words = new Int32Array(text.length >> 2);
    for (let k = 0; k < this.words.length; k++) this.words[k] = this.bytes.readInt32LE(4 * k);
    this.tail = text.length >= 4 ? this.bytes.readInt32LE(text.length - 4) : 0;
  }

  /** Whether view[at, at + length) holds this name. */
  matches(view: DataView, at: number): boolean {
    const length = this.length;
    if (at + length > view.byteLength) return false;
    const words = this.words;
    for (let k = 0; k < words.length; k++) if (view.getInt32(at + 4 * k, true) !== words[k]) return false;
    if ((length & 3) === 0) return true;
    if (length > 4) return view.getInt32(at + length - 4, true) === this.tail;
    for (let i = 0; i < length; i++) if (view.getUint8(at + i) !== this.bytes[i]) return false;
    return true;
  }
}

/** Up to 60 bytes of the line around `at`, decoded and quoted. */
function excerpt(text: string, lineStart: number, lineEnd: number, at: number): string {
  const from = at - lineStart > 40 ? at - 20 : lineStart;
  const to = Math.min(lineEnd, from + 60);
  return `${from > lineStart ? '…' : ''}'${utf8(text.slice(from, to))}'${to < lineEnd ? '…' : ''}`;
}
