// The agent overhead bench's plan and Markdown (issue 15's side by side of the loss measurements on and off), on fixed results.
import t from 'tap';
import { lossSideBySide, overheadPlan, renderAgentOverhead, renderLossSideBySide, type AgentOverheadResult } from '../../bench/agent-overhead.js';

const MIB = 2 ** 20;

/** One run's result: the agent's CPU mean and RSS peak as given, the rest plausible and fixed. */
function run(processes: number, loss: boolean, cpu: number, o: { rssMiB?: number; busy?: number; p95?: number } = {}): AgentOverheadResult {
  const usage = (cpuMean: number, rss: number) => ({ samples: 36, cpuPercentMean: cpuMean, cpuPercentP95: cpuMean * 3, rssBytesMean: rss * 0.95, rssBytesPeak: rss });
  return {
    processes,
    loss,
    hostProcesses: { min: processes + 68, max: processes + 70 },
    machineBusyPercent: o.busy ?? 4,
    durationMs: 180_000,
    warmUpMs: 90_000,
    sampleEveryMs: 5000,
    profiled: false,
    reports: 12,
    agent: { ...usage(cpu, (o.rssMiB ?? 75) * MIB), cpuPercentP95: o.p95 ?? cpu * 3, cpuPercentWithChildrenMean: cpu },
    collectors: [
      { variant: 'baseline', pids: [101], ...usage(2.5, 66 * MIB) },
      { variant: 'optimized-a', pids: [102], ...usage(1, 48 * MIB) },
    ],
    stop: { code: 0, signal: null, forced: false, collectorsLeft: [] },
    goals: { agentCpu: cpu < 1, agentRss: true, agentVsCollectors: cpu < 1 / 3 },
  };
}

const RESULTS = [
  run(300, true, 0.3, { rssMiB: 78 }),
  run(300, false, 0.25),
  run(300, true, 0.35, { rssMiB: 80 }),
  run(300, false, 0.2),
  run(300, true, 0.4, { rssMiB: 79 }),
  run(300, false, 0.25),
  run(1000, true, 1.2, { rssMiB: 90 }),
  run(1000, false, 0.6),
  run(1000, true, 1.1),
  run(1000, false, 0.7),
  run(1000, true, 1.3),
  run(1000, false, 0.65),
];

t.test('the plan: every size with every loss setting per run, the order of on and off alternating', async (t) => {
  t.same(overheadPlan([300, 1000], [true, false], 2), [
    { run: 1, processes: 300, loss: true },
    { run: 1, processes: 300, loss: false },
    { run: 1, processes: 1000, loss: true },
    { run: 1, processes: 1000, loss: false },
    { run: 2, processes: 300, loss: false },
    { run: 2, processes: 300, loss: true },
    { run: 2, processes: 1000, loss: false },
    { run: 2, processes: 1000, loss: true },
  ]);
  t.same(overheadPlan([300], [false], 2), [{ run: 1, processes: 300, loss: false }, { run: 2, processes: 300, loss: false }]);
});

t.test('side by side: medians, their ratio and difference, and the goals by size', async (t) => {
  const [small, large, ...rest] = lossSideBySide(RESULTS);
  t.equal(rest.length, 0, 'one entry per size');
  t.equal(small!.processes, 300);
  t.equal(small!.on.length, 3);
  t.equal(small!.off.length, 3);
  t.equal(small!.cpuOn, 0.35);
  t.equal(small!.cpuOff, 0.25);
  t.ok(Math.abs(small!.ratio! - 1.4) < 1e-9, `ratio ${small!.ratio}`);
  t.ok(Math.abs(small!.addedPercent! - 0.1) < 1e-9, `added ${small!.addedPercent}`);
  t.equal(small!.goalPercent, 0.5);
  t.equal(small!.met, true);
  t.equal(large!.cpuOn, 1.2);
  t.equal(large!.cpuOff, 0.65);
  t.equal(large!.goalPercent, 1);
  t.equal(large!.met, false, '1.2% is over the 1% goal at 1,000');

  const [only] = lossSideBySide([run(500, true, 0.4)]);
  t.equal(only!.goalPercent, null, 'no goal at 500 processes');
  t.equal(only!.met, null);
  t.equal(only!.cpuOff, null);
  t.equal(only!.ratio, null);
  t.equal(only!.addedPercent, null);
});

t.test('the side-by-side table shows medians with every run, ratios and the added CPU', async (t) => {
  const md = renderLossSideBySide(RESULTS);
  t.match(md, '| 300 | agent CPU, mean | 0.35% (0.30%, 0.35%, 0.40%) | 0.25% (0.25%, 0.20%, 0.25%) | 1.40× |');
  t.match(md, '| 300 | agent RSS, peak | 79.0 MiB (78.0 MiB, 80.0 MiB, 79.0 MiB) | 75.0 MiB (75.0 MiB, 75.0 MiB, 75.0 MiB) | 1.05× |');
  t.match(md, '| 1,000 | agent CPU, p95 of 5 s samples | 3.60% (3.60%, 3.30%, 3.90%) | 1.95% (1.80%, 2.10%, 1.95%) | 1.85× |');
  t.match(md, '| 300 | **added CPU of the loss measurements** (on − off, medians) | +0.10% of a core | | 1.40× |');
  t.match(md, '| 1,000 | **added CPU of the loss measurements** (on − off, medians) | +0.55% of a core | | 1.85× |');
  t.match(md, '- 300 processes: agent CPU with the loss measurements under 0.5% of a core — met (0.35%; 0.25% with them off, +0.10% of a core).');
  t.match(md, '- 1,000 processes: agent CPU with the loss measurements under 1% of a core — **not met** (1.20%; 0.65% with them off, +0.55% of a core).');
  t.match(renderLossSideBySide([run(1000, true, 0.8)]), '| 1,000 | agent CPU, mean | 0.80% (0.80%) | – | n/a |', 'no off runs: a dash');
  t.match(renderLossSideBySide([run(500, true, 0.8)]), '- none at these sizes.');
});

t.test('the section: side by side first, then the issue 6 table of 300 processes with the loss measurements on', async (t) => {
  const md = renderAgentOverhead(RESULTS);
  t.match(md, /^## Agent overhead\n/);
  t.match(md, 'over a host with 300 or 1,000 simulated processes');
  t.match(md, '3 runs of each');
  t.match(md, 'warm-up of\n1.5 min');
  t.match(md, '5 s for\n3.0 min');
  t.match(md, 'The whole machine was 4%–4% busy');
  t.notMatch(md, 'other work shared the machine');
  t.ok(md.indexOf('### Loss measurements on and off') < md.indexOf('### 300 simulated processes, loss measurements on: agent and collectors'));
  // The issue 6 table holds only the 300-process runs with the loss measurements on.
  t.match(md, '| agent CPU, mean | 0.35% | 0.30%, 0.35%, 0.40% |');
  t.match(md, '| agent RSS, peak | 79.0 MiB | 78.0 MiB, 80.0 MiB, 79.0 MiB |');
  t.match(md, '| agent CPU ÷ baseline CPU | 0.14 | 0.12, 0.14, 0.16 |');
  t.match(md, '- agent CPU under 1% of a core on average — met (0.35%).');
  t.match(md, '- agent CPU under a third of either collector\'s — **not met** (0.14 and 0.35 of baseline\'s and optimized-a\'s).');
  t.match(md, 'Stop: all 12 agents exited 0; collectors left running after the agent exited: none.');

  const busy = renderAgentOverhead([run(300, true, 0.3, { busy: 40 }), run(300, false, 0.2, { busy: 55 })]);
  t.match(busy, 'The whole machine was 40%–55% busy (all cores, other work included) while runs were sampled: other work shared the machine');
  const forced = run(300, true, 0.3);
  forced.stop = { code: null, signal: 'SIGKILL', forced: true, collectorsLeft: [4242] };
  const stopped = renderAgentOverhead([forced, run(300, true, 0.3)]);
  t.match(stopped, 'Stop: exit SIGKILL (forced), exit 0; collectors left running after the agent exited: 4242.');
  t.match(renderAgentOverhead([run(1000, false, 0.6)]), '### 1,000 simulated processes, loss measurements off: agent and collectors', 'no 300-on runs: the first configuration');
  t.equal(renderAgentOverhead([]), '## Agent overhead\n\nNo runs.\n');
});
