#!/usr/bin/env node
// The parser benchmark alone: `node dist/bench/parser-main.js --sizes 10000,100000 --runs 3` prints its BENCHMARKS.md section.
import { parseArgs } from 'node:util';
import { parserSection, runParserBench } from './parser.js';

const usage = 'usage: parser-main.js [--sizes 10000,100000,1000000] [--runs 3] [--time-limit SECONDS]';
const { values } = parseArgs({
  options: { sizes: { type: 'string', default: '10000,100000,1000000' }, runs: { type: 'string', default: '3' }, 'time-limit': { type: 'string', default: '120' } },
});
const sizes = values.sizes.split(',').map(Number);
const runs = Number(values.runs);
const timeLimit = Number(values['time-limit']);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !Number.isSafeInteger(runs) || runs < 1 || !(timeLimit > 0)) {
  process.stderr.write(`${usage}\ngot --sizes ${values.sizes} --runs ${values.runs} --time-limit ${values['time-limit']}\n`);
  process.exit(2);
}
const result = await runParserBench(sizes, runs, { timeLimitMs: timeLimit * 1000, progress: (line) => process.stderr.write(`${line}\n`) });
process.stdout.write(parserSection(result));
if (result.sizes.some((s) => s.mismatches.length > 0)) process.exitCode = 1;
