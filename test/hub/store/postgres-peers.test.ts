// Replicas telling each other what they did (hub/store/postgres-peers.ts, issue 16), at the store, on a real server:
// a replica hears the other's reports (agent, host, sequence), experiment changes and ended credentials, never its
// own; notices of a rolled-back transaction are never heard; one replica leads at a time and another takes over when
// it is gone; a server restart is followed by a resync and leadership taken again.
import t from 'tap';
import { silentLogger } from '../../../common/logger.js';
import type { StoredElsewhere, StorePeerEvents } from '../../../hub/store/peers.js';
import { openPostgresStore } from '../../../hub/store/postgres.js';
import { parsePostgresUrl } from '../../../hub/store/store-url.js';
import type { Store } from '../../../hub/store/types.js';
import { startPostgres } from '../../helpers/postgres.js';
import { startPausableProxy } from '../../helpers/pausable-proxy.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, reportFor } from '../../helpers/ws-client.js';
import { session, token } from './access-store-contract.js';

/** Everything a store's peers told it, by event. */
function heard(store: Store) {
  const got: { [K in keyof StorePeerEvents]: StorePeerEvents[K][] } = { reports: [], agents: [], experiments: [], access: [], resync: [] };
  for (const event of Object.keys(got) as (keyof StorePeerEvents)[]) {
    store.peers.on(event, ((...args: unknown[]) => void (got[event] as unknown[][]).push(args)) as never);
  }
  return got;
}

t.test('replicas hear each other', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const location = parsePostgresUrl(await server.createDatabase(), 'test');
  const open = () => openPostgresStore({ location, logger: silentLogger() });
  const a = await open();
  const b = await open();
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const ofA = heard(a);
  const ofB = heard(b);
  t.equal(a.peers.shared, true);

  await a.upsertAgent(helloFor('a1', 'web-1'), Date.now());
  await a.storeReports([1, 2, 3].map((seq) => ({ agentId: 'a1', message: reportFor('web-1', seq), receivedAt: Date.now() })));
  await waitFor('B hears the reports', () => ofB.reports.length > 0, 10_000);
  const heardByB = ofB.reports.flatMap(([r]) => r);
  t.same(heardByB.map(({ ts: _ts, ...r }) => r), [1, 2, 3].map((seq): Omit<StoredElsewhere, 'ts'> => ({ agentId: 'a1', hostId: 'web-1', seq })), 'each report: agent, host, sequence');
  t.ok(heardByB.every((r, i) => r.ts > 0 && (i === 0 || r.ts > heardByB[i - 1]!.ts)), 'and where it was placed in time');
  t.same(ofA.reports, [], 'A does not hear its own');
  await waitFor("B hears A's hello", () => ofB.agents.flat(2).includes('a1'), 10_000);
  t.same(ofA.agents, [], 'nor its own hellos');

  // Hundreds of reports in one batch: as many notices as their size needs, all heard.
  const many = Array.from({ length: 400 }, (_, i) => `agent-with-a-longer-id-${String(i).padStart(4, '0')}`);
  for (const id of many) await b.upsertAgent(helloFor(id, `host-${id}`), Date.now());
  await b.storeReports(many.map((id) => ({ agentId: id, message: reportFor(`host-${id}`, 1), receivedAt: Date.now() })));
  await waitFor('A hears all 400', () => ofA.reports.flat(2).length === 400, 10_000);
  t.ok(ofA.reports.length > 1, `in ${ofA.reports.length} notices (each under PostgreSQL's 8,000 bytes)`);
  await waitFor('A hears all 400 hellos', () => new Set(ofA.agents.flat(2)).size === 400, 10_000);
  t.ok(ofA.agents.length > 1, `in ${ofA.agents.length} notices`);

  const experiment = {
    id: 'e1', name: 'e1', description: null, spec: '{}', state: 'draft' as const, revision: 1, baseline: { pipeline: 'baseline', sha256: 'a'.repeat(64) },
    candidate: { pipeline: 'lean', sha256: 'b'.repeat(64) }, createdBy: 'x', createdAt: 1, startedAt: null, endedAt: null, outcome: null, guard: null,
  };
  await a.experiments.createExperiment(experiment, [], { experimentId: 'e1', at: 1, kind: 'created', hostId: null, actor: 'x', detail: '{}' });
  await a.experiments.applyWrites({ hosts: [], events: [{ experimentId: 'e1', at: 2, kind: 'host.measuring', hostId: 'h', actor: null, detail: '{}' }], patches: [] });
  await a.experiments.applyWrites({ hosts: [], events: [{ experimentId: 'e1', at: 3, kind: 'wave', hostId: null, actor: null, detail: '{}' }], patches: [] });
  await a.experiments.updateExperiment('e1', { state: 'running' });
  await waitFor('B hears the experiment', () => ofB.experiments.length >= 3, 10_000);
  t.same(ofB.experiments, [[['e1']], [['e1']], [['e1']]], "created, a wave, a patch: each heard; a host's status alone is not");

  await a.access.insertToken(token('bob'), 'h-bob');
  await a.access.insertSession(session('s1', { credential: 'bob' }));
  await a.access.deleteToken('bob');
  await waitFor('B hears the revocation', () => ofB.access.length === 1, 10_000);
  // A duplicate host key rolls the transaction back (after its notice was sent in it): nothing heard.
  const host = { experimentId: 'e-dup', agentId: 'a1', hostId: 'web-1', order: 0, wave: null, state: 'pending' as const, message: null, updatedAt: 1, healthySince: null };
  await t.rejects(a.experiments.createExperiment({ ...experiment, id: 'e-dup' }, [host, host], { experimentId: 'e-dup', at: 1, kind: 'created', hostId: null, actor: 'x', detail: '{}' }));
  const before = ofB.experiments.length;
  await a.experiments.updateExperiment('e1', { revision: 2 });
  await waitFor('the next notice', () => ofB.experiments.length === before + 1, 10_000);
  t.notOk(ofB.experiments.flat(2).includes('e-dup'), 'the rolled-back transaction announced nothing');

  // Leadership: one at a time.
  const leadsA = await a.peers.leads();
  const leadsB = await b.peers.leads();
  t.ok(leadsA !== leadsB, `exactly one leads (A ${leadsA}, B ${leadsB})`);
  t.equal(await (leadsA ? a : b).peers.leads(), true, 'and keeps leading');

  // The server restarts: both are told to read again, and someone leads again.
  await server.stop();
  await server.start();
  await waitFor('both resync', () => ofA.resync.length > 0 && ofB.resync.length > 0, 60_000, 100);
  await waitFor('a leader again', async () => (await a.peers.leads()) || (await b.peers.leads()), 20_000, 200);
  t.pass('someone leads after the restart');

  // The leader goes away: the other takes over.
  const leaderNow = (await a.peers.leads()) ? a : b;
  const next = leaderNow === a ? b : a;
  await leaderNow.close();
  await waitFor('the other replica leads', () => next.peers.leads(), 10_000, 100);
  t.pass('the other replica took over');
});

t.test('a leader whose connection is cut without a word stops leading, and another leads', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const url = new URL(await server.createDatabase());
  // A through a proxy that can go silent; B straight to the server.
  const proxy = await startPausableProxy(server.port);
  t.teardown(() => proxy.close());
  const viaProxy = new URL(url);
  viaProxy.port = String(proxy.port);
  const a = await openPostgresStore({ location: parsePostgresUrl(viaProxy.toString(), 'test'), logger: silentLogger() });
  const b = await openPostgresStore({ location: parsePostgresUrl(url.toString(), 'test'), logger: silentLogger() });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  t.equal(await a.peers.leads(), true, 'A leads');
  t.equal(await b.peers.leads(), false, 'B does not');
  proxy.pause();
  const cutAt = Date.now();
  await waitFor('A stops leading', async () => !(await a.peers.leads()), 30_000, 250);
  t.ok(Date.now() - cutAt <= 15_000, `A gave up its leadership ${Date.now() - cutAt} ms after the cut`);
  // A closes the connection it gave up (here the proxy then ends the server's side; on a real cut the server's own
  // keepalive does): the lock is free.
  await waitFor('B leads', () => b.peers.leads(), 30_000, 250);
  t.ok(Date.now() - cutAt <= 20_000, `B leads ${Date.now() - cutAt} ms after the cut`);
  t.equal(await a.peers.leads(), false, 'and A, cut off, does not');
});
