// fast-check generators for test/fuzz.test.ts: valid Prometheus text expositions that know what they
// wrote (the oracle), and garbage made from them.
import fc from 'fast-check';

/** One sample line as the generator meant it: decoded names and values. */
export interface ModelSample {
  name: string;
  labels: [string, string][];
  value: number;
}

export interface GeneratedExposition {
  text: string;
  /** The same lines for parse-prometheus-text-format: histogram/summary typed `untyped` (it folds those). */
  independentText: string;
  samples: ModelSample[];
  /** Family name -> type, from the `# TYPE` lines written. */
  types: Record<string, string>;
  /** Label names that appear on some sample, for `collectLabels`. */
  labelNames: string[];
}

/** Characters that stress escaping, line structure and UTF-8 (multi-byte, astral), plus any code point. */
const unit = fc.oneof(
  fc.constantFrom('\\', '"', '\n', '\r', '\t', ' ', '\0', '{', '}', ',', '=', '#', 'é', '€', '😀', '\u2028', '\ufeff'),
  fc.constantFrom(...'abcxyzXYZ019_.-/:'),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
const text = (maxLength: number) => fc.string({ unit, maxLength });
/** A long command line, like the process_command_line label of hostmetrics. */
const commandLine = fc
  .array(fc.oneof(fc.stringMatching(/^-{1,2}[a-zA-Z][\w.-]{0,20}(=[\w/.:,-]{0,40})?$/), fc.stringMatching(/^\/[\w/.-]{1,60}$/), text(30)), {
    minLength: 1,
    maxLength: 60,
  })
  .map((args) => `/usr/lib/jvm/bin/java ${args.join(' ')}`);
const labelValue = fc.oneof({ weight: 4, arbitrary: text(24) }, { weight: 1, arbitrary: commandLine });

const RESERVED = new Set(['__name__', 'le', 'quantile']);
const legacyMetric = fc.oneof(fc.stringMatching(/^[a-zA-Z_:][a-zA-Z0-9_:]{0,14}$/), fc.constantFrom('__proto__', 'constructor', 'toString'));
const legacyLabel = fc
  .oneof(fc.stringMatching(/^[a-zA-Z_][a-zA-Z0-9_]{0,10}$/), fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty'))
  .filter((n) => !RESERVED.has(n));
/** Any non-empty name: written quoted when it is not a legacy one. */
const utf8Name = text(12).filter((n) => n.length > 0 && !RESERVED.has(n));

const VALUES: [string, number][] = [
  ['0', 0], ['-1', -1], ['1.5', 1.5], ['.5', 0.5], ['3.', 3], ['1e-9', 1e-9], ['1E+10', 1e10], ['12345678901234567890', 12345678901234567890],
  ['NaN', NaN], ['nan', NaN], ['+Inf', Infinity], ['-Inf', -Infinity], ['Inf', Infinity], ['+infinity', Infinity],
];
const sampleValue = fc.oneof(fc.constantFrom(...VALUES), fc.double().map((v): [string, number] => [Object.is(v, -0) ? '-0' : String(v), v]));

const isLegacy = (name: string, metric: boolean) => (metric ? /^[a-zA-Z_:][a-zA-Z0-9_:]*$/ : /^[a-zA-Z_][a-zA-Z0-9_]*$/).test(name);
const escape = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const quote = (s: string) => `"${escape(s)}"`;

/**
 * How one sample line is spelled: label order, which names are quoted, blanks, a trailing comma,
 * the value's spelling, an optional timestamp, and what follows the line.
 */
const lineStyle = fc.record({
  rank: fc.nat(),
  order: fc.array(fc.nat(), { maxLength: 6 }),
  quote: fc.nat(),
  blanks: fc.array(fc.constantFrom('', '', '', ' ', '\t', '  \t'), { minLength: 1, maxLength: 7 }),
  trailingComma: fc.boolean(),
  emptyBraces: fc.boolean(),
  value: sampleValue,
  timestamp: fc.option(fc.oneof(fc.integer(), fc.maxSafeInteger()), { nil: undefined }),
  filler: fc.constantFrom(null, null, null, '', '   ', '\t', '# a comment', '# HELPER is not HELP'),
});
type LineStyle = typeof lineStyle extends fc.Arbitrary<infer T> ? T : never;

/** One sample line for `s`, in one of its many equivalent spellings (`fancy`: all of them). */
function sampleLine(s: ModelSample, style: LineStyle, fancy: boolean): string {
  let k = 0;
  const b = () => (fancy ? style.blanks[k++ % style.blanks.length]! : '');
  const quoted = (i: number) => fancy && ((style.quote >>> i % 31) & 1) === 1;
  const labels = s.labels.map((label, i) => ({ label, rank: style.order[i] ?? i })).sort((x, y) => x.rank - y.rank);
  const parts = labels.map(({ label: [n, v] }, i) => `${b()}${isLegacy(n, false) && !quoted(i) ? n : quote(n)}${b()}=${b()}${quote(v)}${b()}`);
  let head: string;
  if (isLegacy(s.name, true) && !quoted(30)) {
    head = s.name;
    if (parts.length > 0 || (fancy && style.emptyBraces)) head += `${b()}{${parts.join(',')}${fancy && parts.length > 0 && style.trailingComma ? ',' : ''}}`;
  } else {
    head = `{${b()}${quote(s.name)}${b()}${['', ...parts].join(',')}}`;
  }
  const timestamp = style.timestamp === undefined ? '' : ` ${b()}${style.timestamp}`;
  return `${fancy ? b() : ''}${head} ${b()}${style.value[0]}${timestamp}${b()}`;
}

const family = (name: fc.Arbitrary<string>, labelName: fc.Arbitrary<string>) =>
  fc.record({
    name,
    type: fc.constantFrom('counter', 'gauge', 'untyped', 'histogram', 'summary'),
    help: fc.option(text(40), { nil: undefined }),
    typed: fc.boolean(),
    labelSets: fc.array(fc.uniqueArray(fc.tuple(labelName, labelValue), { selector: ([n]) => n, maxLength: 5 }), { maxLength: 5 }),
    buckets: fc.constantFrom(['+Inf'], ['0.1', '1', '+Inf'], ['1e-3', '2.5', '+Inf']),
    quantiles: fc.constantFrom([], ['0.5'], ['0', '0.5', '0.99']),
    /** Series (by index) written again. */
    repeats: fc.array(fc.nat(), { maxLength: 3 }),
    /** Used in turn by the family's lines. */
    styles: fc.array(lineStyle, { minLength: 1, maxLength: 8 }),
  });

/**
 * A valid exposition: families (counter, gauge, untyped, histogram, summary) with optional HELP
 * and TYPE lines, each series written once or more, in any label order, between blank lines and
 * comments. `fancy` adds what parse-prometheus-text-format cannot read: quoted UTF-8 names,
 * blanks inside braces and trailing commas.
 */
export function exposition(fancy: boolean): fc.Arbitrary<GeneratedExposition> {
  const metricName = fancy ? fc.oneof(legacyMetric, utf8Name) : legacyMetric;
  const labelName = fancy ? fc.oneof(legacyLabel, utf8Name) : legacyLabel.filter((n) => n !== '__proto__');
  const families = fc.uniqueArray(family(metricName, labelName), { selector: (f) => f.name, maxLength: 6 });
  return fc.tuple(families, fc.constantFrom('\n', '\n', '\r\n'), fc.boolean()).map(([families, newline, finalNewline]) => {
    const lines: string[] = [];
    const independent: string[] = [];
    const samples: ModelSample[] = [];
    const types = new Map<string, string>();
    const labelNames = new Set<string>();
    const both = (line: string) => (lines.push(line), independent.push(line));
    for (const f of families) {
      const name = isLegacy(f.name, true) ? f.name : quote(f.name);
      if (f.help !== undefined) both(`# HELP ${name} Help: ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      if (f.typed) {
        lines.push(`# TYPE ${name} ${f.type}`);
        independent.push(`# TYPE ${name} ${f.type === 'histogram' || f.type === 'summary' ? 'untyped' : f.type}`);
        types.set(f.name, f.type);
      }
      const series: [string, [string, string][]][] = [];
      for (const labels of f.labelSets) {
        for (const [n] of labels) labelNames.add(n);
        const add = (name: string, extra: [string, string][] = []) => series.push([name, [...labels, ...extra]]);
        if (f.type === 'histogram') for (const le of f.buckets) add(`${f.name}_bucket`, [['le', le]]);
        else if (f.type === 'summary') for (const q of f.quantiles) add(f.name, [['quantile', q]]);
        else add(f.name);
        if (f.type === 'histogram' || f.type === 'summary') add(`${f.name}_sum`), add(`${f.name}_count`);
      }
      // Every series at least once, some again; the lines in the order of their styles' ranks.
      const written = [...series, ...(series.length === 0 ? [] : f.repeats.map((i) => series[i % series.length]!))];
      const styled = written.map(([name, labels], i) => ({ name, labels, style: f.styles[i % f.styles.length]!, i }));
      for (const { name, labels, style } of styled.sort((a, b) => a.style.rank - b.style.rank || a.i - b.i)) {
        const sample = { name, labels, value: style.value[1] };
        samples.push(sample);
        both(sampleLine(sample, style, fancy));
        if (style.filler !== null) both(style.filler);
      }
    }
    const whole = lines.join(newline) + (finalNewline ? newline : '');
    return {
      text: whole,
      independentText: independent.join(newline) + (finalNewline ? newline : ''),
      samples,
      types: Object.fromEntries(types),
      labelNames: [...labelNames],
      [fc.toStringMethod]: () => JSON.stringify(whole), // a counterexample prints as its text
    };
  });
}

/** Garbage: valid expositions with bytes flipped, inserted, deleted, repeated or cut; random bytes; grammar soup. */
const INTERESTING = [0, 0x0a, 0x0d, 0x22, 0x5c, 0x7b, 0x7d, 0x2c, 0x3d, 0x20, 0x09, 0x23, 0x6e, 0xff, 0xc3, 0xe2, 0xf0];
const EDITS = ['flip', 'flip', 'flip', 'insert', 'insert', 'delete', 'repeat', 'fill', 'truncate'] as const;
const mutation = fc.record({ at: fc.double({ min: 0, max: 1, noNaN: true }), kind: fc.constantFrom(...EDITS), byte: fc.oneof(fc.constantFrom(...INTERESTING), fc.nat(255)), span: fc.nat(64) });
export const mutated = fc.tuple(exposition(true), fc.array(mutation, { minLength: 1, maxLength: 8 })).map(([gen, edits]) => {
  let buf = Buffer.from(gen.text);
  for (const { at, kind, byte, span } of edits) {
    const i = Math.floor(at * buf.length);
    const [before, after] = [buf.subarray(0, i), buf.subarray(i)];
    if (kind === 'flip' && i < buf.length) buf[i] = byte;
    else if (kind === 'insert') buf = Buffer.concat([before, Buffer.from([byte]), after]);
    else if (kind === 'delete') buf = Buffer.concat([before, buf.subarray(i + span)]);
    else if (kind === 'repeat') buf = Buffer.concat([before, Buffer.from([byte]), buf.subarray(i, i + span), after]);
    else if (kind === 'fill') buf = Buffer.concat([before, Buffer.alloc(span, byte), after]);
    else if (kind === 'truncate') buf = buf.subarray(0, i);
  }
  return buf;
});
export const soupUnit = fc.oneof(
  fc.constantFrom('a', 'b', '_', ':', '{', '}', '"', '\\', 'n', '=', ',', ' ', '\t', '\n', '\r', '#', ' HELP ', ' TYPE ', '1', '-', '.', 'e', '+Inf', 'NaN', '\0'),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
  fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
);
export const soup = fc.string({ unit: soupUnit, maxLength: 400 });
export const garbage = fc.oneof(mutated, fc.uint8Array({ maxLength: 2000 }).map((a) => Buffer.from(a)), soup.map((s) => Buffer.from(s)));

/** Cut points (fractions of the length) for splitAt. */
export const cutPoints = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 });

/** Splits a string (at UTF-16 units) or a buffer (at bytes) at the cut points. */
export function splitAt<T extends string | Buffer>(whole: T, cuts: number[]): T[] {
  const at = [...new Set(cuts.map((c) => Math.floor(c * whole.length)))].sort((a, b) => a - b);
  const piece = (from: number, to: number) => (typeof whole === 'string' ? whole.slice(from, to) : (whole as Buffer).subarray(from, to)) as T;
  return [0, ...at].map((from, i) => piece(from, at[i] ?? whole.length));
}
