#!/usr/bin/env node
// Load process for the hub benches: N simulated agents on real WebSocket connections, reports accelerated.
// Usage: load-agents URL TOKEN AGENTS INTERVAL_MS DURATION_MS [--protocol 1|2] [--samples] [--sources N] [--first N]
// --protocol 2: each agent takes experiments as a real agent answers them (docs/protocol.md): an assign gets status
// applying then applied (same id and revision), later reports carry the experiment's tag, a withdraw gets reverted.
// --samples: the result carries every acknowledged report's send time and latency.
// --sources N: connection i leaves from 127.0.0.(1 + i mod N), so that tens of thousands of connections to one hub
// port do not exhaust one source address's ephemeral ports (a loopback hub URL only).
// --first N: the agents are sim-N, sim-N+1, … (several load processes, e.g. one per hub replica, never share an agent).
// Prints one JSON line of results (LoadAgentsResult) on stdout when done, or when stopped early with SIGTERM.
import WebSocket from 'ws';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import type { AssignmentState } from '../protocol/assignment.js';
import { parseHubMessage, type Hello } from '../protocol/messages.js';
import type { AgentReport } from '../protocol/report.js';
import type { AgentAssignmentTimes, LoadAgentsResult } from './load-process.js';
import { simulatedReport } from './simulated-report.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { protocol: { type: 'string', default: '1' }, samples: { type: 'boolean', default: false }, sources: { type: 'string', default: '1' }, first: { type: 'string', default: '0' } },
});
const [url, token, agentsArg, intervalArg, durationArg] = positionals;
const agents = Number(agentsArg);
const intervalMs = Number(intervalArg);
const durationMs = Number(durationArg);
const version = Number(values.protocol);
const sources = Number(values.sources);
const first = Number(values.first);
if (!url || !token || !(agents > 0) || !(intervalMs > 0) || !(durationMs > 0) || (version !== 1 && version !== 2) || !Number.isInteger(sources) || sources < 1 || sources > 254 || !Number.isInteger(first) || first < 0) {
  process.stderr.write('usage: load-agents URL TOKEN AGENTS INTERVAL_MS DURATION_MS [--protocol 1|2] [--samples] [--sources 1-254] [--first N>=0]\n');
  process.exit(2);
}
if (sources > 1 && !/^127\./.test(new URL(url).hostname)) {
  process.stderr.write(`load-agents: --sources ${sources} binds 127.0.0.x source addresses, which reach only a hub on 127.x, not ${new URL(url).hostname}\n`);
  process.exit(2);
}
/** The source address of connection i (undefined: the system's choice). */
const sourceOf = (i: number): string | undefined => (sources > 1 ? `127.0.0.${1 + (i % sources)}` : undefined);

/** The assignment an agent runs: the tag its reports carry and the variants they are named after. */
interface Running {
  experimentId: string;
  revision: number;
  variants: { name: string; configHash: string }[];
}

interface Sim {
  ws: WebSocket;
  seq: number;
  sentAt: Map<number, number>;
  running: Running | null;
  /** The last status it said, answered again when the hub sends the same assignment again. */
  last: { experimentId: string; revision: number; state: AssignmentState } | null;
  times: AgentAssignmentTimes | null;
}

/** Wall-clock milliseconds with sub-millisecond precision, comparable with the parent process's clock. */
const epochMs = () => performance.timeOrigin + performance.now();
const latencies: number[] = [];
const samples: [number, number][] = [];
let acked = 0;
let sent = 0;
let failedConnections = 0;
let unexpected = 0;

function sendStatus(sim: Sim, experimentId: string, revision: number, state: AssignmentState, message: string | null): void {
  sim.last = { experimentId, revision, state };
  sim.ws.send(JSON.stringify({ type: 'status', v: 2, status: { experimentId, revision, state, message, at: new Date().toISOString() } }));
}

/**
 * Large messages (an assignment: both templates) validated once per distinct text. The hub sends every host of a wave
 * the same text; validating it again for each of 1,000 simulated agents would hold this one process's loop for
 * ~100 ms and show up as ack latency that no real agent (each validating its own) would add.
 */
const validatedLarge = new Map<string, ReturnType<typeof parseHubMessage>>();

function parseOnce(data: string): ReturnType<typeof parseHubMessage> {
  if (data.length < 1024) return parseHubMessage(data, [2]);
  let parsed = validatedLarge.get(data);
  if (parsed === undefined) validatedLarge.set(data, (parsed = parseHubMessage(data, [2])));
  return parsed;
}

/** Version 2: what a real agent answers (agent/assignment/runner.ts), minus running any collector. */
function onHubMessage(sim: Sim, data: string): void {
  const parsed = parseOnce(data);
  if (!parsed.ok) {
    unexpected += 1;
    return;
  }
  const message = parsed.message;
  if (message.type === 'ack') return onAck(sim, message.seq);
  if (message.type === 'assign') {
    const { experimentId, revision, variants } = message.assignment;
    const last = sim.last;
    if (last && last.experimentId === experimentId && last.revision >= revision) return sendStatus(sim, experimentId, last.revision, last.state, null);
    const assignedAt = epochMs();
    sendStatus(sim, experimentId, revision, 'applying', null);
    sim.running = { experimentId, revision, variants: variants.map((v) => ({ name: v.name, configHash: v.sha256.slice(0, 16) })) };
    sendStatus(sim, experimentId, revision, 'applied', null);
    sim.times ??= { experimentId, assignedAt, appliedAt: epochMs() };
  } else if (message.type === 'withdraw' && sim.running?.experimentId === message.experimentId) {
    const { revision } = sim.running;
    sim.running = null;
    sendStatus(sim, message.experimentId, revision, 'reverted', message.reason.slice(0, 2048));
  }
}

function onAck(sim: Sim, seq: number): void {
  const at = sim.sentAt.get(seq);
  if (at === undefined) return;
  const latency = performance.now() - at;
  latencies.push(latency);
  if (values.samples) samples.push([Math.round((performance.timeOrigin + at) * 10) / 10, Math.round(latency * 100) / 100]);
  sim.sentAt.delete(seq);
  acked += 1;
}

const hostId = (i: number) => `host-${String(i).padStart(5, '0')}`;

async function connect(i: number): Promise<Sim | null> {
  const localAddress = sourceOf(i);
  const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false, ...(localAddress ? { localAddress } : {}) });
  const sim: Sim = { ws, seq: 0, sentAt: new Map(), running: null, last: null, times: null };
  ws.on('message', (data) => {
    if (version === 2) return onHubMessage(sim, data.toString());
    const message = JSON.parse(data.toString()) as { type: string; seq: number };
    if (message.type === 'ack') onAck(sim, message.seq);
  });
  ws.on('error', () => undefined);
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('close', () => reject(new Error('closed')));
    });
  } catch {
    failedConnections += 1;
    return null;
  }
  // Targeting reads the hello: its kind and labels are those the reports say (simulated-report.ts).
  const n = first + i;
  const hello: Hello = {
    type: 'hello', v: version, agentId: `sim-${n}`, hostId: hostId(n), hostKind: n % 3 === 0 ? 'k8s-node' : 'vm',
    labels: { env: n % 4 === 0 ? 'staging' : 'prod', team: `team-${n % 7}` }, agentVersion: 'bench', streamId: `stream-${n}`,
    variants: [{ name: 'baseline', configHash: '0123456789abcdef' }, { name: 'optimized-a', configHash: 'fedcba9876543210' }],
    ...(version === 2 ? { experiments: { accepts: true, reason: null, current: null } } : {}),
  };
  ws.send(JSON.stringify(hello));
  return sim;
}

/** A report as the agent makes it: under an assignment, named after its variants and tagged with the experiment. */
function reportOf(sim: Sim, i: number): AgentReport {
  const report = simulatedReport(first + i, hostId(first + i), sim.seq);
  const running = sim.running;
  if (!running) return report;
  const [a, b] = running.variants as [Running['variants'][0], Running['variants'][0]];
  const [va, vb] = report.variants;
  return {
    ...report,
    variants: [{ ...va, ...a }, { ...vb, ...b }],
    comparison: { ...report.comparison, baseline: a.name, candidate: b.name },
    experiment: { id: running.experimentId, revision: running.revision },
  };
}

const sims: Sim[] = [];
for (let i = 0; i < agents; i += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, agents - i) }, (_, j) => connect(i + j)));
  for (const s of batch) if (s) sims.push(s);
}
process.stderr.write(`connected ${sims.length} agents (protocol ${version})\n`);

// Each agent reports every intervalMs, spread evenly across the interval.
const started = performance.now();
const startedAt = epochMs();
const timers = sims.map((sim, i) =>
  setTimeout(function tick() {
    if (performance.now() - started > durationMs || sim.ws.readyState !== WebSocket.OPEN) return;
    sim.seq += 1;
    const now = new Date().toISOString();
    sim.sentAt.set(sim.seq, performance.now());
    sim.ws.send(JSON.stringify({ type: 'report', v: version, seq: sim.seq, window: { openedAt: now, from: now, to: now }, report: reportOf(sim, i) }));
    sent += 1;
    timers[i] = setTimeout(tick, intervalMs);
  }, (i / sims.length) * intervalMs),
);
// SIGTERM ends the run early, with its results (a test stops it once it has seen what it waits for).
const ended = new AbortController();
process.once('SIGTERM', () => ended.abort());
await delay(durationMs + 2000, undefined, { signal: ended.signal }).catch(() => undefined);
for (const t of timers) clearTimeout(t);
for (const s of sims) s.ws.close();
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? null;
const result: LoadAgentsResult = {
  agents: sims.length, failedConnections, sent, acked, seconds: durationMs / 1000, ackP50: q(50), ackP99: q(99),
  ...(version === 2 ? { protocol: 2, startedAt, unexpected, assignments: sims.map((s) => s.times) } : {}),
  ...(values.samples ? { samples } : {}),
};
// stdout into a pipe is written asynchronously: exit once the whole line (hundreds of KiB with --samples) is out.
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
