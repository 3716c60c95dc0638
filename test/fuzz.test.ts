/// <reference path="./types/parse-prometheus-text-format.d.ts" />
// Property-based tests (fast-check): the exposition scanner against the generator's model and an
// independent parser, the scanner on garbage, and the protocol's message validation.
// A failure prints its seed and path; FUZZ_SEED=<seed> npx tap test/fuzz.test.ts replays a run, and
// FUZZ_SCALE=<n> multiplies every numRuns (a longer local search: add --timeout=0).
import t, { type Test } from 'tap';
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { inspect, isDeepStrictEqual } from 'node:util';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExpositionScanner, scanExposition, type ExpositionScannerOptions, type ExpositionStats } from '../agent/measure/exposition.js';
import { CloseCode, parseAgentMessage, parseHubMessage, type ParseResult } from '../protocol/messages.js';
import { helloFor, reportFor } from './helpers/ws-client.js';
import { cutPoints, exposition, garbage, soup, soupUnit, splitAt, type GeneratedExposition } from './helpers/exposition-gen.js';

const seed = process.env.FUZZ_SEED === undefined ? undefined : Number(process.env.FUZZ_SEED);
const scale = Number(process.env.FUZZ_SCALE ?? 1);

function holds<T>(t: Test, property: fc.IProperty<T>, numRuns: number): void {
  fc.assert(property, { numRuns: numRuns * scale, seed });
  t.pass(`${numRuns * scale} runs`);
}

/** deepStrictEqual with a short message (assert's diff of two big stats objects can take gigabytes). */
function same(actual: unknown, expected: unknown, what = 'stats'): void {
  if (isDeepStrictEqual(actual, expected)) return;
  const show = (v: unknown) => inspect(v, { depth: 1, maxArrayLength: 5, maxStringLength: 80, breakLength: Infinity }).slice(0, 600);
  const [a, e] = [actual, expected] as Record<string, unknown>[];
  const keys = typeof a === 'object' && a !== null ? Object.keys(a).filter((k) => !isDeepStrictEqual(a[k], e?.[k])) : [];
  const diff = keys.length > 0 ? keys.map((k) => `${k}: ${show(a![k])} != expected ${show(e?.[k])}`) : [`${show(a)} != expected ${show(e)}`];
  throw new Error(`${what} differ: ${diff.join('; ')}`);
}

const byName = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);
const pick = <T>(items: T[], mask: number) => items.filter((_, i) => (mask >>> i % 31) & 1);

function scanChunks(chunks: (string | Uint8Array)[], options?: ExpositionScannerOptions): ExpositionStats {
  const scanner = new ExpositionScanner(options);
  for (const chunk of chunks) {
    scanner.write(chunk);
    assert.ok(scanner.bufferedBytes <= (options?.maxLineBytes ?? 1024 * 1024), 'held bytes stay under maxLineBytes');
  }
  return scanner.end();
}

/** What the scanner must report, from the generator's own record of the samples it wrote. */
function modelStats(gen: GeneratedExposition, collect: string[], capture: Set<string>): Partial<ExpositionStats> {
  const series = new Map<string, string>();
  for (const s of gen.samples) series.set(JSON.stringify([s.name, [...s.labels].sort(byName)]), s.name);
  const byMetric = new Map<string, number>();
  for (const name of series.values()) byMetric.set(name, (byMetric.get(name) ?? 0) + 1);
  const values = (label: string) => [...new Set(gen.samples.flatMap((s) => s.labels.filter(([n]) => n === label).map(([, v]) => v)))].sort();
  return {
    series: series.size,
    samples: gen.samples.length,
    bytes: Buffer.byteLength(gen.text),
    errors: 0,
    firstError: null,
    seriesByMetric: Object.fromEntries(byMetric),
    types: gen.types,
    labelValues: Object.fromEntries(collect.map((label) => [label, values(label)])),
    captured: gen.samples.filter((s) => capture.has(s.name)).map((s) => ({ name: s.name, labels: Object.fromEntries(s.labels), value: s.value })),
    // Asked for no previous series, no kept series set and no values: none counted, none kept.
    appeared: 0,
    seriesSet: null,
    values: {},
  };
}

/** Series per metric name as parse-prometheus-text-format sees them (name + sorted labels). */
function independentSeries(text: string): Record<string, number> {
  const byMetric = new Map<string, Set<string>>();
  for (const family of parsePrometheusTextFormat(text)) {
    const keys = byMetric.get(family.name) ?? new Set<string>();
    for (const sample of family.metrics) keys.add(JSON.stringify(Object.entries(sample.labels ?? {}).sort(byName)));
    if (family.metrics.length > 0) byMetric.set(family.name, keys);
  }
  return Object.fromEntries([...byMetric].map(([name, keys]) => [name, keys.size]));
}

t.test('A1: valid expositions, any spelling, match the model of what was written', async (t) => {
  const property = fc.property(exposition(true), fc.nat(), fc.nat(), (gen, labelMask, metricMask) => {
    const collect = [...pick(gen.labelNames, labelMask), 'le'];
    const capture = new Set(pick([...new Set(gen.samples.map((s) => s.name))], metricMask));
    const expected = modelStats(gen, collect, capture);
    for (const input of [gen.text, Buffer.from(gen.text)]) same(scanExposition(input, { collectLabels: collect, capture: (name) => capture.has(name) }), expected);
  });
  holds(t, property, 500);
});

t.test('A2: plain expositions: the same series per metric as parse-prometheus-text-format and as the model', async (t) => {
  const property = fc.property(exposition(false), (gen) => {
    const stats = scanExposition(gen.text);
    // That parser drops a last line that has no newline after it: give it one.
    const independent = independentSeries(gen.independentText + '\n');
    same(stats.seriesByMetric, independent);
    assert.equal(stats.series, Object.values(independent).reduce((a, b) => a + b, 0));
    same(stats.seriesByMetric, modelStats(gen, [], new Set()).seriesByMetric);
    assert.equal(stats.errors, 0);
  });
  holds(t, property, 500);
});

t.test('A3: valid input cut anywhere (inside UTF-8, escapes, surrogate pairs) gives the same stats', async (t) => {
  const property = fc.property(exposition(true), cutPoints, cutPoints, fc.nat(7), (gen, byteCuts, unitCuts, offset) => {
    const options = { collectLabels: gen.labelNames, capture: () => true };
    const whole = scanExposition(gen.text, options);
    const bytes = Buffer.from(gen.text);
    same(scanChunks(splitAt(bytes, byteCuts), options), whole, 'Buffer chunks');
    same(scanChunks(splitAt(gen.text, unitCuts), options), whole, 'string chunks');
    // Plain Uint8Arrays that start part-way into their ArrayBuffer.
    const views = splitAt(bytes, byteCuts).map((piece) => {
      const backing = new Uint8Array(piece.length + offset);
      backing.set(piece, offset);
      return backing.subarray(offset);
    });
    same(scanChunks(views, options), whole, 'Uint8Array views');
  });
  holds(t, property, 500);
});

function checkInvariants(stats: ExpositionStats, input: Buffer): void {
  const lines = input.filter((b) => b === 0x0a).length + 1;
  assert.equal(stats.bytes, input.length);
  assert.ok(stats.samples + stats.errors <= lines, 'each line is at most one sample or one error');
  assert.ok(stats.series <= stats.samples);
  assert.equal(Object.values(stats.seriesByMetric).reduce((a, b) => a + b, 0), stats.series);
  assert.equal(stats.firstError === null, stats.errors === 0);
  if (stats.firstError) assert.ok(stats.firstError.line >= 1 && stats.firstError.line <= lines, `error line ${stats.firstError.line} of ${lines}`);
}

t.test('B1: garbage never throws, is counted line by line, and chunking does not change it', async (t) => {
  const maxLineBytes = fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined });
  const bytes = fc.property(garbage, cutPoints, maxLineBytes, (input, cuts, max) => {
    const options = { maxLineBytes: max, collectLabels: ['a', 'le'], capture: () => true };
    const started = performance.now();
    const whole = scanExposition(input, options);
    assert.ok(performance.now() - started < 2000, 'scans in bounded time');
    checkInvariants(whole, input);
    same(scanChunks(splitAt(input, cuts), options), whole); // the first error's excerpt included, whatever maxLineBytes
  });
  holds(t, bytes, 1000);
  const strings = fc.property(soup, cutPoints, (text, cuts) => {
    // Lone surrogates included: each becomes U+FFFD, as Buffer.from makes it, wherever the cut.
    const whole = scanExposition(text);
    checkInvariants(whole, Buffer.from(text));
    same(scanChunks(splitAt(text, cuts)), whole);
  });
  holds(t, strings, 500);
});

t.test('B2: huge lines stay bounded in time and in held memory', async (t) => {
  const hugeLine = fc.record({
    head: fc.constantFrom('', 'm{a="', 'm{', '{"', '# HELP m ', 'm '),
    fragment: fc.string({ unit: soupUnit, minLength: 1, maxLength: 12 }),
    repeat: fc.integer({ min: 1000, max: 60_000 }),
    newline: fc.boolean(),
  });
  const property = fc.property(hugeLine, fc.constantFrom(undefined, 4096, 64 * 1024), cutPoints, ({ head, fragment, repeat, newline }, max, cuts) => {
    const line = head + fragment.repeat(repeat);
    const input = Buffer.from(`ok 1\n${line}${newline ? '\nok 2\n' : ''}`);
    const started = performance.now();
    const stats = scanChunks(splitAt(input, cuts), { maxLineBytes: max });
    assert.ok(performance.now() - started < 3000, `${input.length} bytes in ${Math.round(performance.now() - started)} ms`);
    checkInvariants(stats, input);
    assert.ok(stats.samples >= 1, 'the lines around it still count');
    const longest = line.split('\n').reduce((n, l) => Math.max(n, Buffer.byteLength(l)), 0); // the fragment may hold newlines
    if (longest > (max ?? 1024 * 1024)) assert.ok(stats.errors >= 1, 'an over-long line is an error');
  });
  holds(t, property, 80);
});

t.test('B3: memory does not grow over many garbage inputs', async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // 40 inputs of ~64 KiB (a garbage sample repeated), scanned 10 times: ~25 MiB in all.
  const inputs = fc.sample(garbage, { numRuns: 40, seed: seed ?? 7 }).map((b) => Buffer.concat(Array<Buffer>(Math.ceil(65536 / (b.length + 1))).fill(Buffer.concat([b, Buffer.from('\n')]))));
  const scanAll = () => inputs.forEach((input) => scanExposition(input, { collectLabels: ['a'] }));
  const used = () => (gc(), gc(), process.memoryUsage().heapUsed + process.memoryUsage().external); // Buffers live outside the heap
  scanAll(); // warm up: compiled code, lazily built tables
  const before = used();
  for (let round = 0; round < 10; round++) scanAll();
  const growth = used() - before;
  t.ok(growth < 8 * 1024 * 1024, `heap + external memory grew ${(growth / 2 ** 20).toFixed(1)} MiB over 400 scans`);
});

t.test('B4: a line with up to 110,000 labels, in any order, is scanned in bounded time and keyed by its sorted labels', async (t) => {
  const property = fc.property(fc.integer({ min: 33, max: 110_000 }), fc.constantFrom('reversed', 'shuffled', 'interleaved'), fc.nat(), (n, order, salt) => {
    const names = Array.from({ length: n }, (_, i) => `l${String(i).padStart(6, '0')}`);
    const permuted =
      order === 'reversed' ? [...names].reverse()
      : order === 'interleaved' ? [...names.filter((_, i) => i % 2), ...names.filter((_, i) => i % 2 === 0)]
      : names.map((name, i) => [name, (i * 2654435761 + salt) % 4294967296] as const).sort((a, b) => a[1] - b[1]).map(([name]) => name);
    const line = (order: string[]) => `m{${order.map((name) => `${name}="v"`).join(',')}} 1\n`;
    const timed = (input: string) => {
      const started = performance.now();
      const stats = scanExposition(input, { maxLineBytes: 4 * 1024 * 1024 });
      return { stats, ms: performance.now() - started };
    };
    // Bounded against the same line in sorted order, scanned just before on the same (possibly busy) machine: a
    // quadratic reordering at 110,000 labels takes minutes, ~100 times the sorted scan.
    const sorted = timed(line(names) + line(names));
    const { stats, ms } = timed(line(names) + line(permuted));
    assert.ok(ms < 10 * sorted.ms + 250, `${n} labels ${order}: ${Math.round(ms)} ms, sorted ${Math.round(sorted.ms)} ms`);
    assert.equal(stats.errors, 0, stats.firstError?.message);
    assert.equal(stats.samples, 2);
    assert.equal(stats.series, 1, 'the same label set in another order is the same series');
  });
  holds(t, property, 12);
});

// --- protocol/messages.ts and protocol/report.ts --------------------------------------------------

const CODES = new Set(Object.keys(CloseCode));
function checkResult(result: ParseResult<unknown>, types: string[]): void {
  if (result.ok) {
    const message = result.message as { type: unknown; v: unknown };
    assert.ok(types.includes(message.type as string) && message.v === 1, 'only a known message of version 1 is ok');
  } else {
    assert.ok(CODES.has(result.code), `code ${result.code}`);
    assert.ok(typeof result.reason === 'string' && result.reason.length > 0);
  }
}
function parseBoth(text: string): ParseResult<unknown>[] {
  const results = [parseAgentMessage(text), parseHubMessage(text)];
  checkResult(results[0]!, ['hello', 'report']);
  checkResult(results[1]!, ['ack', 'error']);
  return results;
}

const labels = fc
  .dictionary(fc.oneof(fc.stringMatching(/^[A-Za-z_][\w.-]{0,10}$/), fc.constantFrom('__proto__', 'constructor')), fc.string({ unit: 'binary', maxLength: 40 }), { maxKeys: 5, noNullPrototype: true });
const hello = fc.tuple(fc.stringMatching(/^[A-Za-z0-9][\w-]{0,30}$/), fc.string({ minLength: 1, maxLength: 80 }), labels).map(([agentId, hostId, l]) => helloFor(agentId, hostId, l));
const at = fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true });
const report = fc.tuple(fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }), fc.integer({ min: 1 }), at).map(([host, seq, when]) => reportFor(host, seq, when.getTime()));
const agentMessage = fc.oneof(hello, report) as fc.Arbitrary<object>;
const hubMessage = fc.oneof(
  fc.record({ type: fc.constant('ack'), v: fc.constant(1), seq: fc.integer({ min: 1 }) }, { noNullPrototype: true }),
  fc.record({ type: fc.constant('error'), v: fc.constant(1), code: fc.string({ maxLength: 64 }), message: fc.string({ maxLength: 200 }) }, { noNullPrototype: true }),
) as fc.Arbitrary<object>;
const anyMessage = fc.oneof(agentMessage, hubMessage);
const parseFor = (m: object) => (['ack', 'error'].includes((m as { type: string }).type) ? parseHubMessage : parseAgentMessage);

type Path = (string | number)[];
/** Paths to every object key and array element of a JSON value (not into records such as labels). */
function paths(value: unknown, path: Path = []): Path[] {
  if (typeof value !== 'object' || value === null) return [];
  const keys = Array.isArray(value) ? value.map((_, i) => i) : Object.keys(value);
  return keys.flatMap((k) => [[...path, k], ...(['labels', 'seriesByMetric'].includes(String(k)) ? [] : paths((value as Record<string, unknown>)[k], [...path, k]))]);
}
function edit(message: object, path: Path, change: (parent: Record<string | number, unknown>, key: string | number) => void): object {
  const copy = structuredClone(message) as Record<string | number, unknown>;
  change(path.slice(0, -1).reduce<Record<string | number, unknown>>((o, k) => o[k] as Record<string | number, unknown>, copy), path.at(-1)!);
  return copy;
}

t.test('P1: any string, JSON value, deep nesting or mutated message gets a CloseCode name, never a throw', async (t) => {
  // Under `v` and `type` too: their values appear in the refusal's reason, and must not be stringified whole.
  const deep = fc.record({ depth: fc.integer({ min: 1, max: 20_000 }), open: fc.constantFrom('[', '{"a":'), key: fc.constantFrom('v', 'type', 'labels', 'report', 'hostId', 'seq', 'x') });
  const nested = deep.map(({ depth, open, key }) => `{"type":"hello","v":1,"${key}":${open.repeat(depth)}1${(open === '[' ? ']' : '}').repeat(depth)}}`);
  const textEdits = fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.string({ maxLength: 3 })), { maxLength: 4 });
  const mutatedText = fc.tuple(anyMessage, textEdits).map(([m, edits]) =>
    edits.reduce((s, [where, insert]) => s.slice(0, Math.floor(where * s.length)) + insert + s.slice(Math.floor(where * s.length) + 1), JSON.stringify(m)),
  );
  const json = fc.jsonValue();
  const input = fc.oneof(fc.string(), json.map((v) => JSON.stringify(v)), json.map((v) => JSON.stringify({ type: 'report', v: 1, report: v })), nested, mutatedText,
    fc.constantFrom('1e400', '{"v":1e400,"type":"ack","seq":1e400}', '{"type":"ack","v":1,"seq":9007199254740993}', '{"type":"ack","v":1.0000000000000001,"seq":1}'));
  holds(t, fc.property(input, (text) => void parseBoth(text)), 2000);
});

t.test('P2: valid messages are ok, and survive a JSON round trip unchanged', async (t) => {
  const property = fc.property(anyMessage, (message) => {
    const first = parseFor(message)(JSON.stringify(message));
    assert.ok(first.ok, first.ok ? '' : first.reason);
    same(first.message, message);
    same(parseFor(message)(JSON.stringify(first.message)), first);
  });
  holds(t, property, 500);
});

t.test('P3: a message missing any required field or element is refused, with the code for what is missing', async (t) => {
  // Any key; of array elements only the variants' (a pair): other lists may have any length.
  const cases = fc.tuple(anyMessage, fc.nat()).map(([m, i]) => {
    const all = paths(m).filter((p) => typeof p.at(-1) === 'string' || p.at(-2) === 'variants');
    return [m, all[i % all.length]!] as const;
  });
  const property = fc.property(cases, ([message, path]) => {
    const broken = edit(message, path, (parent, key) => (Array.isArray(parent) ? parent.splice(Number(key), 1) : delete parent[key]));
    const result = parseFor(message)(JSON.stringify(broken));
    const code = path.length > 1 ? 'malformed' : path[0] === 'v' ? 'unsupportedVersion' : path[0] === 'type' ? 'unexpected' : 'malformed';
    assert.ok(!result.ok, `still ok without ${path.join('.')}`);
    assert.equal(result.code, code, `${path.join('.')}: ${result.reason}`);
  });
  holds(t, property, 1000);
});

t.test('P4: any value replaced by any JSON value: never a throw, and what is ok parses to itself again', async (t) => {
  const cases = fc.tuple(anyMessage, fc.nat(), fc.jsonValue({ maxDepth: 3 })).map(([m, i, value]) => {
    const all = paths(m);
    return edit(m, all[i % all.length]!, (parent, key) => (parent[key] = value));
  });
  const property = fc.property(cases, (message) => {
    for (const result of parseBoth(JSON.stringify(message))) if (result.ok) same(parseFor(message)(JSON.stringify(result.message)), result);
  });
  holds(t, property, 1000);
});

t.test('P5: prototype-pollution shaped keys anywhere do not reach Object.prototype nor a parsed message', async (t) => {
  const before = Object.getOwnPropertyNames(Object.prototype).sort();
  const payload = fc.constantFrom('"__proto__":{"polluted":"yes"}', '"constructor":{"prototype":{"polluted":"yes"}}', '"__proto__":{"__proto__":{"polluted":"yes"}}', '"__proto__":"yes"');
  const cases = fc.tuple(anyMessage, fc.nat(), payload, fc.boolean()).map(([m, i, p, replace]) => {
    // The payload's keys go into the message itself, into any object in it, or in place of any value.
    const all = [[], ...paths(m)];
    const path = all[i % all.length]!;
    const addTo = (o: unknown) => (typeof o === 'object' && o !== null && !Array.isArray(o) && !replace ? { ...o, __marker__: 0 } : { __marker__: 0 });
    const marked = path.length === 0 ? addTo(m) : edit(m, path, (parent, key) => (parent[key] = addTo(parent[key])));
    return JSON.stringify(marked).replace('"__marker__":0', p);
  });
  const plainObjects = (v: unknown): boolean =>
    typeof v !== 'object' || v === null || ([Object.prototype, Array.prototype].includes(Object.getPrototypeOf(v)) && Object.values(v).every(plainObjects));
  const property = fc.property(cases, (text) => {
    for (const result of parseBoth(text)) if (result.ok) assert.ok(plainObjects(result.message), 'no object in a parsed message has another prototype');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    same(Object.getOwnPropertyNames(Object.prototype).sort(), before);
  });
  holds(t, property, 500);
});
