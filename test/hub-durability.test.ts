// Nothing lost, nothing twice: a hub outage under a real agent, and a hub killed with SIGKILL mid-ingest.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main as agentMain } from '../agent/cli.js';
import { silentLogger, type Logger } from '../agent/logger.js';
import { HubClient } from '../agent/hub-client/client.js';
import { Outbox } from '../agent/hub-client/outbox.js';
import { Backoff } from '../agent/supervisor/backoff.js';
import { autoPort } from '../agent/supervisor/ports.js';
import { TokenSet } from '../hub/auth.js';
import { startHub, type Hub } from '../hub/server.js';
import { captureLogs } from './helpers/logs.js';
import { sampleReport } from './fixtures/report.js';
import { realCollector } from './helpers/collector.js';
import { writeTestConfig } from './helpers/agent-config.js';
import { waitFor } from './helpers/process.js';
import { spawnTs } from './helpers/spawn-ts.js';
import { helloFor } from './helpers/ws-client.js';

const TOKEN = 'durable-token-0123456789';
const HUB_BIN = fileURLToPath(new URL('../hub/bin.ts', import.meta.url));

/** The sequence numbers stored for an agent (side A rows: one per report), read beside the running hub. */
function storedSeqs(dataDir: string, order: 'seq' | 'ts' = 'seq'): number[] {
  const db = new Database(path.join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], { seq: number }>(`SELECT seq FROM samples WHERE side = 0 ORDER BY ${order}`).all().map((r) => r.seq);
  } finally {
    db.close();
  }
}

const contiguous = (seqs: number[]) => seqs.every((s, i) => s === i + 1);

/**
 * A real agent (in-process, real collectors) reporting to a real hub on a fixed port, which the test stops and
 * starts again. `produced()` is how many reports the agent has made (its outbox's sequence counter).
 */
async function outageRig(t: Test, options: { interval: string; hub?: Record<string, unknown>; logger?: Logger }) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-outage-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await autoPort();
  const tokens = TokenSet.fromTokens([TOKEN]);
  let hub: Hub | null = await startHub({ port, dataDir, tokens, logger: silentLogger() });
  const tokenFile = path.join(dataDir, 'token');
  await writeFile(tokenFile, TOKEN);
  const { file, stateDir } = await writeTestConfig(t, { interval: options.interval, host: { id: 'outage-host' }, hub: { url: hub.agentUrl, tokenFile, ...options.hub } });
  const stop = new AbortController();
  const agent = agentMain(['run', '--config', file, '--otelcol', realCollector()], {
    stdout: new PassThrough(), stderr: new PassThrough(), env: process.env, shutdown: stop.signal, logger: options.logger ?? silentLogger(),
  });
  t.teardown(async () => {
    stop.abort();
    await agent;
    await hub?.close();
  });
  const lastSeq = () => hub?.store.agents()[0]?.lastSeq ?? 0;
  return {
    dataDir,
    stateDir,
    lastSeq,
    produced: async () => Number((await readFile(path.join(stateDir, 'outbox', 'next-seq'), 'utf8')).trim()) - 1,
    stopHub: async () => {
      await hub!.close();
      hub = null;
    },
    startHub: async () => {
      hub = await startHub({ port, dataDir, tokens, logger: silentLogger() });
    },
    delivered: (target: number) => waitFor(`reports up to ${target} delivered`, () => lastSeq() >= target, 60_000, 200),
  };
}

t.test('the hub stopped for two minutes under a real agent: every report made meanwhile arrives, none twice', { timeout: 300_000 }, async (t) => {
  const rig = await outageRig(t, { interval: '3s' });
  await waitFor('first reports stored', () => rig.lastSeq() >= 2, 60_000, 200);
  await rig.stopHub();
  const downAt = await rig.produced();
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  const madeWhileDown = (await rig.produced()) - downAt;
  t.ok(madeWhileDown >= 30, `${madeWhileDown} reports made while the hub was down`);
  t.ok((await readdir(path.join(rig.stateDir, 'outbox'))).filter((f) => f.endsWith('.json')).length >= madeWhileDown, 'kept in the outbox');

  await rig.startHub();
  const target = await rig.produced();
  await rig.delivered(target);
  const seqs = storedSeqs(rig.dataDir);
  t.ok(contiguous(seqs), `stored sequence numbers are 1..${seqs.length} with no gap and no repeat`);
  t.ok(seqs.length >= target, `${seqs.length} stored >= ${target} produced by then`);
});

t.test('the hub down for ten minutes of reports (40 at 1 s), the outbox at its bound: oldest dropped and counted, the rest in order, none twice', { timeout: 300_000 }, async (t) => {
  const logs = captureLogs('warn');
  // 64 KiB, the smallest bound allowed, holds a dozen or so reports: most of the 40 must be dropped.
  const rig = await outageRig(t, { interval: '1s', hub: { outboxMaxBytes: 64 * 1024 }, logger: logs.logger });
  await waitFor('first reports stored', () => rig.lastSeq() >= 2, 60_000, 100);
  await rig.stopHub();
  const downAt = await rig.produced();
  const started = Date.now();
  await waitFor('40 reports made while the hub is down', async () => (await rig.produced()) - downAt >= 40, 120_000, 200);
  const outboxBytes = (await Promise.all((await readdir(path.join(rig.stateDir, 'outbox'))).filter((f) => f.endsWith('.json')).map((f) => stat(path.join(rig.stateDir, 'outbox', f))))).reduce((n, s) => n + s.size, 0);
  t.ok(outboxBytes <= 64 * 1024, `the outbox holds ${outboxBytes} bytes, within its 65536-byte bound`);
  const warnings = logs.lines.filter((l) => /dropped the oldest reports/.test(String(l.msg)));
  const droppedWhileDown = warnings.reduce((a, l) => a + Number(l.dropped), 0);
  t.ok(droppedWhileDown >= 10, `${droppedWhileDown} reports dropped over ${Math.round((Date.now() - started) / 1000)} s down, each counted in a warning (droppedTotal ${String(warnings.at(-1)?.droppedTotal)})`);

  await rig.startHub();
  const back = Date.now();
  const lastBefore = rig.lastSeq();
  await waitFor('the agent reconnects', () => rig.lastSeq() > lastBefore, 90_000, 100);
  const reconnectS = (Date.now() - back) / 1000;
  // Until it reconnects (its backoff reached up to 32 s over the outage) reports go on being made and dropped.
  await waitFor('the outbox drained', async () => rig.lastSeq() >= (await rig.produced()) - 1, 60_000, 200);
  const last = rig.lastSeq();
  const dropped = logs.lines.filter((l) => /dropped the oldest reports/.test(String(l.msg))).reduce((a, l) => a + Number(l.dropped), 0);
  const seqs = storedSeqs(rig.dataDir);
  const stored = new Set(seqs);
  t.equal(stored.size, seqs.length, 'none stored twice');
  const missing = Array.from({ length: last }, (_, i) => i + 1).filter((seq) => !stored.has(seq));
  t.equal(missing.length, dropped, `the ${missing.length} missing sequence numbers of 1..${last} are exactly the ${dropped} dropped (reconnected ${reconnectS.toFixed(1)} s after the hub came back)`);
  t.ok(missing.every((seq, i) => seq === missing[0]! + i), `and the oldest ones: one block, ${missing[0]}..${missing.at(-1)}, right after what was delivered before the outage`);
  t.ok(missing[0]! > 2 && missing.at(-1)! < last, 'reports before and after the block all arrived');
  const arrival = storedSeqs(rig.dataDir, 'ts');
  t.ok(arrival.every((seq, i) => i === 0 || seq > arrival[i - 1]!), 'stored in sequence order (report times follow the sequence)');
});

t.test('the hub killed with SIGKILL mid-ingest: acknowledged reports are all there, the rest are resent', { timeout: 180_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-kill-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN}\n`);
  const port = await autoPort();
  const hubs: ReturnType<typeof spawnTs>[] = [];
  const startChild = async () => {
    const child = spawnTs(HUB_BIN, ['--port', String(port), '--data-dir', dataDir, '--token-file', tokens, '--log-level', 'warn']);
    child.stdout!.resume();
    child.stderr!.resume();
    hubs.push(child);
    await waitFor('hub ready', async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => null))?.ok, 30_000, 100);
    return child;
  };
  t.teardown(async () => {
    for (const c of hubs) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  const first = await startChild();

  const outbox = new Outbox({ dir: path.join(dir, 'outbox'), logger: silentLogger() });
  const { type: _t, v: _v, ...hello } = helloFor('kill-agent', 'kill-host');
  const client = new HubClient({
    url: `ws://127.0.0.1:${port}/ws/agent`, token: TOKEN, hello, outbox, logger: silentLogger(), maxInFlight: 8,
    backoff: new Backoff({ initialMs: 100, maxMs: 500 }),
  });
  t.teardown(() => client.close());
  const TOTAL = 400;
  const now = new Date().toISOString();
  for (let i = 0; i < TOTAL; i++) outbox.append({ openedAt: now, from: now, to: now }, sampleReport('kill-host'));
  client.start();
  await waitFor('ingest under way', () => client.acknowledged >= 50, 30_000, 5);
  first.kill('SIGKILL');
  await once(first, 'exit');
  const ackedAtKill = client.acknowledged;
  t.ok(ackedAtKill < TOTAL, `killed mid-ingest (${ackedAtKill} of ${TOTAL} acknowledged)`);

  const afterKill = storedSeqs(dataDir);
  t.ok(afterKill.length >= ackedAtKill, `all ${ackedAtKill} acknowledged reports survived (store holds ${afterKill.length})`);
  t.ok(contiguous(afterKill), 'with no gap');

  await startChild();
  await waitFor('everything delivered after restart', () => client.acknowledged === TOTAL, 60_000, 50);
  const all = storedSeqs(dataDir);
  t.equal(all.length, TOTAL, 'every report stored');
  t.ok(contiguous(all), 'each exactly once, in order');
  t.equal(outbox.size, 0);
});
