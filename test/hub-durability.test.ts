// Nothing lost, nothing twice: a hub outage long enough to fill the agent's outbox, and a hub killed with SIGKILL
// mid-ingest. (The two-minute outage is in hub-outage.test.ts.)
import t from 'tap';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { silentLogger } from '../common/logger.js';
import { HubClient } from '../agent/hub-client/client.js';
import { Outbox } from '../agent/hub-client/outbox.js';
import { Backoff } from '../agent/supervisor/backoff.js';
import { autoPort } from '../agent/supervisor/ports.js';
import { captureLogs } from './helpers/logs.js';
import { sampleReport } from './fixtures/report.js';
import { contiguous, outageRig, storedSeqs, TOKEN } from './helpers/outage.js';
import { waitFor } from './helpers/process.js';
import { spawnTs } from './helpers/spawn-ts.js';
import { helloFor } from './helpers/ws-client.js';

const HUB_BIN = fileURLToPath(new URL('../hub/bin.ts', import.meta.url));

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
