/// <reference path="../test/types/parse-prometheus-text-format.d.ts" />
// One parser measurement in a fresh process: `node parser-child.js METHOD FILE` prints one JSON line (a ParserOutcome).
import { constants } from 'node:buffer';
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { ExpositionScanner } from '../agent/measure/exposition.js';
import { SeriesSet } from '../agent/measure/series-set.js';

export type ParserMethod = keyof typeof METHODS;

/** A measurement's result, or why it has none (the parent adds timeouts and crashes). */
export type ParserOutcome =
  | {
      /** Distinct series counted (null for `read`, which does not parse). */
      series: number | null;
      /** Wall time from the opened file to the count, reading included. */
      ms: number;
      /** Peak RSS of the process minus its RSS just before the measurement. */
      peakRssBytes: number;
    }
  | { failure: string };

const CHUNK_BYTES = 64 * 1024;

/**
 * The file in 64 KiB chunks, read synchronously into one reused buffer (each method copies what it keeps):
 * an async read costs a thread-pool round trip per chunk, which took a quarter of the time at 1M series.
 */
function* chunks(fd: number): Generator<Buffer> {
  const buf = Buffer.allocUnsafe(CHUNK_BYTES);
  for (;;) {
    const bytesRead = readSync(fd, buf, 0, CHUNK_BYTES, null);
    if (bytesRead === 0) return;
    yield bytesRead === CHUNK_BYTES ? buf : buf.subarray(0, bytesRead);
  }
}

const METHODS = {
  ours(fd: number): number | null {
    const scanner = new ExpositionScanner();
    for (const chunk of chunks(fd)) scanner.write(chunk);
    const stats = scanner.end();
    if (stats.errors > 0) throw new Error(`scanner reported ${stats.errors} malformed lines, first: ${stats.firstError?.message}`);
    return stats.series;
  },

  // It takes one string; distinct series as name + sorted labels, as test/fuzz.test.ts counts them.
  npm(fd: number): number | null {
    const text = readFileSync(fd, 'utf8');
    const keys = new Set<string>();
    for (const family of parsePrometheusTextFormat(text)) {
      for (const sample of family.metrics) {
        keys.add(family.name + JSON.stringify(Object.entries(sample.labels ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
      }
    }
    return keys.size;
  },

  // The practical floor: lines split, comments skipped, the raw text before the value kept in a Set.
  bare(fd: number): number | null {
    const keys = new Set<string>();
    let rest = '';
    for (const chunk of chunks(fd)) {
      const text = rest + chunk.toString('latin1');
      let p = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; p = nl + 1, nl = text.indexOf('\n', p)) {
        if (nl === p || text.charCodeAt(p) === 35) continue;
        keys.add(text.slice(p, text.lastIndexOf(' ', nl)));
      }
      rest = text.slice(p);
    }
    if (rest !== '' && rest.charCodeAt(0) !== 35) keys.add(rest.slice(0, rest.lastIndexOf(' ')));
    return keys.size;
  },

  // A reference, not a parser: the bare floor with our series set instead of a Set of strings (each raw
  // series text hashed in place, nothing checked) — what our scanner costs before it checks any syntax.
  hashed(fd: number): number | null {
    const keys = new SeriesSet();
    let rest = Buffer.alloc(0);
    for (const chunk of chunks(fd)) {
      const bytes = rest.length === 0 ? chunk : Buffer.concat([rest, chunk]);
      const last = bytes.lastIndexOf(10);
      const text = bytes.toString('latin1', 0, last + 1);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      let p = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; p = nl + 1, nl = text.indexOf('\n', p)) {
        if (nl === p || text.charCodeAt(p) === 35) continue;
        keys.add(view, p, text.lastIndexOf(' ', nl));
      }
      rest = Buffer.from(bytes.subarray(last + 1));
    }
    if (rest.length > 0 && rest[0] !== 35) keys.add(new DataView(rest.buffer, rest.byteOffset, rest.length), 0, rest.lastIndexOf(32));
    return keys.size;
  },

  // A reference, not a parser: what reading the chunks alone costs.
  read(fd: number): number | null {
    for (const chunk of chunks(fd)) if (chunk.length === 0) break;
    return null;
  },
};

function measure(method: ParserMethod, file: string): ParserOutcome {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const baseline = process.memoryUsage.rss();
  const fd = openSync(file, 'r');
  try {
    const started = performance.now();
    const series = METHODS[method](fd);
    const ms = performance.now() - started;
    return { series, ms, peakRssBytes: process.resourceUsage().maxRSS * 1024 - baseline };
  } catch (err) {
    const error = err as NodeJS.ErrnoException;
    if (error.code === 'ERR_STRING_TOO_LONG') {
      const mib = (n: number) => `${(n / 2 ** 20).toFixed(0)} MiB`;
      return { failure: `the ${mib(fstatSync(fd).size)} input is longer than V8's longest string, ${mib(constants.MAX_STRING_LENGTH)}` };
    }
    return { failure: error.message };
  } finally {
    closeSync(fd);
  }
}

const [method, file] = process.argv.slice(2);
if (method === undefined || !Object.hasOwn(METHODS, method) || file === undefined) {
  process.stderr.write(`usage: parser-child.js ${Object.keys(METHODS).join('|')} FILE\n`);
  process.exitCode = 2;
} else {
  process.stdout.write(`${JSON.stringify(measure(method as ParserMethod, file))}\n`);
}
