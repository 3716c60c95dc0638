#!/usr/bin/env node
// `npm run bench`: runs the benchmarks three times each and writes BENCHMARKS.md with medians.
// `npm run bench -- --only parser,hub` runs some groups and keeps the other groups' sections as they were
// (each section says when it was measured). Groups: parser, agent, hub, store, experiments, engines, ceiling.
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { packageRoot } from '../common/paths.js';
import { parserSection, runParserBench } from './parser.js';
import { renderAgentOverhead, runAgentOverheadSet } from './agent-overhead.js';
import { renderPipelineEffect, runPipelineEffect, type PipelineEffectResult } from './pipeline-effect.js';
import { hubLoadSection, runHubLoad, type HubLoadOptions, type HubLoadResult } from './hub-load.js';
import { measureStore, prepareStore, storeSection, type StoreScaleRun } from './store-scale.js';
import { copyStoreToPostgres } from './store-copy.js';
import { createPostgresServer } from './postgres-server.js';
import { fanoutSection, runFanout, type FanoutOptions, type FanoutPair } from './experiment-fanout.js';
import { enginesSection, runEngineLoad, type EngineLoadOptions } from './hub-engines.js';
import { ceilingSection, runCeiling } from './hub-ceiling.js';

const RUNS = 3;
const say = (line: string) => process.stderr.write(`${line}\n`);

async function parserGroup(): Promise<string> {
  say(`exposition parsing: 10k, 100k and 1M series, ${RUNS} runs, each measurement in a fresh process`);
  return parserSection(await runParserBench([10_000, 100_000, 1_000_000], RUNS, { progress: (line) => say(`  ${line}`) }));
}

async function agentGroup(): Promise<string> {
  say(`agent overhead: ${RUNS} runs of 5 minutes at 300 and 1,000 simulated processes, each with the loss measurements on and off`);
  const overhead = await runAgentOverheadSet({ sizes: [300, 1000], losses: [true, false], runs: RUNS, durationMs: 300_000, progress: (line) => say(`  ${line}`) });
  say(`pipeline effect: ${RUNS} runs at 100, 300 and 1,000 simulated processes with churn`);
  const effect: PipelineEffectResult[] = [];
  for (let i = 1; i <= RUNS; i++) effect.push(await runPipelineEffect({ sizes: [100, 300, 1000], durationMs: 60_000 }));
  return `${renderAgentOverhead(overhead)}\n${renderPipelineEffect(effect)}`;
}

const HUB_LOADS: (HubLoadOptions & { note: string })[] = [
  { agents: 1000, intervalMs: 1000, durationMs: 30_000, apiEveryMs: 200, note: 'each agent sends a report every second (15× the default 15 s interval) for 30 s; the comparison API is timed every 200 ms' },
  { agents: 10_000, intervalMs: 5000, durationMs: 30_000, apiEveryMs: 0, note: 'each agent sends a report every 5 s (3× the default) for 30 s; nobody reads the API meanwhile (ingest alone)' },
  { agents: 10_000, intervalMs: 5000, durationMs: 30_000, apiEveryMs: 1000, note: 'as above, and the comparison API (the whole fleet, 1 h) is requested every second, as an open page would' },
];

async function hubGroup(): Promise<string> {
  const sections: string[] = [];
  for (const load of HUB_LOADS) {
    const runs: HubLoadResult[] = [];
    for (let i = 1; i <= RUNS; i++) {
      say(`hub load: run ${i}/${RUNS} (${load.agents.toLocaleString('en')} agents)`);
      runs.push(await runHubLoad(load));
    }
    sections.push(hubLoadSection(load, runs));
  }
  return `${sections.join('\n')}
What reading the API costs the acks at 10,000 agents (the difference between the two tables above): the hub answers HTTP on the same
event loop that acknowledges reports, and one comparison over 10,000 hosts holds that loop for ~110–150 ms
(profiled in-process: ~70% the store's window-edge lookups, two index seeks per host and side; ~30% the
aggregation), so acks queued behind it wait. Answering API reads from a worker thread with its own read-only
connection (SQLite's WAL lets it read while the hub writes) would take that away; not done yet.
`;
}

async function storeGroup(): Promise<string> {
  const hosts = 1000;
  const hours = 24;
  say(`hub store: filling ${hours} h of ${hosts} hosts reporting every 15 s through the store's ingest`);
  let shown = -1;
  const store = await prepareStore(hosts, hours, (share) => {
    const tenth = Math.floor(share * 10);
    if (tenth !== shown) say(`  ${(shown = tenth) * 10}%`);
  });
  const runs: StoreScaleRun[] = [];
  const pgRuns: StoreScaleRun[] = [];
  const server = await createPostgresServer();
  try {
    say('hub store: the same rows copied into PostgreSQL');
    const copy = await copyStoreToPostgres(path.join(store.dataDir, 'hub.db'), server.url);
    for (const [engine, into, url] of [['SQLite', runs, undefined], ['PostgreSQL', pgRuns, server.url]] as const) {
      for (let i = 1; i <= RUNS; i++) {
        say(`hub store: ${engine} run ${i}/${RUNS} (a fresh hub process; each query 40 times; the page 6 times)`);
        into.push(await measureStore(store.dir, store.dataDir, hosts, 40, url));
      }
    }
    return storeSection(store.fill, runs, { copySeconds: copy.seconds, databaseBytes: copy.databaseBytes, runs: pgRuns });
  } finally {
    await server.remove();
    await store.remove();
  }
}

/** p99 over a 10 s window is a noisy figure: more pairs than the other groups' runs. */
const FANOUT_PAIRS = 5;
const FANOUT: FanoutOptions = { agents: 1000, intervalMs: 5000, warmupMs: 10_000, windowMs: 10_000, patienceMs: 20_000 };

async function experimentsGroup(): Promise<string> {
  const pairs: FanoutPair[] = [];
  for (let i = 1; i <= FANOUT_PAIRS; i++) {
    say(`experiment fan-out: pair ${i}/${FANOUT_PAIRS} (${FANOUT.agents.toLocaleString('en')} v2 agents; a run with the experiment and one without)`);
    // Which run goes first alternates, so that a drift of the machine falls on both sides.
    const first = await runFanout(FANOUT, i % 2 === 1);
    const second = await runFanout(FANOUT, i % 2 === 0);
    pairs.push(first.withExperiment ? { experiment: first, control: second } : { experiment: second, control: first });
  }
  return `${fanoutSection(FANOUT, pairs, `Every figure is the median of ${FANOUT_PAIRS} such pairs.`)}
Where the fan-out's time went, and what changed (profiled on 2026-12-03 with V8's sampling profiler and counted with
\`strace\` on this machine). As first measured (at 6ea8ac2), the hub wrote each host's every change as its own SQLite
commit, each waiting for its fsync (\`synchronous = FULL\`) on the event loop: the wave's 1,000 host rows, a host row
and an event for each of the 2,000 statuses, each host's first tagged report's \`healthySince\`, ~6,000 commits that
held the loop ~0.55 s in one stretch: every host applied in 1.06 s, but the ack p99 in the window was 648 ms against
9.6 ms (58.6×). Since then: a running experiment's changes are committed together within 50 ms (and before any API
read), 11.9× (110 ms against 9.3 ms); a wave's assignment is serialised once, sent 50 hosts every 25 ms, and
create-and-start runs in two turns of the loop; and this load tool validates an assignment's text once for its 1,000
simulated agents instead of holding its own loop ~100 ms, which showed as ack latency no real agent adds: the table
above. What is left is ~35 ms each for the create (reading the 1,000 agents, ordering them, inserting 1,000 host rows
in one transaction) and for the start, and the statuses' work, on 2 cores the load process shares: the goal of 10% is
not met (2.1×), every host is applied 14 times faster than the goal.
`;
}

/** The machine's own speed that day, to read the figures beside: our parser's time for 1M series (one run). */
async function machineSpeed(): Promise<string> {
  const result = await runParserBench([1_000_000], 1);
  const outcome = result.sizes[0]?.outcomes.ours[0];
  return outcome && 'ms' in outcome ? `our parser read 1M series in ${(outcome.ms / 1000).toFixed(2)} s (BENCHMARKS' parser section: the same measure)` : 'the parser bench did not finish';
}

async function enginesGroup(): Promise<string> {
  const load: Omit<EngineLoadOptions, 'engine' | 'replicas'> = { agents: 10_000, intervalMs: 5000, durationMs: 60_000, apiEveryMs: 1000 };
  say('store engines: the machine\'s speed (the parser at 1M series), then 10,000 agents on SQLite (1 hub) and on PostgreSQL (2 replicas)');
  const machine = await machineSpeed();
  const sqlite = await runEngineLoad({ ...load, engine: 'sqlite', replicas: 1 });
  const postgres = await runEngineLoad({ ...load, engine: 'postgres', replicas: 2 });
  return `${enginesSection(sqlite, postgres, machine)}${ENGINES_NOTE}`;
}

/** The one-process goal (issue 16): 30,000 agents at 15 s. */
const CEILING_GOAL = 30_000;

async function ceilingGroup(): Promise<string> {
  say('hub ceiling: the machine\'s speed, then growing fleets at 15 s on one hub process (SQLite), each on a fresh hub');
  const machine = await machineSpeed();
  const result = await runCeiling([5000, 10_000, 15_000, 20_000, 25_000, CEILING_GOAL], 60_000, (line) => say(`  ${line}`));
  return ceilingSection(result, machine, CEILING_GOAL);
}

/** What the figures said when they were last measured (written by hand, with the date: figures move, reasons less). */
const ENGINES_NOTE = `
What these figures say, as measured on 2026-12-07 and 2026-12-08 (issue 16 is not resolved):
- Every PostgreSQL figure before that day is void: the bench had sent the same 5,000 agent ids to both replicas (half
  the reports duplicates, and each replica reloading the running totals the other had just advanced).
- **The reports** are what a current agent sends since the third run that day: with the host's truth and both
  variants' loss figures (3.3 KB of JSON a report, +65%, validated and stored). The figures before it (SQLite's ack p99
  42.8–73.5 ms in four runs, PostgreSQL's 115.8 ms) were measured with reports that had none; the same reports now
  cost the loop about a third more (validation, the running totals of 19 more sums, the latest report's text).
- **SQLite's acks**: its comparison is read and built in a window thread since that day (on the loop, compareFleet
  over 10,000 hosts held it ~70 ms every second: ack p99 206–256 ms with these reports, 76–87 ms after). Later that
  day the loop stopped pinging agents it hears from (10,000 pings were ~40 ms of it each second), SQLite's file got
  each agent's latest report once a minute instead of with every report, and the window threads run at nice 10: the
  loop busy 41–44% of the steady minute -> 28% (profiled), ack p50 8.1 -> 6.5–7.6 ms, p99 57.8 and 88.6 ms in the two
  runs of this bench after them (the parser at 1.48 and 1.57 s). What is left of the p99 comes every ~10 s with the
  loop's full garbage collections and the window thread's (its comparisons of the whole fleet allocate ~35 MB a
  second), which the 2 cores share with the load.
- **PostgreSQL's acks**: two hubs, the database server and two load processes share this machine's 2 cores (the two
  replicas alone ~90% of a core, the server ~45%, the load ~25%: the machine is near saturated, and the tail is CPU
  waits). A batch of recent reports no longer waits for a maintenance pass (the rollup lock); the run's p99 still
  includes its first seconds (each agent's first report on a replica, the other's hellos), the figure after the first
  interval leaves them out. On 2026-12-08 a batch became four round trips instead of seven (the agents
  locked with the marks in one statement, its rows written in one) and the window threads keep each host's points
  between comparisons (a side whose ends did not move is not made again): p99 214 -> 120 ms, after the first interval
  169 -> 95 ms, the comparison after the load 210 -> 110 ms (SQLite's 162 -> 70 ms). Timed inside the hub, a batch of
  ~20 reports takes 10–13 ms at its median (its one write statement 5–7 ms, the commit 1.5–2 ms); its p99 of 35–70 ms
  is mostly waiting for a core (BEGIN's own p99 is 6–13 ms). Without the comparison read, the same load gave p99 102 ms
  and 57 ms after the first interval; without the latest report's upsert (not a change: other replicas' pages read it),
  the server's CPU fell by a fifth and the ack p50 from 23 to 15 ms.
- **The comparison** here reads the whole fleet (10,000 hosts, 1 h) while 2,000 reports a second come in; the goal's
  own measure, 1,000 hosts × 24 h, is the store section's, on both engines.
- **Store growth per report** on PostgreSQL counts the dead row versions of each agent's rows updated per report
  (its high-water mark, its latest report) until autovacuum makes their space reusable: the store section's day of
  1,000 hosts, copied and vacuumed, is the size to plan by (1.9× SQLite's since schema 6 laid PostgreSQL's big tables
  out for it; a PostgreSQL row still carries a 24-byte header and fixed-width numbers where SQLite stores small
  integers in a byte or none, and its tables are a heap with two indexes where SQLite's raw rows live in their primary
  key's tree).
`;

const GROUPS: Record<string, () => Promise<string>> = {
  parser: parserGroup,
  agent: agentGroup,
  hub: hubGroup,
  store: storeGroup,
  experiments: experimentsGroup,
  engines: enginesGroup,
  ceiling: ceilingGroup,
};

/** Each group's text sits between markers, so a partial run can replace just its own. */
const block = (group: string, text: string) => `<!-- bench:${group} -->\n${text.trim()}\n<!-- /bench:${group} -->`;
function previousBlocks(text: string): Map<string, string> {
  const found = new Map<string, string>();
  for (const m of text.matchAll(/<!-- bench:(\w+) -->\n[\s\S]*?\n<!-- \/bench:\1 -->/g)) found.set(m[1]!, m[0]);
  return found;
}

const { values } = parseArgs({ options: { only: { type: 'string' } } });
const chosen = values.only === undefined ? Object.keys(GROUPS) : values.only.split(',').map((g) => g.trim());
for (const group of chosen) {
  if (!Object.hasOwn(GROUPS, group)) {
    say(`bench: unknown group '${group}' in --only; groups: ${Object.keys(GROUPS).join(', ')}`);
    process.exit(2);
  }
}
const file = path.join(packageRoot(), 'BENCHMARKS.md');
const previous = previousBlocks(await readFile(file, 'utf8').catch(() => ''));
const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'}, ${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${os.type()} ${os.release()}`;
const date = new Date().toISOString().slice(0, 10);
const blocks: string[] = [];
for (const group of Object.keys(GROUPS)) {
  if (chosen.includes(group)) blocks.push(block(group, `_Measured by \`npm run bench\` on ${date}; ${machine}._\n\n${await GROUPS[group]!()}`));
  else blocks.push(previous.get(group) ?? block(group, `_Not measured yet: \`npm run bench -- --only ${group}\`._`));
}
const text = `# Benchmarks

Written by \`npm run bench\` (every group) or \`npm run bench -- --only GROUP[,GROUP]\` (those groups; the others
are kept as they were). Groups: ${Object.keys(GROUPS).join(', ')}. Each section says when and where it was measured;
every figure is the median of ${RUNS} runs, each run's figure beside it. Benchmarks are not run by the test suite.

${blocks.join('\n\n')}
`;
await writeFile(file, text);
process.stderr.write(text);
