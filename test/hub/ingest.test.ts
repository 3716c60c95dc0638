// The hub's agent WebSocket: authentication, validation, limits, durable acknowledgement, deduplication.
import t, { type Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { once } from 'node:events';
import { connect } from 'node:net';
import { closeReason } from '../../hub/agent-connection.js';
import { openSqliteStore } from '../../hub/store/sqlite.js';
import { asyncStore } from '../../hub/store/async-store.js';
import type { Store } from '../../hub/store/types.js';
import { TokenSet, parseTokens, bearerToken } from '../../hub/auth.js';
import { startHub, type Hub } from '../../hub/server.js';
import { silentLogger } from '../../common/logger.js';
import { parseAgentMessage } from '../../protocol/messages.js';
import { helloFor, openSocket, reportFor } from '../helpers/ws-client.js';
import { apiToken } from '../helpers/hub-api.js';
import { captureLogs } from '../helpers/logs.js';
import { waitFor } from '../helpers/process.js';
import { documentedCloseCodes } from '../helpers/protocol-doc.js';
import { notOnce, rowsPerSeq } from '../helpers/stored-rows.js';

const TOKEN = 'test-token-0123456789';
// Close codes are written as the numbers docs/protocol.md promises, not taken from the code's own table.
const DOCUMENTED = documentedCloseCodes();

async function hubFor(t: Test, extra: Partial<Parameters<typeof startHub>[0]> = {}): Promise<Hub & { dataDir: string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), ...extra });
  t.teardown(async () => {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  return Object.assign(hub, { dataDir });
}

t.test('tokens: file format, bearer header', async (t) => {
  t.same(parseTokens('# comment\n\nabcdefghijklmnop\n  qrstuvwxyz0123456  \n', 'f'), ['abcdefghijklmnop', 'qrstuvwxyz0123456']);
  t.throws(() => parseTokens('short\n', 'tokens.txt'), /tokens\.txt:1: a token must be at least 16 characters/);
  t.throws(() => parseTokens('# only comments\n', 'tokens.txt'), /tokens\.txt: no tokens/);
  t.equal(bearerToken('Bearer abc'), 'abc');
  t.equal(bearerToken('bearer  abc '), 'abc');
  t.equal(bearerToken('Basic abc'), undefined);
  t.equal(bearerToken(undefined), undefined);
  const set = TokenSet.fromTokens([TOKEN]);
  t.ok(set.verify(TOKEN));
  t.notOk(set.verify(`${TOKEN}x`));
  t.notOk(set.verify(''));
});

t.test('an honest agent: hello, report, ack after storing; duplicates acknowledged, stored once', async (t) => {
  const hub = await hubFor(t);
  const s = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => s.ws.close());
  s.ws.send(JSON.stringify(helloFor('agent-1', 'web-1')));
  for (const seq of [1, 2, 2, 1, 3]) s.ws.send(JSON.stringify(reportFor('web-1', seq)));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === 3);
  t.same(s.messages.map((m) => m.seq), [1, 2, 2, 1, 3], 'every report acknowledged, in order');
  t.equal(hub.queue.stored, 3);
  t.equal(hub.queue.duplicates, 2);
  t.equal((await hub.store.agents())[0]!.lastSeq, 3);
  const rows = rowsPerSeq(hub.dataDir, 'agent-1');
  t.same([rows.map((r) => r.seq), notOnce(rows)], [[1, 2, 3], []], 'the store holds 1, 2 and 3, each one row per side (counted with SQL)');
  t.ok(hub.connections.has('agent-1'));
});

t.test('refusals, each with its close code; honest agents carry on', async (t) => {
  const hub = await hubFor(t, { helloTimeoutMs: 300, rateBurst: 50, ratePerSecond: 10 });
  const honest = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => honest.ws.close());
  honest.ws.send(JSON.stringify(helloFor('honest', 'db-1')));

  const expectClose = async (name: string, code: number, token: string | undefined, send: (ws: import('ws').WebSocket) => void) => {
    const s = await openSocket(hub.agentUrl, token);
    send(s.ws);
    const closed = await s.closed;
    t.equal(closed.code, code, `${name}: close code ${code} (${closed.reason})`);
    t.ok(DOCUMENTED.has(code), `${code} is in docs/protocol.md's refusals: ${DOCUMENTED.get(code)}`);
  };
  await expectClose('no token', 4401, undefined, () => undefined);
  await expectClose('wrong token', 4401, 'wrong-token-0123456789', () => undefined);
  await expectClose('not JSON', 4400, TOKEN, (ws) => ws.send('{nope'));
  await expectClose('not an object', 4400, TOKEN, (ws) => ws.send('[1,2]'));
  // Nested 100,000 deep (200 KB): describing the bad version must not stringify it (that threw RangeError and took the hub down).
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  await expectClose('a version nested 100,000 deep', 4426, TOKEN, (ws) => ws.send(`{"type":"hello","v":${deep}}`));
  await expectClose('a type nested 100,000 deep', 4409, TOKEN, (ws) => ws.send(`{"v":1,"type":${deep}}`));
  await expectClose('labels nested 100,000 deep', 4400, TOKEN, (ws) => ws.send(JSON.stringify({ ...helloFor('x', 'h'), labels: 0 }).replace('"labels":0', `"labels":${deep}`)));
  await expectClose('wrong version', 4426, TOKEN, (ws) => ws.send(JSON.stringify({ ...helloFor('x', 'h'), v: 3 })));
  await expectClose('unknown type', 4409, TOKEN, (ws) => ws.send(JSON.stringify({ type: 'gossip', v: 1 })));
  await expectClose('report before hello', 4409, TOKEN, (ws) => ws.send(JSON.stringify(reportFor('h', 1))));
  await expectClose('invalid hello', 4400, TOKEN, (ws) => ws.send(JSON.stringify({ ...helloFor('x', 'h'), hostKind: 'laptop' })));
  await expectClose('binary frame', 4400, TOKEN, (ws) => ws.send(Buffer.from([1, 2, 3])));
  await expectClose('second hello', 4409, TOKEN, (ws) => {
    ws.send(JSON.stringify(helloFor('y', 'h')));
    ws.send(JSON.stringify(helloFor('y', 'h')));
  });
  await expectClose('report for another host', 4400, TOKEN, (ws) => {
    ws.send(JSON.stringify(helloFor('z', 'host-z')));
    ws.send(JSON.stringify(reportFor('someone-else', 1)));
  });
  await expectClose('message over 1 MiB', 1009, TOKEN, (ws) => ws.send('x'.repeat(2 * 1024 * 1024)));
  await expectClose('no hello in time', 4408, TOKEN, () => undefined);
  await expectClose('a flood', 4429, TOKEN, (ws) => {
    ws.send(JSON.stringify(helloFor('flood', 'h-flood')));
    for (let i = 1; i <= 200; i++) ws.send(JSON.stringify(reportFor('h-flood', i)));
  });

  honest.ws.send(JSON.stringify(reportFor('db-1', 1)));
  await honest.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  t.pass('the honest agent is still served');
});

t.test('a client that never reads its acks: closed with 4413 once 1 MiB is queued for it; an honest agent carries on', { timeout: 120_000 }, async (t) => {
  const logs = captureLogs('warn');
  // Rate limits out of the way, so the client can send fast enough to fill the kernel's buffers and then the hub's;
  // heartbeats too: a paused socket answers no ping, and on a loaded machine filling the buffers can outlast the two
  // default heartbeats (30 s) after which the hub lets a silent connection go for that reason instead.
  const hub = await hubFor(t, { logger: logs.logger, ratePerSecond: 1e6, rateBurst: 1e6, heartbeatMs: 600_000 });
  const honest = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => honest.ws.close());
  honest.ws.send(JSON.stringify(helloFor('honest', 'db-1')));

  const slow = await openSocket(hub.agentUrl, TOKEN, { perMessageDeflate: false });
  t.teardown(() => slow.ws.terminate());
  slow.ws.send(JSON.stringify(helloFor('slow', 'slow-1')));
  slow.ws.send(JSON.stringify(reportFor('slow-1', 1)));
  await slow.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  // From here on it reads nothing: its socket is paused, so acks stay in the kernel, then in the hub.
  (slow.ws as unknown as { _socket: import('node:net').Socket })._socket.pause();
  const duplicate = JSON.stringify(reportFor('slow-1', 1)); // acknowledged each time, stored once
  let sent = 0;
  let honestSeq = 0;
  const started = Date.now();
  const refusal = () => logs.lines.find((l) => l.closeCode === 4413);
  while (!refusal() && slow.ws.readyState === slow.ws.OPEN && Date.now() - started < 90_000) {
    for (let i = 0; i < 200; i++) slow.ws.send(duplicate);
    sent += 200;
    if (sent % 20_000 === 0) {
      honest.ws.send(JSON.stringify(reportFor('db-1', ++honestSeq)));
      await honest.waitForMessage((m) => m.type === 'ack' && m.seq === honestSeq);
    }
    while (slow.ws.bufferedAmount > 256 * 1024) await delay(1);
    await delay(0);
  }
  const line = refusal();
  t.ok(line, `refused after ${sent} acknowledgements were due, in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  t.ok(Number(line?.buffered) > 1024 * 1024 && Number(line?.buffered) < 1024 * 1024 + 1024, `${line?.buffered} bytes queued in the hub when it gave up (bound 1 MiB)`);
  await waitFor('the slow connection is gone', () => !hub.connections.has('slow'), 10_000, 50);
  t.ok(honestSeq > 0, `the honest agent had ${honestSeq} reports acknowledged meanwhile`);
  honest.ws.send(JSON.stringify(reportFor('db-1', ++honestSeq)));
  await honest.waitForMessage((m) => m.type === 'ack' && m.seq === honestSeq);
  t.pass('and is acknowledged after');
  t.equal((await hub.store.agents()).find((a) => a.agentId === 'slow')?.lastSeq, 1, 'the duplicates were stored once');
  const rows = rowsPerSeq(hub.dataDir, 'slow');
  t.same([rows.map((r) => r.seq), notOnce(rows)], [[1], []], 'the store holds report 1 once: one row per side (counted with SQL)');
  // Every ack queued in the hub answered a report it had already counted as a repeat (ack frames: 2-byte header).
  const ackFrame = Buffer.byteLength(JSON.stringify({ type: 'ack', v: 1, seq: 1 })) + 2;
  const queuedAcks = Math.floor(Number(line?.buffered) / ackFrame);
  t.ok(hub.queue.duplicates >= queuedAcks, `${hub.queue.duplicates} repeats dropped (at least the ${queuedAcks} acks queued at the cut)`);
});

t.test('a newer connection for the same agent replaces the older one', async (t) => {
  const hub = await hubFor(t);
  const first = await openSocket(hub.agentUrl, TOKEN);
  first.ws.send(JSON.stringify(helloFor('same', 'h1')));
  await delay(100);
  const second = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => second.ws.close());
  second.ws.send(JSON.stringify(helloFor('same', 'h1')));
  t.equal((await first.closed).code, 4410);
});

t.test('HTTP: health, readiness, JSON 404', async (t) => {
  const hub = await hubFor(t);
  const health = await fetch(`${hub.url}/healthz`);
  t.equal(health.status, 200);
  t.same(await health.json(), { status: 'ok' });
  const ready = await fetch(`${hub.url}/readyz`);
  t.equal(ready.status, 200);
  const missing = await fetch(`${hub.url}/nope`);
  t.equal(missing.status, 404);
  t.same(await missing.json(), { error: 'not_found', message: 'no such path: /nope' });
  t.equal(missing.headers.get('x-content-type-options'), 'nosniff');
});

t.test('acknowledged reports survive a restart; the token file rotates without a restart', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const tokenFile = path.join(dataDir, 'tokens');
  const oldToken = 'old-token-0123456789';
  const newToken = 'new-token-0123456789';
  await writeFile(tokenFile, `${oldToken}\n`);
  let hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromFile(tokenFile), logger: silentLogger() });
  const s = await openSocket(hub.agentUrl, oldToken);
  s.ws.send(JSON.stringify(helloFor('a', 'h')));
  s.ws.send(JSON.stringify(reportFor('h', 1)));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === 1);

  await writeFile(tokenFile, `${oldToken}\n${newToken}\n`);
  await delay(1100);
  const both = await openSocket(hub.agentUrl, newToken);
  both.ws.send(JSON.stringify(helloFor('b', 'h2')));
  both.ws.send(JSON.stringify(reportFor('h2', 1)));
  await both.waitForMessage((m) => m.type === 'ack');
  t.pass('new token accepted while the old one still works');
  both.ws.close();
  await writeFile(tokenFile, `# rotated\n${newToken}\n`);
  await delay(1100);
  const old = await openSocket(hub.agentUrl, oldToken);
  t.equal((await old.closed).code, 4401, 'the removed token is refused');
  s.ws.close();
  await hub.close();

  hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromFile(tokenFile), logger: silentLogger() });
  t.teardown(() => hub.close());
  t.same((await hub.store.agents()).map((a) => [a.agentId, a.lastSeq]), [['a', 1], ['b', 1]]);
  t.equal((await hub.store.latest('a'))!.report.host.id, 'h');
});

t.test('message validation never throws on garbage', async (t) => {
  for (const input of ['', 'null', '1', '"x"', '{}', '{"v":1}', '{"type":"report","v":1}', '{"type":"hello","v":1,"agentId":"../../x"}', '\u0000'.repeat(10)]) {
    const result = parseAgentMessage(input);
    t.notOk(result.ok, JSON.stringify(input));
  }
});

/** Sends raw bytes and returns the first line of the hub's answer. */
async function rawRequest(port: number, text: string): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  socket.write(text);
  let answer = '';
  socket.on('data', (chunk) => (answer += chunk.toString()));
  await Promise.race([once(socket, 'close'), delay(3000)]);
  socket.destroy();
  return answer.split('\r\n')[0] ?? '';
}

t.test('hostile request targets get a 400, on HTTP and on upgrade; the hub carries on', async (t) => {
  const hub = await hubFor(t);
  t.equal(await rawRequest(hub.port, 'GET //a:b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'), 'HTTP/1.1 400 Bad Request');
  const upgrade = 'GET //a:b HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n';
  t.equal(await rawRequest(hub.port, upgrade), 'HTTP/1.1 400 Bad Request');
  t.equal((await fetch(`${hub.url}/healthz`)).status, 200, 'still serving');
});

t.test('close reasons stay within 123 bytes, cut between characters', async (t) => {
  t.equal(closeReason('short'), 'short');
  const cut = closeReason('€'.repeat(100));
  t.ok(Buffer.byteLength(cut) <= 123 && cut.endsWith('...') && !cut.includes('\uFFFD'), `${Buffer.byteLength(cut)} bytes`);
  const hub = await hubFor(t);
  const s = await openSocket(hub.agentUrl, TOKEN);
  s.ws.send(JSON.stringify(helloFor('multi', 'h')));
  s.ws.send(JSON.stringify(reportFor('€'.repeat(60), 1)));
  const closed = await s.closed;
  t.equal(closed.code, 4400, 'a report for another host is refused');
  t.ok(Buffer.byteLength(closed.reason) <= 123, `reason: ${closed.reason}`);
  t.equal((await fetch(`${hub.url}/healthz`)).status, 200, 'the hub is still up');
});

t.test('a storage failure closes the connection (1011) and acknowledges nothing after it; the resend is stored', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const real = asyncStore(openSqliteStore({ file: path.join(dataDir, 'hub.db') }));
  let failing = false;
  const store: Store = {
    ...real,
    storeReports: async (items) => {
      if (failing) throw Object.assign(new Error('disk I/O error'), { code: 'SQLITE_IOERR' });
      return real.storeReports(items);
    },
  };
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), store });
  t.teardown(() => hub.close());
  const s = await openSocket(hub.agentUrl, TOKEN);
  s.ws.send(JSON.stringify(helloFor('agent-s', 'host-s')));
  s.ws.send(JSON.stringify(reportFor('host-s', 1)));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  failing = true;
  s.ws.send(JSON.stringify(reportFor('host-s', 2)));
  const error = await s.waitForMessage((m) => m.type === 'error');
  t.match(error, { code: 'storage', message: /report 2 not stored/ });
  failing = false;
  s.ws.send(JSON.stringify(reportFor('host-s', 3)));
  t.equal((await s.closed).code, 1011, 'closed with 1011');
  t.notOk(s.messages.some((m) => m.type === 'ack' && (m.seq === 2 || m.seq === 3)), 'neither the failed report nor a later one was acknowledged');

  const again = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => again.ws.close());
  again.ws.send(JSON.stringify(helloFor('agent-s', 'host-s')));
  for (const seq of [2, 3]) again.ws.send(JSON.stringify(reportFor('host-s', seq)));
  await again.waitForMessage((m) => m.type === 'ack' && m.seq === 3);
  t.equal((await hub.store.agents())[0]!.lastSeq, 3, 'the resent reports are stored');
  const rows = rowsPerSeq(dataDir, 'agent-s');
  t.same([rows.map((r) => r.seq), notOnce(rows)], [[1, 2, 3], []], 'the store holds 1, 2 and 3, each one row per side (counted with SQL)');
  t.equal(hub.queue.stored, 3, 'each stored once: 1 before the failure, 2 and 3 from the resend');
});

t.test('while the hello is being stored, what follows it waits and is handled in order; a hello the store fails is 1011', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const real = asyncStore(openSqliteStore({ file: path.join(dataDir, 'hub.db') }));
  let helloDelayMs = 300;
  let helloFails = false;
  const store: Store = {
    ...real,
    upsertAgent: async (hello, now) => {
      await delay(helloDelayMs);
      if (helloFails) throw Object.assign(new Error('the database is gone'), { code: 'ECONNRESET' });
      return real.upsertAgent(hello, now);
    },
  };
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), store });
  t.teardown(() => hub.close());
  const s = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => s.ws.close());
  s.ws.send(JSON.stringify(helloFor('agent-w', 'host-w')));
  for (const seq of [1, 2, 3]) s.ws.send(JSON.stringify(reportFor('host-w', seq)));
  await s.waitForMessage((m) => m.type === 'ack' && m.seq === 3);
  t.same(s.messages.filter((m) => m.type === 'ack').map((m) => m.seq), [1, 2, 3], 'every report after the slow hello acknowledged, in order');
  t.notOk(s.messages.some((m) => m.type === 'error'), 'none refused as sent before the hello');
  t.equal((await hub.store.agents())[0]!.lastSeq, 3);

  helloDelayMs = 0;
  helloFails = true;
  const failed = await openSocket(hub.agentUrl, TOKEN);
  failed.ws.send(JSON.stringify(helloFor('agent-x', 'host-x')));
  failed.ws.send(JSON.stringify(reportFor('host-x', 1)));
  t.match(await failed.waitForMessage((m) => m.type === 'error'), { code: 'storage', message: /cannot store data right now/ });
  t.equal((await failed.closed).code, 1011, 'closed with 1011; the agent tries again later');
  t.notOk(failed.messages.some((m) => m.type === 'ack'), 'nothing acknowledged');
});

t.test('a new stream id (the agent lost its state) starts the agent sequence again', async (t) => {
  const hub = await hubFor(t);
  const first = await openSocket(hub.agentUrl, TOKEN);
  first.ws.send(JSON.stringify(helloFor('k8s-node-1', 'node-1')));
  for (const seq of [1, 2, 3]) first.ws.send(JSON.stringify(reportFor('node-1', seq)));
  await first.waitForMessage((m) => m.type === 'ack' && m.seq === 3);
  first.ws.close();
  await first.closed;
  const second = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => second.ws.close());
  second.ws.send(JSON.stringify({ ...helloFor('k8s-node-1', 'node-1'), streamId: 'fresh-stream-1' }));
  second.ws.send(JSON.stringify(reportFor('node-1', 1)));
  await second.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  t.equal(hub.queue.stored, 4, 'report 1 of the new stream is stored, not taken for a duplicate');
  t.match((await hub.store.agents())[0], { streamId: 'fresh-stream-1', lastSeq: 1 });
});

t.test('too many connections waiting for hello: the extra one is closed with 1013; others carry on', async (t) => {
  const hub = await hubFor(t, { maxPendingAgents: 3 });
  const honest = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => honest.ws.close());
  honest.ws.send(JSON.stringify(helloFor('honest', 'h-honest')));
  honest.ws.send(JSON.stringify(reportFor('h-honest', 1)));
  await honest.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  const idle = await Promise.all([1, 2, 3].map(() => openSocket(hub.agentUrl, TOKEN)));
  t.teardown(() => idle.forEach((s) => s.ws.close()));
  const extra = await openSocket(hub.agentUrl, TOKEN);
  t.equal((await extra.closed).code, 1013, 'the fourth waiting connection is refused');
  idle[0]!.ws.send(JSON.stringify(helloFor('late', 'h-late')));
  await delay(100);
  const next = await openSocket(hub.agentUrl, TOKEN);
  t.teardown(() => next.ws.close());
  next.ws.send(JSON.stringify(helloFor('next', 'h-next')));
  next.ws.send(JSON.stringify(reportFor('h-next', 1)));
  await next.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  t.pass('once one said hello, a new connection is let in');
  honest.ws.send(JSON.stringify(reportFor('h-honest', 2)));
  await honest.waitForMessage((m) => m.type === 'ack' && m.seq === 2);
  t.pass('the honest agent was never disturbed');
});

t.test('a token removed from the file ends the connections using it at the next heartbeat', async (t) => {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const tokenFile = path.join(dataDir, 'tokens');
  const kept = 'kept-token-0123456789';
  const revoked = 'revoked-token-0123456789';
  await writeFile(tokenFile, `${kept}\n${revoked}\n`);
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromFile(tokenFile), logger: silentLogger(), heartbeatMs: 300 });
  t.teardown(() => hub.close());
  const staying = await openSocket(hub.agentUrl, kept);
  const leaving = await openSocket(hub.agentUrl, revoked);
  t.teardown(() => staying.ws.close());
  staying.ws.send(JSON.stringify(helloFor('stay', 'h1')));
  leaving.ws.send(JSON.stringify(helloFor('leave', 'h2')));
  await writeFile(tokenFile, `${kept}\n`);
  const closed = await leaving.closed;
  t.same([closed.code, closed.reason], [4401, 'unauthorized: token revoked']);
  staying.ws.send(JSON.stringify(reportFor('h1', 1)));
  await staying.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
  t.pass('the agent with the kept token carries on');
});

t.test('silent agents are pinged once a heartbeat, in slices a second apart (not all in one turn of the event loop)', async (t) => {
  const hub = await hubFor(t, { heartbeatMs: 3000 });
  const pings = new Map<number, number[]>();
  const started = Date.now();
  for (let i = 0; i < 6; i++) {
    const socket = await openSocket(hub.agentUrl, TOKEN);
    t.teardown(() => socket.ws.terminate());
    socket.ws.send(JSON.stringify(helloFor(`pinged-${i}`, `host-${i}`)));
    await waitFor(`agent ${i} connected`, () => hub.connections.has(`pinged-${i}`));
    pings.set(i, []);
    socket.ws.on('ping', () => pings.get(i)!.push(Date.now() - started));
  }
  // Their hellos count as heard from at the first check: the pings start at the second.
  await delay(10_500);
  for (const [i, times] of pings) {
    t.ok(times.length >= 2, `agent ${i} pinged at ${times.join(', ')} ms`);
    const gaps = times.slice(1).map((x, k) => x - times[k]!);
    t.ok(gaps.every((g) => g > 2500 && g < 3500), `agent ${i}: pinged every ~3 s (gaps ${gaps.join(', ')} ms)`);
  }
  const seconds = new Set([...pings.values()].map((times) => Math.floor((times[0]! - (Math.min(...[...pings.values()].map((x) => x[0]!)))) / 1000 + 0.5)));
  t.equal(seconds.size, 3, 'the six agents\' first pings fall in three slices a second apart');
  t.equal(hub.connections.size, 6, 'every agent answered and is still connected');
});

t.test('an agent that reports is not pinged; a silent one that does not answer pings is dropped', async (t) => {
  const hub = await hubFor(t, { heartbeatMs: 300 });
  const reporting = await openSocket(hub.agentUrl, TOKEN);
  const mute = await openSocket(hub.agentUrl, TOKEN, { autoPong: false });
  t.teardown(() => reporting.ws.terminate());
  t.teardown(() => mute.ws.terminate());
  let pingsToReporting = 0;
  let pingsToMute = 0;
  reporting.ws.on('ping', () => (pingsToReporting += 1));
  mute.ws.on('ping', () => (pingsToMute += 1));
  reporting.ws.send(JSON.stringify(helloFor('reporting', 'h-reporting')));
  mute.ws.send(JSON.stringify(helloFor('mute', 'h-mute')));
  const started = Date.now();
  // The reporting agent sends a report every 100 ms, three times a heartbeat.
  for (let seq = 1; Date.now() - started < 2_000; seq++) {
    reporting.ws.send(JSON.stringify(reportFor('h-reporting', seq)));
    await reporting.waitForMessage((m) => m.type === 'ack' && m.seq === seq);
    await delay(100);
  }
  const closed = await Promise.race([mute.closed, delay(3_000).then(() => null)]);
  t.ok(closed !== null, 'the agent that never answered a ping was dropped');
  t.ok(pingsToMute >= 1, `it was pinged first (${pingsToMute} pings)`);
  t.equal(pingsToReporting, 0, 'the reporting agent was never pinged: its reports say it is alive');
  t.ok(hub.connections.has('reporting'), 'and it is still connected');
  t.notOk(hub.connections.has('mute'), 'the mute one is not');
});

t.test('a page that stops answering pings is let go', async (t) => {
  const hub = await hubFor(t, { heartbeatMs: 200 });
  // A raw TCP client: it completes the WebSocket handshake, then never reads or answers a ping.
  const socket = connect(hub.port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  socket.write(`GET /api/v1/live HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${await apiToken(hub)}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`);
  const [first] = (await once(socket, 'data')) as [Buffer];
  t.match(first.toString(), /^HTTP\/1\.1 101/);
  const started = Date.now();
  await Promise.race([once(socket, 'close'), delay(5000).then(() => Promise.reject(new Error('still connected after 5 s')))]);
  t.ok(Date.now() - started < 2000, `dropped after ${Date.now() - started} ms (two 200 ms heartbeats)`);
});

t.test('the close codes these tests expect are the ones docs/protocol.md promises, for the same reasons', async (t) => {
  const meanings: [number, RegExp][] = [
    [4401, /bearer token/], [4400, /not JSON.*schema/], [4426, /protocol version/], [4409, /unknown `type`.*second `hello`/],
    [4408, /no `hello` within/], [4429, /messages a second/], [4413, /does not read/], [4410, /same `agentId`/],
    [1009, /over 1 MiB/], [1011, /could not store/], [1013, /too many connections/],
  ];
  for (const [code, meaning] of meanings) t.match(DOCUMENTED.get(code), meaning, `${code}: ${DOCUMENTED.get(code)}`);
});
