// Adds up an exposition's accepted lines: distinct series, per-metric counts, types, collected label values, captured samples.
import type { CapturedSample, ExpositionScannerOptions, ExpositionStats, SeriesValue } from '../exposition.js';
import { SeriesSet } from '../series-set.js';
import type { KeyReader } from './key-reader.js';
import type { LineErrors } from './line-errors.js';
import { copy, parseGoFloat, readName, sameText, utf8 } from './syntax.js';

/** A metric name's distinct series. */
export interface MetricCount {
  /** latin1 spelling of the UTF-8 bytes */
  name: string;
  count: number;
}

/**
 * Names and values are kept in the latin1 spelling of their UTF-8 bytes, as the lines are read,
 * and decoded once in stats(). Calling rules: sample() and type() for each accepted line, then
 * stats() once.
 */
export class ExpositionTally {
  /** Wanted label names (latin1 spelling) -> values seen (same spelling). */
  readonly collect = new Map<string, Set<string>>();
  /** Whether samples need their labels' positions: something is collected or captured. */
  readonly record: boolean;
  private readonly collectNames = new Map<string, string>();
  private readonly capture: ((metricName: string) => boolean) | undefined;
  private readonly captureByName = new Map<string, boolean>();
  private readonly captured: CapturedSample[] = [];
  private readonly series = new SeriesSet();
  private readonly previous: SeriesSet | undefined;
  private readonly keepSeries: boolean;
  private appeared = 0;
  private readonly valuesOf: ((metricName: string) => boolean) | undefined;
  /** Metric name (decoded) -> wanted or not; and each wanted one's values by series. */
  private readonly valuesByName = new Map<string, Map<number, SeriesValue> | null>();
  private readonly metrics = new Map<string, MetricCount>();
  private readonly typeMap = new Map<string, string>();
  private samples = 0;

  constructor(options: ExpositionScannerOptions) {
    this.capture = options.capture;
    for (const name of options.collectLabels ?? []) {
      const raw = Buffer.from(name).toString('latin1');
      if (this.collect.has(raw)) continue;
      this.collect.set(raw, new Set());
      this.collectNames.set(raw, name);
    }
    this.previous = options.previousSeries;
    this.keepSeries = options.keepSeries ?? false;
    this.valuesOf = options.values;
    this.record = this.capture !== undefined || this.collect.size > 0;
  }

  /**
   * The sample line whose key `keys` just read, with its value at text[valueAt, valueEnd); the key
   * to count is view[start, end), canonical. Values are collected only from a series' first line.
   */
  sample(keys: KeyReader, text: string, view: DataView, start: number, end: number, valueAt: number, valueEnd: number, stampAt: number, stampEnd: number): void {
    const series = this.series;
    const isNew = series.add(view, start, end);
    this.samples++;
    if (this.capture !== undefined) this.captureSample(keys, text, valueAt, valueEnd);
    if (!isNew) return;
    if (this.previous !== undefined && !this.previous.has(series.lastLow, series.lastHigh)) this.appeared++;
    if (this.valuesOf !== undefined) this.keepValue(keys, text, valueAt, valueEnd, stampAt, stampEnd);
    // A bare metric name is the known one (matched or just learnt), which keeps its counter.
    let metric: MetricCount;
    if (keys.metricFlags === 0) metric = keys.knownMetric.counter ??= this.metricCount(keys.knownMetric.text);
    else metric = this.metricCount(readName(text, keys.metricStart, keys.metricEnd, keys.metricFlags));
    metric.count++;
    if (this.collect.size > 0) this.collectValues(keys, text);
  }

  /** A `# TYPE` line's family name (latin1 spelling) and type word. */
  type(name: string, type: string): void {
    this.typeMap.set(utf8(name), type);
  }

  /** The totals, decoded; the series set's memory is let go. */
  stats(bytes: number, errors: LineErrors): ExpositionStats {
    const seriesByMetric = new Map<string, number>();
    for (const { name, count } of this.metrics.values()) {
      const decoded = utf8(name);
      seriesByMetric.set(decoded, (seriesByMetric.get(decoded) ?? 0) + count);
    }
    // fromEntries, not assignment: a label named __proto__ stays an ordinary key.
    const labelValues: Record<string, string[]> = Object.fromEntries(
      [...this.collect].map(([raw, values]) => [this.collectNames.get(raw)!, [...new Set([...values].map(utf8))].sort()]),
    );
    const stats: ExpositionStats = {
      series: this.series.size,
      samples: this.samples,
      bytes,
      seriesByMetric: Object.fromEntries(seriesByMetric),
      errors: errors.count,
      firstError: errors.first,
      labelValues,
      types: Object.fromEntries(this.typeMap),
      captured: this.captured,
      appeared: this.appeared,
      seriesSet: this.keepSeries ? this.series : null,
      values: Object.fromEntries([...this.valuesByName].filter((entry): entry is [string, Map<number, SeriesValue>] => entry[1] !== null)),
    };
    if (!this.keepSeries) this.series.release();
    return stats;
  }

  /**
   * A wanted metric's value (and timestamp), keyed by 53 bits of the series' hash. Whether a name is wanted is
   * remembered on the known metric name, as its counter is: decoding the name of every series cost more than the rest.
   */
  private keepValue(keys: KeyReader, text: string, valueAt: number, valueEnd: number, stampAt: number, stampEnd: number): void {
    const known = keys.metricFlags === 0 ? keys.knownMetric : null;
    let values = known?.seriesValues;
    if (values === undefined) {
      const name = utf8(readName(text, keys.metricStart, keys.metricEnd, keys.metricFlags));
      values = this.valuesByName.get(name);
      if (values === undefined) {
        values = this.valuesOf!(name) ? new Map() : null;
        this.valuesByName.set(name, values);
      }
      if (known) known.seriesValues = values;
    }
    if (values === null) return;
    const key = (this.series.lastHigh >>> 11) * 0x1_0000_0000 + (this.series.lastLow >>> 0);
    values.set(key, { value: parseGoFloat(text.slice(valueAt, valueEnd)), timestampMs: stampAt < 0 ? null : Number(text.slice(stampAt, stampEnd)) });
  }

  private captureSample(keys: KeyReader, text: string, valueAt: number, valueEnd: number): void {
    const name = utf8(readName(text, keys.metricStart, keys.metricEnd, keys.metricFlags));
    let wanted = this.captureByName.get(name);
    if (wanted === undefined) {
      wanted = this.capture!(name);
      this.captureByName.set(name, wanted);
    }
    if (!wanted) return;
    const labels: [string, string][] = [];
    for (let i = 0; i < keys.labelCount; i++) labels.push([utf8(keys.labels.name(text, i)), utf8(keys.labels.value(text, i))]);
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

  /** A canonical line's label names are the known ones, which know whether they are wanted. */
  private collectValues(keys: KeyReader, text: string): void {
    const labels = keys.labels;
    for (let i = 0; i < keys.labelCount; i++) {
      let values: Set<string> | undefined;
      if (keys.canonical) {
        const known = keys.knownLabels[i]!;
        values = known.values;
        if (values === undefined) continue;
        const vs = labels.valueStart[i]!;
        const ve = labels.valueEnd[i]!;
        // Neighbouring lines often repeat a value: comparing is cheaper than slicing and hashing.
        if (known.lastText !== '' && sameText(known.lastText, known.lastStart, known.lastEnd, text, vs, ve)) continue;
        known.lastText = text;
        known.lastStart = vs;
        known.lastEnd = ve;
      } else {
        values = this.collect.get(labels.name(text, i));
        if (values === undefined) continue;
      }
      const value = labels.value(text, i);
      if (!values.has(value)) values.add(copy(value));
    }
  }
}
