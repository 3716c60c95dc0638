#!/usr/bin/env node
// Load process for the hub bench: N simulated agents on real WebSocket connections, reports accelerated.
// Prints one JSON line of results on stdout when done.
import WebSocket from 'ws';
import { setTimeout as delay } from 'node:timers/promises';
import { PROTOCOL_VERSION } from '../protocol/messages.js';
import { simulatedReport } from './simulated-report.js';

const [url, token, agentsArg, intervalArg, durationArg] = process.argv.slice(2);
const agents = Number(agentsArg);
const intervalMs = Number(intervalArg);
const durationMs = Number(durationArg);

interface Sim {
  ws: WebSocket;
  seq: number;
  sentAt: Map<number, number>;
}

const latencies: number[] = [];
let acked = 0;
let sent = 0;
let failedConnections = 0;

async function connect(i: number): Promise<Sim | null> {
  const ws = new WebSocket(url!, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
  const sim: Sim = { ws, seq: 0, sentAt: new Map() };
  ws.on('message', (data) => {
    const message = JSON.parse(data.toString()) as { type: string; seq: number };
    if (message.type !== 'ack') return;
    const at = sim.sentAt.get(message.seq);
    if (at !== undefined) {
      latencies.push(performance.now() - at);
      sim.sentAt.delete(message.seq);
      acked += 1;
    }
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
  const kind = i % 3 === 0 ? 'k8s-node' : 'vm';
  ws.send(
    JSON.stringify({
      type: 'hello', v: PROTOCOL_VERSION, agentId: `sim-${i}`, hostId: `host-${String(i).padStart(5, '0')}`, hostKind: kind,
      labels: { env: i % 4 === 0 ? 'staging' : 'prod', team: `team-${i % 7}` }, agentVersion: 'bench', streamId: `stream-${i}`,
      variants: [{ name: 'baseline', configHash: '0123456789abcdef' }, { name: 'optimized-a', configHash: 'fedcba9876543210' }],
    }),
  );
  return sim;
}

const sims: Sim[] = [];
for (let i = 0; i < agents; i += 50) {
  const batch = await Promise.all(Array.from({ length: Math.min(50, agents - i) }, (_, j) => connect(i + j)));
  for (const s of batch) if (s) sims.push(s);
}
process.stderr.write(`connected ${sims.length} agents\n`);

// Each agent reports every intervalMs, spread evenly across the interval.
const started = performance.now();
const timers = sims.map((sim, i) =>
  setTimeout(function tick() {
    if (performance.now() - started > durationMs || sim.ws.readyState !== WebSocket.OPEN) return;
    sim.seq += 1;
    const now = new Date().toISOString();
    sim.sentAt.set(sim.seq, performance.now());
    sim.ws.send(JSON.stringify({ type: 'report', v: PROTOCOL_VERSION, seq: sim.seq, window: { openedAt: now, from: now, to: now }, report: simulatedReport(i, `host-${String(i).padStart(5, '0')}`, sim.seq) }));
    sent += 1;
    timers[i] = setTimeout(tick, intervalMs);
  }, (i / sims.length) * intervalMs),
);
await delay(durationMs + 2000);
for (const t of timers) clearTimeout(t);
for (const s of sims) s.ws.close();
latencies.sort((a, b) => a - b);
const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? null;
process.stdout.write(
  `${JSON.stringify({ agents: sims.length, failedConnections, sent, acked, seconds: durationMs / 1000, ackP50: q(50), ackP99: q(99) })}\n`,
);
process.exit(0);
