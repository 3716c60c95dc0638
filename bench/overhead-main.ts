#!/usr/bin/env node
// Runs the agent overhead and pipeline effect benchmarks alone and prints their Markdown:
//   node dist/bench/overhead-main.js [--only overhead|effect] [--duration 5m] [--warm-up 2m] [--processes 300,1000]
//                                    [--loss on|off|both] [--sizes 100,300,1000] [--effect-duration 60s] [--runs 1] [--cpu-prof DIR] [--json FILE]
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { parseDuration } from '../common/duration.js';
import { exitOnSignals } from '../common/signals.js';
import { renderAgentOverhead, runAgentOverheadSet, type AgentOverheadResult } from './agent-overhead.js';
import { renderPipelineEffect, runPipelineEffect, type PipelineEffectResult } from './pipeline-effect.js';

const USAGE = `usage: overhead-main [--only overhead|effect] [--duration 5m] [--warm-up 2m] [--processes 300,1000] [--loss on|off|both]
                     [--sizes 100,300,1000] [--effect-duration 60s] [--runs 1] [--cpu-prof DIR] [--json FILE]
  --duration         how long the agent overhead is sampled, per run (default 5m)
  --warm-up          how long the agent runs after its first report before sampling starts (default 2m)
  --processes        simulated process counts for the overhead runs, comma-separated (default 300,1000)
  --loss             the agent's loss measurements (issue 15) in the overhead runs: on, off, or both side by side (default both)
  --sizes            simulated process counts for the pipeline effect (default 100,300,1000)
  --effect-duration  how long each baseline/candidate pair is measured after its warm-up (default 60s)
  --runs             repeat each benchmark, each overhead size and loss setting (the Markdown shows medians and every run)
  --cpu-prof DIR     write a V8 CPU profile of the agent process of each overhead run into DIR
  --json FILE        also write the raw results as JSON`;

function fail(message: string): never {
  process.stderr.write(`overhead-main: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function duration(flag: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === null || ms < 1000) fail(`${flag} must be a duration of at least 1s such as '60s' or '5m', got '${text}'`);
  return ms;
}

function count(flag: string, text: string, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) fail(`${flag} must be a whole number from 1 to ${max}, got '${text}'`);
  return n;
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      only: { type: 'string' },
      duration: { type: 'string', default: '5m' },
      'warm-up': { type: 'string', default: '2m' },
      processes: { type: 'string', default: '300,1000' },
      loss: { type: 'string', default: 'both' },
      sizes: { type: 'string', default: '100,300,1000' },
      'effect-duration': { type: 'string', default: '60s' },
      runs: { type: 'string', default: '1' },
      'cpu-prof': { type: 'string' },
      json: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  fail((error as Error).message);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (values.only !== undefined && values.only !== 'overhead' && values.only !== 'effect') fail(`--only must be 'overhead' or 'effect', got '${values.only}'`);
const durationMs = duration('--duration', values.duration);
const warmUpMs = duration('--warm-up', values['warm-up']);
const counts = (flag: string, text: string) => [...new Set(text.split(',').map((s) => count(flag, s.trim(), 5000)))];
const processes = counts('--processes', values.processes);
const LOSS_SETTINGS: Record<string, boolean[]> = { on: [true], off: [false], both: [true, false] };
if (!Object.hasOwn(LOSS_SETTINGS, values.loss)) fail(`--loss must be 'on', 'off' or 'both', got '${values.loss}'`);
const losses = LOSS_SETTINGS[values.loss]!;
const sizes = counts('--sizes', values.sizes);
const effectDurationMs = duration('--effect-duration', values['effect-duration']);
const runs = count('--runs', values.runs, 20);

const signal = exitOnSignals('overhead-main', 60_000);
const results: { overhead?: AgentOverheadResult[]; effect?: PipelineEffectResult[] } = {};
try {
  if (values.only !== 'effect') {
    results.overhead = await runAgentOverheadSet({
      sizes: processes,
      losses,
      runs,
      durationMs,
      warmUpMs,
      signal,
      progress: (line) => process.stderr.write(`${line}\n`),
      ...(values['cpu-prof'] ? { cpuProfileDir: values['cpu-prof'] } : {}),
    });
    process.stdout.write(`${renderAgentOverhead(results.overhead)}\n`);
  }
  if (values.only !== 'overhead') {
    results.effect = [];
    for (let i = 1; i <= runs; i++) {
      process.stderr.write(`pipeline effect: run ${i}/${runs} (sizes ${sizes.join(', ')})\n`);
      results.effect.push(await runPipelineEffect({ sizes, durationMs: effectDurationMs, signal }));
    }
    process.stdout.write(`${renderPipelineEffect(results.effect)}\n`);
  }
} catch (error) {
  process.stderr.write(`overhead-main: ${signal.aborted ? 'stopped by a signal' : (error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
} finally {
  if (values.json) await writeFile(values.json, `${JSON.stringify(results, null, 2)}\n`);
}
