/// <reference path="../../types/parse-prometheus-text-format.d.ts" />
import t from 'tap';
import { readFileSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExpositionScanner, scanExposition, type ExpositionScannerOptions, type ExpositionStats } from '../../../agent/measure/exposition.js';
import { ConfigError, PhoenixError } from '../../../common/errors.js';

const FIXTURE = readFileSync(new URL('../../fixtures/exposition-escaped.prom', import.meta.url));
const FIXTURE_TEXT = FIXTURE.toString('utf8');
const COLLECT = ['process_command_line', 'process_owner', 'le', 'absent_label'];

/** A small seeded PRNG (mulberry32), so that every run sees the same "random" input. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

function scanChunks(chunks: Iterable<Uint8Array | string>, options?: ExpositionScannerOptions): ExpositionStats {
  const scanner = new ExpositionScanner(options);
  for (const chunk of chunks) scanner.write(chunk);
  return scanner.end();
}

/** Splits into pieces of 1..max units (bytes of a Buffer, UTF-16 units of a string). */
function* randomPieces<T extends Buffer | string>(whole: T, random: () => number, max: number): Generator<T> {
  for (let i = 0; i < whole.length; ) {
    const n = 1 + Math.floor(random() * max);
    yield whole.slice(i, i + n) as T;
    i += n;
  }
}

/**
 * The independent count: parse-prometheus-text-format, series keyed by name + sorted labels.
 * That parser folds a histogram's samples into one object (and drops the labels of labelled
 * histograms), so histogram/summary TYPE lines are turned into `untyped` for the series count:
 * each _bucket/_sum/_count sample then stays a sample of its own name. Types come from a parse
 * of the text as it is.
 */
function referenceCounts(text: string): Pick<ExpositionStats, 'series' | 'samples' | 'seriesByMetric' | 'types'> {
  const flat = parsePrometheusTextFormat(text.replace(/^# TYPE (\S+) (histogram|summary)$/gm, '# TYPE $1 untyped'));
  const byMetric = new Map<string, Set<string>>();
  let samples = 0;
  for (const family of flat) {
    for (const sample of family.metrics) {
      samples++;
      const labels = Object.entries(sample.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      const keys = byMetric.get(family.name) ?? new Set<string>();
      keys.add(JSON.stringify(labels));
      byMetric.set(family.name, keys);
    }
  }
  const seriesByMetric = Object.fromEntries([...byMetric].map(([name, keys]) => [name, keys.size]));
  const types: Record<string, string> = {};
  for (const family of parsePrometheusTextFormat(text)) {
    if (family.type !== 'UNTYPED') types[family.name] = family.type.toLowerCase();
  }
  return {
    series: Object.values(seriesByMetric).reduce((a, b) => a + b, 0),
    samples,
    seriesByMetric,
    types,
  };
}

t.test('the fixture matches an independent count by parse-prometheus-text-format', async (t) => {
  const reference = referenceCounts(FIXTURE_TEXT);
  const stats = scanExposition(FIXTURE);
  t.equal(stats.errors, 0, 'no malformed lines');
  t.equal(stats.firstError, null);
  t.equal(stats.series, reference.series, 'series');
  t.equal(stats.samples, reference.samples, 'samples');
  t.same(stats.seriesByMetric, reference.seriesByMetric, 'series per metric name');
  t.same(stats.types, reference.types, 'types');
  t.equal(stats.bytes, FIXTURE.length);
});

t.test('the fixture has the totals counted by hand', async (t) => {
  const stats = scanExposition(FIXTURE_TEXT, { collectLabels: COLLECT });
  // 6 processes: cpu × 3 states, memory, virtual memory, disk io × 2 directions, threads = 8 each;
  // a histogram with 2 routes × (5 buckets + sum + count); target_info.
  t.equal(stats.series, 6 * 8 + 2 * 7 + 1);
  t.equal(stats.series, 63);
  t.equal(stats.samples, 63);
  t.same(stats.seriesByMetric, {
    process_cpu_time_seconds_total: 18,
    process_memory_usage_bytes: 6,
    process_memory_virtual_bytes: 6,
    process_disk_io_bytes_total: 12,
    process_threads: 6,
    http_server_request_duration_seconds_bucket: 10,
    http_server_request_duration_seconds_sum: 2,
    http_server_request_duration_seconds_count: 2,
    target_info: 1,
  });
  t.same(stats.types, {
    process_cpu_time_seconds_total: 'counter',
    process_memory_usage_bytes: 'gauge',
    process_memory_virtual_bytes: 'gauge',
    process_disk_io_bytes_total: 'counter',
    process_threads: 'gauge',
    http_server_request_duration_seconds: 'histogram',
    target_info: 'gauge',
  });
  t.same(stats.labelValues.le, ['+Inf', '0.005', '0.01', '0.1', '1']);
  t.same(stats.labelValues.absent_label, [], 'a wanted label that never occurs');
  t.same(stats.labelValues.process_owner, ['NT AUTHORITY\\SYSTEM', 'app', 'etl', 'svc-orders', 'www-data', 'zoë']);
  const lines = stats.labelValues.process_command_line!;
  t.equal(lines.length, 6);
  t.ok(lines.includes('"C:\\Program Files\\OpenTelemetry Collector\\otelcol.exe" --config="C:\\ProgramData\\otelcol\\config.yaml"'));
  t.ok(lines.includes('python3 -c "import sys\nfor line in sys.stdin:\n    print(line.rstrip(\'\\\\n\'))" --match=(foo|bar)\\.log'));
  t.ok(lines.includes('/bin/bash /home/zoë/scripts/backup-日本.sh --label="naïve café 🚀" --exclude=\'*.tmp\''));
  // The same values as the reference parser unescapes them.
  const reference = new Set<string>();
  for (const family of parsePrometheusTextFormat(FIXTURE_TEXT)) {
    for (const sample of family.metrics) {
      const value = sample.labels?.process_command_line;
      if (value !== undefined) reference.add(value);
    }
  }
  t.same(lines, [...reference].sort());
});

t.test('every way of chunking the input gives the same stats', async (t) => {
  const options = { collectLabels: COLLECT };
  const whole = scanExposition(FIXTURE, options);
  t.ok(FIXTURE.some((b) => b >= 0x80), 'the fixture has multi-byte characters, which 1-byte chunks split');
  t.ok(/[\u{10000}-\u{10ffff}]/u.test(FIXTURE_TEXT), 'and a surrogate pair, which 1-unit string chunks split');

  t.same(scanChunks([FIXTURE], options), whole, 'one Buffer');
  t.same(scanChunks([FIXTURE_TEXT], options), whole, 'one string');
  t.same(scanChunks([new Uint8Array(FIXTURE)], options), whole, 'one plain Uint8Array');
  t.same(scanChunks(randomPieces(FIXTURE, () => 0, 1), options), whole, '1-byte Buffer chunks');
  t.same(scanChunks(randomPieces(FIXTURE_TEXT, () => 0, 1), options), whole, '1-unit string chunks');
  const bytes = [...FIXTURE].map((b) => new Uint8Array([b]));
  t.same(scanChunks(bytes, options), whole, '1-byte Uint8Array chunks');

  const random = prng(42);
  for (let round = 0; round < 25; round++) {
    const max = [2, 7, 64, 700, 5000][round % 5]!;
    t.same(scanChunks(randomPieces(FIXTURE, random, max), options), whole, `random Buffer chunks up to ${max} bytes`);
    t.same(scanChunks(randomPieces(FIXTURE_TEXT, random, max), options), whole, `random string chunks up to ${max} units`);
    // Strings and Buffers mixed, cut anywhere but inside a surrogate pair.
    const pieces: string[] = [];
    for (const piece of randomPieces(FIXTURE_TEXT, random, max)) {
      if (/[\ud800-\udbff]$/.test(pieces.at(-1) ?? '')) pieces[pieces.length - 1] += piece;
      else pieces.push(piece);
    }
    const mixed = pieces.map((piece) => (random() < 0.5 ? piece : Buffer.from(piece)));
    t.same(scanChunks(mixed, options), whole, `strings and Buffers mixed, up to ${max} units`);
  }
});

t.test('equivalent spellings of a series count once', async (t) => {
  const stats = scanExposition(
    [
      'm{a="1",b="x\\\\y"} 1',
      'm{b="x\\\\y",a="1"} 2',
      'm { a = "1" , b = "x\\\\y" , } 3',
      'm\t{\ta="1",\tb="x\\\\y"\t}\t4\t-100',
      '{"m","a"="1",b="x\\\\y"} 5',
      '{ "m" , "b"="x\\\\y", "a"="1",} 6',
      'm{a="1",b="x\\\\y",} 7 1700000000000',
    ].join('\n'),
  );
  t.same({ series: stats.series, samples: stats.samples, errors: stats.errors }, { series: 1, samples: 7, errors: 0 });
  t.same(stats.seriesByMetric, { m: 1 });

  const bare = scanExposition('n 1\nn{} 2\n{"n"} 3\n  n  4  \n');
  t.same({ series: bare.series, samples: bare.samples, errors: bare.errors }, { series: 1, samples: 4, errors: 0 });

  const utf8Names = scanExposition('{"my.metric","my.label"="v",a="1"} 1\n{"my.metric", a="1", "my.label"="v"} 2\n');
  t.same(utf8Names.seriesByMetric, { 'my.metric': 1 });
  t.equal(utf8Names.errors, 0);

  const distinct = scanExposition(
    [
      'd{a="1"} 1',
      'd{a="2"} 1',
      'd{a="x\\\\"} 1', // x\
      'd{a="x"} 1',
      'd{a="x\\",b=\\"y"} 1', // one label whose value contains ",b="
      'd{a="x",b="y"} 1',
      'd{a="x\\ny"} 1', // a newline
      'd{a="x\\\\ny"} 1', // a backslash and an n
      'd{a=""} 1',
      'd 1',
      'd_total{a="1"} 1',
      '{"d.total",a="1"} 1',
      '{"d_total",a="1"} 1', // the same as the bare name
    ].join('\n'),
  );
  t.same({ series: distinct.series, samples: distinct.samples, errors: distinct.errors }, { series: 12, samples: 13, errors: 0 });
  t.same(distinct.seriesByMetric, { d: 10, d_total: 1, 'd.total': 1 });
});

t.test('a repeated series is no error: it adds a sample, not a series', async (t) => {
  const stats = scanExposition('r{a="1"} 1\nr{a="2"} 1\nr{a="1"} 2\n');
  t.same(
    { series: stats.series, samples: stats.samples, errors: stats.errors, seriesByMetric: stats.seriesByMetric },
    { series: 2, samples: 3, errors: 0, seriesByMetric: { r: 2 } },
  );
});

t.test('collectLabels returns unescaped values', async (t) => {
  const raw = String.raw`say "hi" C:\dir\n` + '\n' + 'next line';
  const text = [
    String.raw`m{cmd="say \"hi\" C:\\dir\\n\nnext line",pid="1"} 1`,
    String.raw`other{cmd="say \"hi\" C:\\dir\\n\nnext line",pid="2"} 1`,
    '{"m", "pid"="3", cmd="zoë"} 1',
    'm{pid="1",cmd="a"} 1',
    'm{pid="1"} 1 # not a timestamp',
  ].join('\n');
  const stats = scanExposition(text, { collectLabels: ['cmd', 'pid', 'pid'] });
  t.same(stats.labelValues, { cmd: ['a', raw, 'zoë'].sort(), pid: ['1', '2', '3'] });
  t.equal(stats.errors, 1);
  t.equal(stats.labelValues.cmd!.filter((v) => v === raw).length, 1, 'the value comes back exactly, once');
});

t.test('capture keeps the wanted samples whole', async (t) => {
  const asked: string[] = [];
  const capture = (name: string): boolean => {
    asked.push(name);
    return name.startsWith('otelcol');
  };
  const text = [
    '# TYPE otelcol_receiver_accepted_metric_points_total counter',
    'otelcol_receiver_accepted_metric_points_total{otel_signal="metrics",receiver="hostmetrics",transport=""} 1200',
    'otelcol_processor_incoming_items{processor="filter/\\"critical\\"",otel_signal="metrics"} +Inf',
    'otelcol_processor_incoming_items{processor="batch"} NaN 1700000000000',
    '{"otelcol.exporter.sent", "ünit"="é\\n"} -infinity',
    'other_metric{a="1"} 5',
    'otelcol_processor_incoming_items{processor="dup"} 1.5e3',
    'otelcol_processor_incoming_items{processor="dup"} 2',
    'otelcol_processor_incoming_items{processor="bad" 3',
  ].join('\n');
  const stats = scanExposition(text, { capture });
  t.same(asked, ['otelcol_receiver_accepted_metric_points_total', 'otelcol_processor_incoming_items', 'otelcol.exporter.sent', 'other_metric'], 'asked once per name');
  t.same(
    stats.captured.map(({ name, labels }) => ({ name, labels })),
    [
      { name: 'otelcol_receiver_accepted_metric_points_total', labels: { otel_signal: 'metrics', receiver: 'hostmetrics', transport: '' } },
      { name: 'otelcol_processor_incoming_items', labels: { processor: 'filter/"critical"', otel_signal: 'metrics' } },
      { name: 'otelcol_processor_incoming_items', labels: { processor: 'batch' } },
      { name: 'otelcol.exporter.sent', labels: { ünit: 'é\n' } },
      { name: 'otelcol_processor_incoming_items', labels: { processor: 'dup' } },
      { name: 'otelcol_processor_incoming_items', labels: { processor: 'dup' } },
    ],
  );
  const values = stats.captured.map((sample) => sample.value);
  t.same([values[0], values[1], values[3], values[4], values[5]], [1200, Infinity, -Infinity, 1500, 2]);
  t.ok(Number.isNaN(values[2]), 'NaN');
  t.same(scanExposition(text).captured, [], 'nothing captured without the option');
});

t.test('values: the wanted metrics\' values and timestamps by series, from its first line', async (t) => {
  const text = [
    'cpu_total{pid="1",state="user"} 12.5 1700000000123',
    'cpu_total{state="user",pid="1"} 99 1700000000999',
    'cpu_total{pid="2",state="user"} 3',
    'mem_bytes{pid="1"} 4096',
    'other{pid="1"} 7',
  ].join('\n');
  const asked: string[] = [];
  const stats = scanExposition(text, { values: (name) => (asked.push(name), name !== 'other') });
  t.same(asked, ['cpu_total', 'mem_bytes', 'other'], 'asked once per name');
  t.same(Object.keys(stats.values), ['cpu_total', 'mem_bytes'], 'unwanted metrics have no entry');
  t.same([...stats.values.cpu_total!.values()], [{ value: 12.5, timestampMs: 1_700_000_000_123 }, { value: 3, timestampMs: null }], 'a repeated series (other label order) keeps its first value');
  t.same([...stats.values.mem_bytes!.values()], [{ value: 4096, timestampMs: null }]);
  const again = scanExposition(text.split('\n').reverse().join('\n'), { values: () => true });
  t.same([...again.values.cpu_total!.keys()].sort(), [...stats.values.cpu_total!.keys()].sort(), 'the same series has the same key in any order');
  t.same(scanExposition(text).values, {}, 'nothing kept without the option');
});

t.test('values: a metric met again after another one, and a quoted metric name, keep their values', async (t) => {
  const text = ['cpu_total{pid="1"} 1', 'other{pid="1"} 2', 'cpu_total{pid="2"} 3', '{"my.cpu",pid="1"} 4', '{"my.cpu",pid="2"} 5'].join('\n');
  const asked: string[] = [];
  const stats = scanExposition(text, { values: (name) => (asked.push(name), name !== 'other') });
  t.same(asked, ['cpu_total', 'other', 'my.cpu'], 'asked once per name, whichever line it is on');
  t.same([...stats.values.cpu_total!.values()].map((v) => v.value), [1, 3]);
  t.same([...stats.values['my.cpu']!.values()].map((v) => v.value), [4, 5]);
  t.notOk('other' in stats.values, 'the unwanted one has no entry');
});

t.test('keepSeries and previousSeries: what appeared since the previous scrape', async (t) => {
  const first = scanExposition('a{x="1"} 1\na{x="2"} 1\nb 1\n', { keepSeries: true });
  t.ok(first.seriesSet !== null && first.seriesSet.size === 3, 'the set is kept, with its 3 series');
  const second = scanExposition('b 2\na{x="3"} 1\na{x="1"} 5\na{x="4"} 1\na{x="4"} 2\n', { keepSeries: true, previousSeries: first.seriesSet! });
  t.equal(second.appeared, 2, 'x=3 and x=4 are new; a repeated line counts once');
  t.equal(first.seriesSet!.size - (second.series - second.appeared), 1, 'and x=2 vanished');
  t.equal(scanExposition('a 1\n').seriesSet, null, 'no set without keepSeries');
  t.equal(scanExposition('a 1\n').appeared, 0, 'nothing appeared without a previous set');
  first.seriesSet!.release();
  t.equal(scanExposition('a{x="1"} 1\n', { previousSeries: first.seriesSet! }).appeared, 1, 'a released set holds nothing');
});

t.test('valid forms of the text format', async (t) => {
  const text = [
    '# HELP v Help with \\\\ and \\n escapes.',
    '# HELP v',
    '# TYPE v',
    '# TYPE v gauge',
    '#TYPE w counter',
    '# TYPE "my.metric" summary   ',
    '# HELPER is a plain comment',
    '#',
    '# just a comment',
    '',
    '   \t ',
    'v NaN',
    'v{k="a"} +Inf',
    'v{k="b"} -Inf',
    'v{k="c"} Inf',
    'v{k="d"} -infinity',
    'v{k="e"} 1e-3',
    'v{k="f"} -1.5E+10',
    'v{k="g"} .5',
    'v{k="h"} 5.',
    'v{k="i"} -0 -1700000000000',
    'v{k="j"} 3 +17',
    '\tv{k="k"}7',
    'v:sub_total 1',
    'w 1\r',
    'last 1',
  ].join('\n');
  const stats = scanExposition(text);
  t.equal(stats.errors, 0, String(stats.firstError?.message));
  t.equal(stats.samples, 15);
  t.same(stats.types, { v: 'gauge', w: 'counter', 'my.metric': 'summary' });
  t.same(stats.seriesByMetric, { v: 12, 'v:sub_total': 1, w: 1, last: 1 });

  const crlf = scanExposition('# TYPE a counter\r\na 1\r\n\r\nb{x="1"} 2\r\n');
  t.same({ samples: crlf.samples, errors: crlf.errors, types: crlf.types }, { samples: 2, errors: 0, types: { a: 'counter' } });
});

t.test('malformed lines are counted, described, and skipped', async (t) => {
  const cases: [string, RegExp][] = [
    ['m{a="1"}', /^missing value at column 9/],
    ['m', /^missing value/],
    ['m{a="1"} one', /^invalid value 'one' at column 10/],
    ['m 1.5x', /^invalid value '1\.5x'/],
    ['m 1e', /^invalid value/],
    ['m +nan', /^invalid value/],
    ['m 0x1p3', /^invalid value/],
    ['m{a="1} 1', /^unterminated quoted string at column 5/],
    ['m{a="1', /^unterminated quoted string/],
    ['m{a="x\\', /^unterminated quoted string/],
    ['m{a="x\\q"} 1', /^invalid escape sequence '\\q' at column 7/],
    ['m{1a="1"} 1', /^invalid label name at column 3/],
    ['m{a.b="1"} 1', /^invalid label name at column 4/],
    ['m{a="1",a="2"} 1', /^duplicate label name 'a'/],
    ['m{b="1", a="2", b="3"} 1', /^duplicate label name 'b'/],
    ['m{"a"="1",a="2"} 1', /^duplicate label name 'a'/],
    ['m 1 1700000000000 extra', /^unexpected text after the timestamp at column 19/],
    ['m 1 12.5', /^invalid timestamp '12\.5'/],
    ['m 1 -', /^invalid timestamp/],
    ['9m 1', /^invalid metric name at column 1/],
    ['m-x 1', /^invalid metric name at column 2/],
    ['m.x{a="1"} 1', /^invalid metric name at column 2/],
    ['{a="1"} 1', /^missing metric name/],
    ['m{a="1" 1', /^expected ',' or '}' after label value/],
    ['m{a="1",', /^missing '}'/],
    ['m{a "1"} 1', /^expected '=' after label name/],
    ['m{a=1} 1', /^expected '"' to start the label value/],
    ['m{"other"} 1', /^metric name given twice/],
    ['{a="1","m"} 1', /^quoted metric name must come first/],
    ['{""} 1', /^empty metric name/],
    ['m{""="1"} 1', /^empty label name/],
    ['{"m" 1', /^expected '=' after label name/],
    ['# TYPE m countr', /^unknown metric type 'countr' at column 10/],
    ['# TYPE m counter extra', /^unknown metric type/],
    ['# HELP m bad \\q escape', /^invalid escape sequence in help text '\\q'/],
    ['# HELP m trailing \\', /^invalid escape sequence in help text/],
    ['# TYPE 9m counter', /^invalid metric name in comment/],
    ['# TYPE m.x counter', /^invalid metric name in comment/],
    ['# TYPE "" counter', /^empty metric name in comment/],
    ['# TYPE "m counter', /^unterminated quoted string/],
  ];
  for (const [line, message] of cases) {
    const stats = scanExposition(`good_a 1\n${line}\ngood_b{x="y"} 2\n# TYPE good_c gauge\ngood_c 3`);
    t.equal(stats.errors, 1, `${line}: one error`);
    t.equal(stats.firstError?.line, 2, `${line}: on line 2`);
    t.match(stats.firstError?.message, message, `${line}: says what is wrong`);
    t.same({ samples: stats.samples, series: stats.series }, { samples: 3, series: 3 }, `${line}: later lines still count`);
  }

  const one = scanExposition('ok 1\nm{a="x\\q"} 1\n');
  t.equal(one.firstError?.message, `invalid escape sequence '\\q' at column 7: 'm{a="x\\q"} 1'`, 'the message quotes the line');
  const long = scanExposition(`m{a="${'x'.repeat(200)}",b=1} 1`);
  t.match(long.firstError?.message, /^expected '"' to start the label value at column 210: …'x{16}",b=1} 1'$/, 'a long line is shortened around the problem');

  const several = scanExposition('a 1\nb x\nc 2\nd{ 3\n\ne 4 5 6\n');
  t.same({ errors: several.errors, samples: several.samples, line: several.firstError?.line }, { errors: 3, samples: 2, line: 2 });
});

t.test('an over-long line is one error and is not kept in memory', async (t) => {
  const MiB = 1024 * 1024;
  const huge = `big{a="${'x'.repeat(2 * MiB)}"} 1\n`;
  const text = `before 1\n${huge}after{a="1"} 2\n`;
  const scanner = new ExpositionScanner({ maxLineBytes: MiB });
  let maxBuffered = 0;
  for (const piece of randomPieces(Buffer.from(text), prng(7), 64 * 1024)) {
    scanner.write(piece);
    maxBuffered = Math.max(maxBuffered, scanner.bufferedBytes);
  }
  const stats = scanner.end();
  t.ok(maxBuffered <= MiB, `held at most maxLineBytes (${maxBuffered})`);
  t.equal(stats.errors, 1);
  t.equal(stats.firstError?.line, 2);
  t.match(stats.firstError?.message, /^line longer than maxLineBytes \(1048576 bytes\), skipped: 'big\{a="x+'…$/);
  t.same({ samples: stats.samples, series: stats.series }, { samples: 2, series: 2 });
  t.equal(stats.bytes, Buffer.byteLength(text));
  t.same(scanExposition(text, { maxLineBytes: MiB }), stats, 'the same when the line arrives in one piece');

  // Without a final newline, and with the default limit of 1 MiB.
  const unterminated = scanChunks(randomPieces(`ok 1\n${huge.trimEnd()}`, prng(8), 100_000));
  t.same({ errors: unterminated.errors, samples: unterminated.samples }, { errors: 1, samples: 1 });

  // The limit counts bytes (without the newline), whichever way the line arrives.
  const limit = 24;
  for (const [line, tooLong] of [
    ['m{a="123456789012"} 1', false], // 21 bytes
    ['m{a="12345678901234"} 1', false], // 23 bytes
    ['m{a="123456789012345"} 1', false], // 24 bytes: at the limit
    ['m{a="1234567890123456"} 1', true], // 25 bytes
    ['m{a="éééééééé"} 1', true], // 17 characters, 25 bytes
    ['m{a="ééééééé"} 1', false], // 16 characters, 23 bytes
  ] as const) {
    const input = `${line}\nn 1\n`;
    for (const chunks of [[input], randomPieces(input, () => 0, 1), randomPieces(Buffer.from(input), prng(9), 5)]) {
      const s = scanChunks(chunks, { maxLineBytes: limit });
      t.same([s.errors, s.samples], tooLong ? [1, 1] : [0, 2], `${line} (${Buffer.byteLength(line)} bytes)`);
    }
  }
});

t.test('calling rules and options', async (t) => {
  const scanner = new ExpositionScanner();
  scanner.write('a 1\n');
  const stats = scanner.end();
  t.equal(scanner.end(), stats, 'end() again returns the same stats');
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (error) {
      return error;
    }
    return undefined;
  };
  const late = thrown(() => scanner.write('b 1\n'));
  t.type(late, PhoenixError);
  t.match(late, { code: 'PHX_SCANNER_ENDED', message: /write\(\) called after end\(\)/ });
  for (const bad of [0, -1, 1.5, Number.NaN]) {
    const error = thrown(() => new ExpositionScanner({ maxLineBytes: bad }));
    t.type(error, ConfigError, `maxLineBytes ${bad}`);
    t.match(error, { message: /maxLineBytes must be a positive integer/ });
  }

  // Bytes are UTF-8 bytes, also when a string chunk ends inside a surrogate pair.
  const text = 'e{a="🚀"} 1\n';
  const split = scanChunks([text.slice(0, 6), text.slice(6)]);
  t.equal(split.bytes, Buffer.byteLength(text));
  t.same(split, scanExposition(text));
  const lone = scanChunks(['x{a="1"} 1\ny{a="', '\ud83d']);
  t.same([lone.bytes, lone.samples, lone.errors], [Buffer.byteLength('x{a="1"} 1\ny{a="') + 3, 1, 1], 'a lone surrogate at the end is U+FFFD');
  t.same(scanExposition(''), scanChunks([]));
  t.same(scanExposition(new Uint8Array(Buffer.from('u 1'))).seriesByMetric, { u: 1 });
});

t.test('many series and many labels', async (t) => {
  const lines: string[] = [];
  for (let i = 0; i < 40_000; i++) {
    lines.push(`s{cmd="/usr/bin/worker --id=${i % 20_000} --dir=\\"C:\\\\jobs\\"",pid="${i}"} ${i}`);
  }
  for (let i = 0; i < 40_000; i += 2) lines.push(`s{cmd="/usr/bin/worker --id=${i % 20_000} --dir=\\"C:\\\\jobs\\"",pid="${i}"} 0`);
  const wide = Array.from({ length: 40 }, (_, i) => `l${String(i).padStart(2, '0')}="${i}"`);
  lines.push(`wide{${wide.join(',')}} 1`, `wide{${wide.reverse().join(',')}} 1`);
  lines.splice(30_000, 0, `long{v="${'v'.repeat(100_000)}"} 1`); // longer than the scanner's parsing regions
  const text = lines.join('\n');
  const stats = scanExposition(text, { collectLabels: ['cmd', 'l07'] });
  t.same(scanExposition(Buffer.from(text), { collectLabels: ['cmd', 'l07'] }), stats, 'one big Buffer: the same');
  t.same(stats.seriesByMetric, { s: 40_000, long: 1, wide: 1 });
  t.equal(stats.samples, 60_003);
  t.equal(stats.labelValues.cmd!.length, 20_000);
  t.equal(stats.labelValues.cmd![0], '/usr/bin/worker --id=0 --dir="C:\\jobs"');
  t.same(stats.labelValues.l07, ['7']);
});

/** Lines as the scanner sees them: split at '\n', one trailing '\r' dropped, leading blanks skipped. */
function classifyLines(bytes: Buffer): { samples: number; comments: number } {
  let samples = 0;
  let comments = 0;
  for (const raw of bytes.toString('latin1').split('\n')) {
    const line = raw.replace(/\r$/, '').replace(/^[ \t]+/, '');
    if (line === '') continue;
    if (line.startsWith('#')) comments++;
    else samples++;
  }
  return { samples, comments };
}

t.test('random garbage never throws and every line is accounted for', async (t) => {
  const random = prng(2024);
  const alphabet = 'ab_:9{}="\\,# \t\r\nnNIf+-.e\u00e9';
  const inputs: Buffer[] = [];
  for (let i = 0; i < 3000; i++) {
    const length = Math.floor(random() * 120);
    if (i % 3 === 0) {
      inputs.push(Buffer.from(Array.from({ length }, () => Math.floor(random() * 256))));
    } else {
      inputs.push(Buffer.from(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('')));
    }
  }
  for (let i = 0; i < 600; i++) {
    const mutated = Buffer.from(FIXTURE);
    const edits = 1 + Math.floor(random() * 4);
    let copy: Buffer = mutated;
    for (let k = 0; k < edits; k++) {
      const at = Math.floor(random() * copy.length);
      const byte = Math.floor(random() * 256);
      const kind = random();
      if (kind < 0.4) copy[at] = byte;
      else if (kind < 0.7) copy = Buffer.concat([copy.subarray(0, at), Buffer.from([byte]), copy.subarray(at)]);
      else copy = Buffer.concat([copy.subarray(0, at), copy.subarray(at + 1 + Math.floor(random() * 40))]);
    }
    inputs.push(copy);
  }

  let failures = 0;
  let errorsSeen = 0;
  for (const input of inputs) {
    const stats = scanExposition(input);
    const lines = classifyLines(input);
    const chunked = scanChunks(randomPieces(input, random, 13));
    const ok =
      stats.samples + stats.errors >= lines.samples &&
      stats.samples + stats.errors <= lines.samples + lines.comments &&
      stats.series <= stats.samples &&
      Object.values(stats.seriesByMetric).reduce((a, b) => a + b, 0) === stats.series &&
      stats.bytes === input.length &&
      (stats.errors === 0) === (stats.firstError === null) &&
      JSON.stringify(chunked) === JSON.stringify(stats);
    errorsSeen += stats.errors;
    if (!ok && failures++ < 5) t.fail(`unaccounted stats for ${JSON.stringify(input.toString('latin1'))}: ${JSON.stringify(stats)}`);
  }
  t.equal(failures, 0, `${inputs.length} inputs accounted for`);
  t.ok(errorsSeen > 1000, `the garbage was mostly malformed (${errorsSeen} errors)`);
});
