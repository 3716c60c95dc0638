// The exposition-parsing benchmark (issue 6): our streaming scanner against parse-prometheus-text-format and a bare
// floor, each measurement in a fresh process, on generated hostmetrics process expositions of several sizes.
import { INITIAL_SLOTS } from '../agent/measure/series-set.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { writeProcessExposition } from './exposition-fixture.js';
import { fmt, median } from './stats.js';
import type { ParserMethod, ParserOutcome } from './parser-child.js';

export type { ParserMethod, ParserOutcome };

const here = path.dirname(fileURLToPath(import.meta.url));

/** In the order each run measures them (and the tables show them). */
export const PARSER_METHODS: readonly ParserMethod[] = ['ours', 'npm', 'bare', 'hashed', 'read'];
const METHOD_LABELS: Record<ParserMethod, string> = {
  ours: 'ours: `ExpositionScanner`, streamed',
  npm: '`parse-prometheus-text-format`, whole text',
  bare: 'bare floor: raw series text in a `Set`, streamed',
  hashed: 'reference: bare floor hashing into our `SeriesSet`, nothing checked',
  read: 'reference: reading the chunks only',
};

export interface ParserBenchOptions {
  /** A measurement still running after this long is killed and recorded as not finished. Default 120 s. */
  timeLimitMs?: number;
  /** The children's V8 old-space limit. Default 4096 MiB. */
  maxOldSpaceMiB?: number;
  seed?: number;
  /** Progress lines (the CLI writes them to stderr). */
  progress?: (line: string) => void;
}

export interface ParserSizeResult {
  series: number;
  bytes: number;
  /** Per method, one outcome per run (a method that did not finish is not tried again at this size). */
  outcomes: Record<ParserMethod, ParserOutcome[]>;
  /** Methods whose series count differed from the generated count, with what they counted. */
  mismatches: string[];
}

export interface ParserBenchResult {
  runs: number;
  timeLimitMs: number;
  maxOldSpaceMiB: number;
  seed: number;
  sizes: ParserSizeResult[];
}

/**
 * Generates each size's exposition into a temp file (removed afterwards), then measures every method `runs`
 * times, each in a fresh `node` process, interleaving the methods within a run.
 */
export async function runParserBench(sizes: number[], runs: number, options: ParserBenchOptions = {}): Promise<ParserBenchResult> {
  const timeLimitMs = options.timeLimitMs ?? 120_000;
  const maxOldSpaceMiB = options.maxOldSpaceMiB ?? 4096;
  const seed = options.seed ?? 6;
  const progress = options.progress ?? (() => {});
  const dir = await mkdtemp(path.join(os.tmpdir(), 'phx-bench-parser-'));
  const results: ParserSizeResult[] = [];
  try {
    for (const series of sizes) {
      const file = path.join(dir, `process-${series}.prom`);
      progress(`parser: generating ${count(series)} series`);
      const fixture = await writeProcessExposition(file, series, seed);
      const outcomes = Object.fromEntries(PARSER_METHODS.map((m) => [m, [] as ParserOutcome[]])) as Record<ParserMethod, ParserOutcome[]>;
      for (let run = 1; run <= runs; run++) {
        for (const method of PARSER_METHODS) {
          if (outcomes[method].some((o) => 'failure' in o)) continue;
          const outcome = await measureInChild(method, file, timeLimitMs, maxOldSpaceMiB);
          outcomes[method].push(outcome);
          progress(`parser: ${count(series)} series (${mib(fixture.bytes)}), run ${run}/${runs}, ${method}: ${'failure' in outcome ? `did not finish (${outcome.failure})` : `${ms(outcome.ms)}, ${mib(outcome.peakRssBytes)}`}`);
        }
      }
      await rm(file, { force: true });
      const mismatches: string[] = [];
      for (const method of PARSER_METHODS) {
        const counted = new Set(outcomes[method].flatMap((o) => ('series' in o && o.series !== null ? [o.series] : [])));
        counted.delete(series);
        if (counted.size > 0) mismatches.push(`${method} counted ${[...counted].map(count).join(', ')} series, not ${count(series)}`);
      }
      for (const mismatch of mismatches) progress(`parser: MISMATCH at ${count(series)} series: ${mismatch}`);
      results.push({ series, bytes: fixture.bytes, outcomes, mismatches });
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return { runs, timeLimitMs, maxOldSpaceMiB, seed, sizes: results };
}

/** One measurement in a fresh process; a timeout, a crash or an out-of-memory abort is an outcome, not an error. */
async function measureInChild(method: ParserMethod, file: string, timeLimitMs: number, maxOldSpaceMiB: number): Promise<ParserOutcome> {
  const abort = new AbortController();
  const child = spawn(process.execPath, [`--max-old-space-size=${maxOldSpaceMiB}`, '--expose-gc', path.join(here, 'parser-child.js'), method, file], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let timedOut = false;
  const timer = delay(timeLimitMs, undefined, { signal: abort.signal }).then(
    () => {
      timedOut = true;
      child.kill('SIGKILL');
    },
    () => {},
  );
  const [code, signal] = await exited;
  abort.abort();
  await timer;
  if (timedOut) return { failure: `timeout after ${timeLimitMs / 1000} s` };
  if (/heap out of memory|Reached heap limit/i.test(stderr)) return { failure: `out of memory (--max-old-space-size=${maxOldSpaceMiB})` };
  const last = stdout.trim().split('\n').pop() ?? '';
  if (code === 0 && last.startsWith('{')) return JSON.parse(last) as ParserOutcome;
  return { failure: `exited with ${signal ?? `code ${code}`}: ${stderr.trim().split('\n').slice(-3).join(' ') || 'no output'}` };
}

interface Summary {
  medianMs: number | null;
  msRuns: string;
  peakRssBytes: number | null;
  failure: string | null;
}

function summarize(outcomes: ParserOutcome[]): Summary {
  const done = outcomes.filter((o): o is Exclude<ParserOutcome, { failure: string }> => !('failure' in o));
  const failed = outcomes.find((o): o is { failure: string } => 'failure' in o);
  return {
    medianMs: median(done.map((o) => o.ms)),
    msRuns: outcomes.map((o) => ('failure' in o ? 'did not finish' : ms(o.ms))).join(', '),
    peakRssBytes: median(done.map((o) => o.peakRssBytes)),
    failure: failed?.failure ?? null,
  };
}

/** The BENCHMARKS.md section: a table per size, then each goal of issue 6, met or not, with its figure. */
export function parserSection(result: ParserBenchResult): string {
  const lines = [
    '## Exposition parsing',
    '',
    "Inputs: generated expositions of hostmetrics' process scraper as the collector's Prometheus exporter writes them: 15 series",
    'per process, families in name order with `# HELP`/`# TYPE`, labels sorted (`host_name`, `job`, `process_command`,',
    '`process_command_line` of 100–400 characters with escaped quotes, backslashes and newlines, `process_executable_name`,',
    `\`process_executable_path\`, \`process_owner\`, \`process_parent_pid\`, \`process_pid\`, \`service_instance_id\`, and \`state\`/\`direction\`/\`type\`),`,
    `seed ${result.seed}, written to a temp file. Each measurement runs in a fresh \`node\` process (\`--max-old-space-size=${result.maxOldSpaceMiB}\`,`,
    `killed after ${result.timeLimitMs / 1000} s). Time: wall time from the opened file to the series count, reading included (64 KiB chunks,`,
    `read synchronously; the npm parser needs the whole file as one string), median of ${result.runs} runs. Memory: the child's peak`,
    'RSS minus its RSS just before the measurement, median of runs. The two reference rows are not parsers: they show what',
    'reading costs, and what splitting lines and hashing each series key into our series set costs with no syntax checked.',
  ];
  const bySize = result.sizes.map((size) => ({ size, s: Object.fromEntries(PARSER_METHODS.map((m) => [m, summarize(size.outcomes[m])])) as Record<ParserMethod, Summary> }));
  for (const { size, s } of bySize) {
    lines.push('', `### ${count(size.series)} series (${mib(size.bytes)})`, '', '| method | median time | runs | peak memory | time vs ours |', '|---|---|---|---|---|');
    const ours = s.ours.medianMs;
    for (const method of PARSER_METHODS) {
      const m = s[method];
      const time = m.failure !== null ? `did not finish (${m.failure})` : ms(m.medianMs);
      const ratio = ours === null || m.medianMs === null || m.failure !== null ? 'n/a' : `${(m.medianMs / ours).toFixed(2)}×`;
      lines.push(`| ${METHOD_LABELS[method]} | ${time} | ${m.msRuns} | ${m.failure !== null ? 'n/a' : mib(m.peakRssBytes)} | ${ratio} |`);
    }
    lines.push('');
    if (size.mismatches.length === 0) lines.push(`Series counted: ${count(size.series)} by every method that finished.`);
    else lines.push(`**SERIES COUNT MISMATCH**: ${size.mismatches.join('; ')}.`);
  }

  lines.push('', '### Goals (issue 6)', '');
  const at = (series: number) => count(series);
  const done = (m: Summary) => (m.failure === null ? m.medianMs : null);
  // 1. At least 5× faster than parse-prometheus-text-format, wherever it finished.
  const vsNpm = bySize.map(({ size, s }) => ({ size, npm: s.npm, ratio: ratio(done(s.npm), done(s.ours)) }));
  const slowerThan5 = bySize.filter((_, i) => vsNpm[i]!.ratio !== null && vsNpm[i]!.ratio! < 5);
  const npmVerdict = vsNpm.every((x) => x.ratio === null) ? 'not measured' : slowerThan5.length === 0 ? 'met' : 'not met';
  const npmFigures = vsNpm.map((x) =>
    x.ratio !== null ? `${x.ratio.toFixed(1)}× at ${at(x.size.series)}` : `at ${at(x.size.series)} it did not finish (${x.npm.failure ?? 'no result'})`,
  );
  lines.push(`- Ours at least 5× faster than parse-prometheus-text-format: **${npmVerdict}** — ${npmFigures.join('; ')}.`);
  if (slowerThan5.length > 0) lines.push(`  Cause: ${checkingCost(slowerThan5)}`);
  // 2. Within 3× of the bare floor.
  const vsBare = bySize.map(({ size, s }) => ({ size, ratio: ratio(done(s.ours), done(s.bare)) }));
  const over3 = bySize.filter((_, i) => vsBare[i]!.ratio === null || vsBare[i]!.ratio! > 3);
  lines.push(
    `- Ours within 3× of the bare floor: **${over3.length === 0 ? 'met' : 'not met'}** — ` +
      `${vsBare.map((x) => `${x.ratio === null ? 'n/a' : `${x.ratio.toFixed(2)}×`} at ${at(x.size.series)}`).join('; ')}.`,
  );
  if (over3.length > 0) lines.push(`  Cause: ${checkingCost(over3)}`);
  // 3. Memory flat in the input size, apart from the series set's hashes.
  const withMemory = bySize.filter((x) => done(x.s.ours) !== null && x.s.ours.peakRssBytes !== null);
  if (withMemory.length >= 2) {
    const small = withMemory[0]!;
    const large = withMemory[withMemory.length - 1]!;
    const added = large.size.series - small.size.series;
    const growth = large.s.ours.peakRssBytes! - small.s.ours.peakRssBytes!;
    const inherent = seriesSetPeakBytes(large.size.series) - seriesSetPeakBytes(small.size.series);
    const flat = growth <= inherent + FLAT_SLACK_BYTES;
    lines.push(
      `- Ours' memory flat in the input size: **${flat ? 'met' : 'not met'}** — peak ${mib(small.s.ours.peakRssBytes)} for ${mib(small.size.bytes)} of input ` +
        `(${at(small.size.series)} series), ${mib(large.s.ours.peakRssBytes)} for ${mib(large.size.bytes)} (${at(large.size.series)}): ${(growth / added).toFixed(0)} bytes per ` +
        `added series. Inherent: the series set keeps an 8-byte hash per series in a table at most half full, and holds the old table ` +
        `while it doubles, which at these sizes is ${mib(inherent)} more (${(inherent / added).toFixed(0)} bytes per series); nothing else grows with the input ` +
        `(\`met\` allows ${mib(FLAT_SLACK_BYTES)} of V8 heap and GC variation over the series set).`,
    );
    if (!flat) lines.push(`  Cause: ${mib(growth - inherent)} more than the series set explains.`);
  } else {
    lines.push("- Ours' memory flat in the input size: not measured (needs two sizes).");
  }
  // 4. A million series in under a second.
  const million = bySize.find((x) => x.size.series === 1_000_000);
  const t = million === undefined ? null : done(million.s.ours);
  if (million === undefined || t === null) {
    lines.push('- 1,000,000 series in under 1 s: not measured (run with 1000000 among the sizes).');
  } else {
    const bytesPerSeries = million.size.bytes / million.size.series;
    lines.push(
      `- 1,000,000 series in under 1 s: **${t < 1000 ? 'met' : 'not met'}** — ${ms(t)} for ${mib(million.size.bytes)} ` +
        `(${bytesPerSeries.toFixed(0)} bytes per series, ${(million.size.bytes / 2 ** 20 / (t / 1000)).toFixed(0)} MiB/s).`,
    );
    if (t >= 1000) {
      const perSecond = (million.size.bytes / t) * 1000;
      lines.push(
        `  Cause: ${checkingCost([million])} At this rate 1 s covers ${mib(perSecond)}: 1,000,000 series of at most ` +
          `${(perSecond / million.size.series).toFixed(0)} bytes each.`,
      );
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Slack for the memory goal: the V8 heap's own growth and the GC's timing vary by a few MiB between runs. */
const FLAT_SLACK_BYTES = 16 * 2 ** 20;

/** SeriesSet's peak bytes for n series: 8-byte slots, 65,536 at first, doubled past half full (old and new held while copying). */
export function seriesSetPeakBytes(n: number): number {
  let slots = INITIAL_SLOTS;
  let peak = slots * 8;
  while (n > slots / 2) {
    peak = slots * 8 + slots * 16;
    slots *= 2;
  }
  return Math.max(peak, slots * 8);
}

function ratio(a: number | null, b: number | null): number | null {
  return a === null || b === null || b === 0 ? null : a / b;
}

/** Where ours' time goes, from the reference rows: reading, then splitting and hashing every key, then checking the syntax. */
function checkingCost(sizes: { size: ParserSizeResult; s: Record<ParserMethod, Summary> }[]): string {
  return sizes
    .map(({ size, s }) => {
      const [ours, hashed, read] = [s.ours.medianMs, s.hashed.medianMs, s.read.medianMs];
      if (ours === null || hashed === null || read === null) return `at ${count(size.series)}: n/a`;
      return (
        `at ${count(size.series)}, of ours' ${ms(ours)}: reading the file ${ms(read)}; splitting lines and hashing every series key ` +
        `into the series set with nothing checked ${ms(hashed - read)} more; checking the syntax (names, quotes and escapes, values) the other ${ms(ours - hashed)}.`
      );
    })
    .join(' ');
}

function ms(x: number | null): string {
  if (x === null) return 'n/a';
  return x >= 1000 ? `${(x / 1000).toFixed(2)} s` : `${x.toFixed(1)} ms`;
}

const mib = fmt.mib;
const count = fmt.int;
