// Nothing lost, nothing twice: a hub outage under a real agent, and a hub killed with SIGKILL mid-ingest.
import t from 'tap';
import Database from 'better-sqlite3';
import { once } from 'node:events';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { main as agentMain } from '../agent/cli.js';
import { silentLogger } from '../agent/logger.js';
import { HubClient } from '../agent/hub-client/client.js';
import { Outbox } from '../agent/hub-client/outbox.js';
import { Backoff } from '../agent/supervisor/backoff.js';
import { autoPort } from '../agent/supervisor/ports.js';
import { TokenSet } from '../hub/auth.js';
import { startHub } from '../hub/server.js';
import { sampleReport } from './fixtures/report.js';
import { realCollector } from './helpers/collector.js';
import { writeTestConfig } from './helpers/agent-config.js';
import { waitFor } from './helpers/process.js';
import { spawnTs } from './helpers/spawn-ts.js';
import { helloFor } from './helpers/ws-client.js';

const TOKEN = 'durable-token-0123456789';
const HUB_BIN = fileURLToPath(new URL('../hub/bin.ts', import.meta.url));

/** The sequence numbers stored for an agent (side A rows: one per report), read beside the running hub. */
function storedSeqs(dataDir: string): number[] {
  const db = new Database(path.join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], { seq: number }>('SELECT seq FROM samples WHERE side = 0 ORDER BY seq').all().map((r) => r.seq);
  } finally {
    db.close();
  }
}

const contiguous = (seqs: number[]) => seqs.every((s, i) => s === i + 1);

t.test('the hub stopped for two minutes under a real agent: every report made meanwhile arrives, none twice', { timeout: 300_000 }, async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-outage-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await autoPort();
  const tokens = TokenSet.fromTokens([TOKEN]);
  let hub = await startHub({ port, dataDir, tokens, logger: silentLogger() });
  const tokenFile = path.join(dataDir, 'token');
  await writeFile(tokenFile, TOKEN);
  const { file, stateDir } = await writeTestConfig(t, { interval: '3s', host: { id: 'outage-host' }, hub: { url: hub.agentUrl, tokenFile } });
  const stop = new AbortController();
  const agent = agentMain(['run', '--config', file, '--otelcol', realCollector()], {
    stdout: new PassThrough(), stderr: new PassThrough(), env: process.env, shutdown: stop.signal, logger: silentLogger(),
  });
  t.teardown(async () => {
    stop.abort();
    await agent;
    await hub.close();
  });
  const produced = async () => Number((await readFile(path.join(stateDir, 'outbox', 'next-seq'), 'utf8')).trim()) - 1;

  await waitFor('first reports stored', () => hub.store.agents()[0]?.lastSeq >= 2, 60_000, 200);
  await hub.close();
  const downAt = await produced();
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  const madeWhileDown = (await produced()) - downAt;
  t.ok(madeWhileDown >= 30, `${madeWhileDown} reports made while the hub was down`);
  t.ok((await readdir(path.join(stateDir, 'outbox'))).filter((f) => f.endsWith('.json')).length >= madeWhileDown, 'kept in the outbox');

  hub = await startHub({ port, dataDir, tokens, logger: silentLogger() });
  const target = await produced();
  await waitFor('backlog delivered', () => hub.store.agents()[0]!.lastSeq >= target, 60_000, 200);
  const seqs = storedSeqs(dataDir);
  t.ok(contiguous(seqs), `stored sequence numbers are 1..${seqs.length} with no gap and no repeat`);
  t.ok(seqs.length >= target, `${seqs.length} stored >= ${target} produced by then`);
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
