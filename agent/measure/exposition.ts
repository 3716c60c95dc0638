// The exposition scanner's contract: it streams a Prometheus text exposition (format 0.0.4, plus quoted UTF-8 names) and counts its cardinality.
import { CallingRuleError, ConfigError, showValue } from '../../common/errors.js';
import { LineErrors } from './exposition/line-errors.js';
import { LineFramer } from './exposition/line-framer.js';
import { LineParser } from './exposition/line-parser.js';
import { ExpositionTally } from './exposition/tally.js';
import type { SeriesSet } from './series-set.js';

// How the work is shared (all under exposition/): line-framer.ts turns chunks into regions of whole
// lines; line-parser.ts reads each line (the line grammar is there), key-reader.ts each sample's
// series key (its grammar, and the fast path for keys spelt as the last ones); tally.ts adds up what
// was accepted; line-errors.ts counts and words what was not.

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
  /** Distinct series not in `options.previousSeries` (0 without it). */
  appeared: number;
  /** This scrape's series, when `options.keepSeries` asked for them (to be the next scrape's previousSeries). */
  seriesSet: SeriesSet | null;
  /** For each metric name `options.values` wanted: each series' value, by a 53-bit hash of its key (a series' first line). */
  values: Record<string, Map<number, SeriesValue>>;
}

/** One series' value and, when the line had one, its timestamp (ms). */
export interface SeriesValue {
  value: number;
  timestampMs: number | null;
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
  /** The previous scrape's series (its stats.seriesSet): those not in it are counted in `appeared`. */
  previousSeries?: SeriesSet;
  /** Keep this scrape's series set in stats.seriesSet instead of letting it go (the caller owns it then). */
  keepSeries?: boolean;
  /** Which metrics' values to keep in stats.values, by series (asked once per name; must not throw). */
  values?: (metricName: string) => boolean;
}

const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;

/**
 * A streaming scanner. Calling rules:
 * - `write()` any number of chunks, bytes or strings, split anywhere: inside a line, an escape, or a
 *   UTF-8 character (or a UTF-16 surrogate pair). Each chunk's whole lines are parsed before
 *   write() returns, so the caller may reuse a chunk's buffer at once; at most maxLineBytes of an
 *   incomplete line are held (`bufferedBytes`).
 * - then `end()` once: it parses a final line without a newline and returns the stats. A malformed
 *   line is counted in them, never thrown.
 * - `end()` again returns the same stats object; `write()` after `end()` throws a CallingRuleError
 *   (PHX_SCANNER_ENDED). The scanner never changes the stats once returned, and after end()
 *   holds little else (its line buffer, and its series set unless keepSeries asked for it, are let go).
 * The constructor throws a ConfigError for a maxLineBytes that is not a positive integer.
 */
export class ExpositionScanner {
  private readonly errors = new LineErrors();
  private readonly tally: ExpositionTally;
  private readonly framer: LineFramer;
  private result: ExpositionStats | null = null;

  constructor(options: ExpositionScannerOptions = {}) {
    const max = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new ConfigError(`exposition scanner: maxLineBytes must be a positive integer, got ${showValue(max)}`);
    }
    this.tally = new ExpositionTally(options);
    this.framer = new LineFramer(new LineParser(this.tally, this.errors, max), this.errors, max);
  }

  /** Bytes held for an incomplete line (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.framer.bufferedBytes;
  }

  write(chunk: Uint8Array | string): void {
    if (this.result !== null) {
      throw new CallingRuleError('PHX_SCANNER_ENDED', 'exposition scanner: write() called after end()');
    }
    this.framer.write(chunk);
  }

  end(): ExpositionStats {
    if (this.result !== null) return this.result;
    this.framer.end();
    this.result = this.tally.stats(this.framer.bytes, this.errors);
    return this.result;
  }
}

/** Scans a whole exposition at once. */
export function scanExposition(text: string | Uint8Array, options?: ExpositionScannerOptions): ExpositionStats {
  const scanner = new ExpositionScanner(options);
  scanner.write(text);
  return scanner.end();
}
