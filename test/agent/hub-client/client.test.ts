// The agent's outbox and hub connection, against a real hub on loopback.
import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Outbox } from '../../../agent/hub-client/outbox.js';
import { HubClient } from '../../../agent/hub-client/client.js';
import { Backoff } from '../../../agent/supervisor/backoff.js';
import { silentLogger } from '../../../common/logger.js';
import { TokenSet } from '../../../hub/auth.js';
import { startHub, type Hub } from '../../../hub/server.js';
import { autoPort } from '../../../agent/supervisor/ports.js';
import { sampleReport } from '../../fixtures/report.js';
import { helloFor } from '../../helpers/ws-client.js';
import { captureLogs } from '../../helpers/logs.js';
import { startPausableProxy } from '../../helpers/pausable-proxy.js';
import { waitFor } from '../../helpers/process.js';

const TOKEN = 'client-token-0123456789';
const window = () => {
  const now = new Date().toISOString();
  return { openedAt: now, from: now, to: now };
};

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-client-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

async function hubAt(t: Test, dataDir: string, port = 0): Promise<Hub> {
  const hub = await startHub({ port, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger() });
  t.teardown(() => hub.close());
  return hub;
}

function clientFor(t: Test, url: string, outbox: Outbox, extra: Partial<ConstructorParameters<typeof HubClient>[0]> = {}): HubClient {
  const { type: _t, v: _v, ...hello } = helloFor('agent-1', 'host-a');
  const client = new HubClient({ url, token: TOKEN, hello, outbox, logger: silentLogger(), backoff: new Backoff({ initialMs: 100, maxMs: 500 }), ...extra });
  t.teardown(() => client.close());
  return client;
}

t.test('outbox: ordered, durable across reopening, acknowledged away', async (t) => {
  const dir = await tempDir(t);
  const outbox = new Outbox({ dir, logger: silentLogger() });
  const seqs = [1, 2, 3].map(() => outbox.append(window(), sampleReport('host-a')).seq);
  t.same(seqs, [1, 2, 3]);
  t.same(outbox.pending(0, 10).map((m) => m.seq), [1, 2, 3]);
  t.same(outbox.pending(1, 1).map((m) => m.seq), [2]);
  outbox.ack(2);
  t.same(outbox.pending(0, 10).map((m) => m.seq), [3]);
  const reopened = new Outbox({ dir, logger: silentLogger() });
  t.same(reopened.pending(0, 10).map((m) => m.seq), [3], 'unacknowledged reports survive a restart');
  t.equal(reopened.nextSeq, 4, 'sequence numbers continue');
  reopened.ack(3);
  t.equal(new Outbox({ dir, logger: silentLogger() }).nextSeq, 4, 'the counter survives an empty outbox');
});

t.test('outbox: at its bound the oldest are dropped and counted', async (t) => {
  const dir = await tempDir(t);
  const { logger, lines } = captureLogs('warn');
  const one = JSON.stringify({ type: 'report', v: 1, seq: 1, window: window(), report: sampleReport('host-a') }).length;
  const outbox = new Outbox({ dir, logger, maxBytes: one * 3 + 10 });
  for (let i = 0; i < 5; i++) outbox.append(window(), sampleReport('host-a'));
  t.same(outbox.pending(0, 10).map((m) => m.seq), [3, 4, 5]);
  t.equal(outbox.dropped, 2);
  t.ok(lines.some((l) => l.droppedTotal === 2 && /dropped the oldest/.test(String(l.msg))), 'a warning counts what was dropped');
});

t.test('outbox: a disk that refuses writes keeps reports in memory, logged once', async (t) => {
  const dir = await tempDir(t);
  const blocked = path.join(dir, 'not-a-dir');
  await writeFile(blocked, 'x');
  const { logger, lines } = captureLogs('warn');
  const outbox = new Outbox({ dir: blocked, logger, maxMemoryReports: 3 });
  for (let i = 0; i < 5; i++) outbox.append(window(), sampleReport('host-a'));
  t.same(outbox.pending(0, 10).map((m) => m.seq), [3, 4, 5], 'kept in memory, oldest dropped past the memory bound');
  t.equal(lines.filter((l) => /cannot (read|write) the outbox/.test(String(l.msg))).length, 1, 'one error per episode, not one per report');
});

t.test('client: reports delivered in order and acknowledged', async (t) => {
  const dir = await tempDir(t);
  const hub = await hubAt(t, path.join(dir, 'hub'));
  const outbox = new Outbox({ dir: path.join(dir, 'outbox'), logger: silentLogger() });
  const client = clientFor(t, hub.agentUrl, outbox);
  client.start();
  for (let i = 0; i < 5; i++) {
    outbox.append(window(), sampleReport('host-a'));
    client.notify();
  }
  await waitFor('5 acks', () => client.acknowledged === 5);
  t.equal(outbox.size, 0, 'acknowledged reports leave the outbox');
  t.equal((await hub.store.agents())[0]!.lastSeq, 5);
  t.equal(hub.queue.stored, 5);
});

t.test('client: the hub down for a while — everything made meanwhile arrives, in order, none twice', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const port = await autoPort();
  let hub = await startHub({ port, dataDir: path.join(dir, 'hub'), tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger() });
  const outbox = new Outbox({ dir: path.join(dir, 'outbox'), logger: silentLogger() });
  const client = clientFor(t, hub.agentUrl, outbox);
  client.start();
  outbox.append(window(), sampleReport('host-a'));
  client.notify();
  await waitFor('first ack', () => client.acknowledged === 1);
  await hub.close();
  await waitFor('client notices', () => client.state === 'backoff' || client.state === 'connecting');
  for (let i = 0; i < 20; i++) {
    outbox.append(window(), sampleReport('host-a'));
    client.notify();
  }
  t.equal(outbox.size, 20, 'kept while the hub is down');
  hub = await hubAt(t, path.join(dir, 'hub'), port);
  const seen: number[] = [];
  hub.on('report', (_agent, message) => seen.push(message.seq));
  await waitFor('all delivered', () => client.acknowledged === 21, 30_000);
  t.same(seen, Array.from({ length: 20 }, (_, i) => i + 2), 'each report once, in order');
  t.equal((await hub.store.agents())[0]!.lastSeq, 21);
  t.equal(outbox.size, 0);
});

t.test('client: a refused token is logged as an error and retried with backoff', async (t) => {
  const dir = await tempDir(t);
  const hub = await hubAt(t, path.join(dir, 'hub'));
  const { logger, lines } = captureLogs('warn');
  const outbox = new Outbox({ dir: path.join(dir, 'outbox'), logger: silentLogger() });
  const client = clientFor(t, hub.agentUrl, outbox, { token: 'wrong-token-0123456789', logger });
  client.start();
  await waitFor('refusal logged', () => lines.find((l) => l.code === 4401 && l.level === 50));
  t.pass('unauthorized is an error with its close code');
});

t.test('client: a silent network cut is noticed through ping/pong, and the link comes back', { timeout: 60_000 }, async (t) => {
  const dir = await tempDir(t);
  const hub = await hubAt(t, path.join(dir, 'hub'));
  const proxy = await startPausableProxy(hub.port);
  t.teardown(() => proxy.close());
  const outbox = new Outbox({ dir: path.join(dir, 'outbox'), logger: silentLogger() });
  const client = clientFor(t, `ws://127.0.0.1:${proxy.port}/ws/agent`, outbox, { pingIntervalMs: 300, pongTimeoutMs: 300 });
  client.start();
  await waitFor('connected', () => client.state === 'connected');
  proxy.pause();
  const cutAt = Date.now();
  await waitFor('dead link noticed', () => client.state !== 'connected', 10_000, 20);
  const noticedMs = Date.now() - cutAt;
  t.ok(noticedMs < 2000, `noticed within ${noticedMs} ms (ping 300 ms + pong timeout 300 ms)`);
  proxy.resume();
  outbox.append(window(), sampleReport('host-a'));
  await waitFor('delivered after the path returns', () => client.acknowledged === 1, 20_000);
});

t.test('client: an agent that lost its state (same agent id, new outbox) is not taken for a repeat', async (t) => {
  const dir = await tempDir(t);
  const hub = await hubAt(t, path.join(dir, 'hub'));
  const first = new Outbox({ dir: path.join(dir, 'outbox-1'), logger: silentLogger() });
  const before = clientFor(t, hub.agentUrl, first);
  before.start();
  for (let i = 0; i < 3; i++) first.append(window(), sampleReport('host-a'));
  before.notify();
  await waitFor('3 acks', () => before.acknowledged === 3);
  await before.close();
  t.equal(new Outbox({ dir: path.join(dir, 'outbox-1'), logger: silentLogger() }).streamId, first.streamId, 'the stream id is kept with the outbox');

  const fresh = new Outbox({ dir: path.join(dir, 'outbox-2'), logger: silentLogger() });
  t.not(fresh.streamId, first.streamId, 'a new outbox starts a new stream');
  const after = clientFor(t, hub.agentUrl, fresh);
  after.start();
  fresh.append(window(), sampleReport('host-a'));
  after.notify();
  await waitFor('ack of the new stream', () => after.acknowledged === 1);
  t.equal(hub.queue.stored, 4, 'seq 1 of the new stream was stored');
  t.match((await hub.store.agents())[0], { streamId: fresh.streamId, lastSeq: 1 });
});
