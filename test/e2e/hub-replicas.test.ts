// Two hub replicas on one PostgreSQL database behind a load balancer (issue 16), real hub processes and agents with
// the agent's own delivery code (outbox, reconnect, resend): the agents split across the replicas and every report
// stored once; a live page on one replica told of a report that reached the other, whose fleet it also shows; the
// database restarted under load (the outboxes hold the reports meanwhile: 0 lost); one replica killed with -9
// mid-ingest (its agents move to the other: 0 lost, 0 duplicated, by the agents' sequence numbers).
import t, { type Test } from 'tap';
import path from 'node:path';
import pg from 'pg';
import WebSocket from 'ws';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '../../common/logger.js';
import { HubClient } from '../../agent/hub-client/client.js';
import { Outbox } from '../../agent/hub-client/outbox.js';
import { Backoff } from '../../agent/supervisor/backoff.js';
import type { FleetResponse } from '../../hub/http/types.js';
import { LIVE_PATH } from '../../hub/live.js';
import { sampleReport } from '../fixtures/report.js';
import { AGENT_TOKEN } from '../helpers/assignment.js';
import { replicaSetups, startHubProcess, type Spawned } from '../helpers/phoenix-processes.js';
import { startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/process.js';
import { startBalancer } from '../helpers/tcp-balancer.js';
import { helloFor } from '../helpers/ws-client.js';

interface DeliveryAgent {
  name: string;
  client: HubClient;
  outbox: Outbox;
  /** Appends `n` reports to the outbox (the agent's own sequence numbers). */
  report(n?: number): void;
  appended: number;
}

t.test('hub replicas on one database', { timeout: 600_000 }, async (t) => {
  const server = await startPostgres(t);
  const setups = await replicaSetups(t.testdir(), server.url, 2);
  // Started together on an empty database: one migrates, one makes the admin token, both serve.
  const hubs: Spawned[] = await Promise.all(setups.map((s) => startHubProcess(t, s)));
  const balancer = await startBalancer(t, setups.map((s) => s.port));
  // A pool: the test's own connections go too when the database restarts, and are made again.
  const db = new pg.Pool({ connectionString: server.url, max: 2 });
  db.on('error', () => undefined);
  t.teardown(() => db.end());
  const admin = { authorization: `Bearer ${setups[0]!.adminToken}` };

  const agent = (name: string, url: string): DeliveryAgent => {
    const outbox = new Outbox({ dir: path.join(t.testdir(), 'agents', name), logger: silentLogger() });
    const { type: _type, v: _v, streamId: _stream, ...hello } = helloFor(name, name);
    const client = new HubClient({ url, token: AGENT_TOKEN, hello, outbox, logger: silentLogger(), backoff: new Backoff({ initialMs: 100, maxMs: 500 }) });
    t.teardown(() => client.close());
    client.start();
    const a: DeliveryAgent = {
      name, client, outbox, appended: 0,
      report(n = 1) {
        for (let i = 0; i < n; i++) {
          const now = new Date().toISOString();
          outbox.append({ openedAt: now, from: now, to: now }, sampleReport(name));
          a.appended += 1;
        }
        client.notify();
      },
    };
    return a;
  };
  /** Per agent: its stored reports (side 0 rows), distinct sequence numbers, the highest. */
  const stored = async (names: readonly string[]) => {
    const { rows } = await db.query<{ agent_id: string; n: string; distinct_seqs: string; max_seq: string }>(
      'SELECT agent_id, count(*) AS n, count(DISTINCT seq) AS distinct_seqs, max(seq) AS max_seq FROM samples WHERE side = 0 AND agent_id = ANY($1) GROUP BY agent_id',
      [names],
    );
    return new Map(rows.map((r) => [r.agent_id, { n: Number(r.n), distinct: Number(r.distinct_seqs), max: Number(r.max_seq) }]));
  };
  const everyOnce = async (t: Test, agents: readonly DeliveryAgent[], what: string) => {
    await waitFor(`${what}: every report acknowledged`, () => agents.every((a) => a.client.acknowledged >= a.appended), 120_000, 100);
    const rows = await stored(agents.map((a) => a.name));
    const lost = agents.reduce((sum, a) => sum + a.appended - (rows.get(a.name)?.distinct ?? 0), 0);
    const duplicated = agents.reduce((sum, a) => sum + (rows.get(a.name)?.n ?? 0) - (rows.get(a.name)?.distinct ?? 0), 0);
    const sent = agents.reduce((sum, a) => sum + a.appended, 0);
    t.equal(lost, 0, `${what}: ${sent} reports sent, 0 lost`);
    t.equal(duplicated, 0, `${what}: 0 stored twice`);
    t.ok(agents.every((a) => rows.get(a.name)?.max === a.appended), `${what}: each agent's highest sequence number stored`);
  };
  /** Every agent reports `rounds` times, `everyMs` apart (so the load runs while something happens to it). */
  const load = async (agents: readonly DeliveryAgent[], rounds: number, everyMs: number, meanwhile?: (round: number) => Promise<void>) => {
    for (let round = 0; round < rounds; round++) {
      for (const a of agents) a.report();
      await meanwhile?.(round);
      await delay(everyMs);
    }
  };

  t.test('agents split across the replicas: each report stored once; a page on A told of B\'s reports; A\'s fleet shows every host', async (t) => {
    const feed = new WebSocket(`${setups[0]!.url.replace(/^http/, 'ws')}${LIVE_PATH}`, { headers: admin });
    t.teardown(() => feed.terminate());
    const heard = new Set<string>();
    feed.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string; hosts?: string[] };
      if (m.type === 'reports') for (const h of m.hosts ?? []) heard.add(h);
    });
    await new Promise((resolve, reject) => feed.once('open', resolve).once('error', reject));

    const split = Array.from({ length: 10 }, (_, i) => agent(`split-${i}`, balancer.agentUrl));
    const onB = agent('on-b', setups[1]!.agentUrl);
    const agents = [...split, onB];
    await load(agents, 20, 200);
    await everyOnce(t, agents, 'two replicas');
    t.ok([...balancer.handed.values()].every((n) => n >= 3), `the balancer handed connections to both replicas (${[...balancer.handed.values()].join(', ')})`);
    await waitFor("A's live page told of the host that reports to B", () => heard.has('on-b'), 10_000);
    t.pass("A's live page told of the host that reports to B");
    const fleet = (await (await fetch(`${setups[0]!.url}/api/v1/fleet`, { headers: admin })).json()) as FleetResponse;
    const seen = new Map(fleet.hosts.map((h) => [h.hostId, h]));
    t.ok(agents.every((a) => seen.has(a.name)), `A's fleet lists all ${agents.length} hosts`);
    t.equal(seen.get('on-b')?.lastSeq, 20, "with the latest report B stored");
    t.equal(seen.get('on-b')?.connected, true, 'and connected (to B)');
    t.equal(fleet.totals.connected, agents.length, 'every host counted connected');
  });

  t.test('the database restarted under load: the hubs carry on, the outboxes hold the reports meanwhile, 0 lost', async (t) => {
    const agents = Array.from({ length: 8 }, (_, i) => agent(`restart-${i}`, balancer.agentUrl));
    await load(agents, 30, 200, async (round) => {
      if (round === 8) await server.stop();
      if (round === 16) await server.start();
    });
    await everyOnce(t, agents, 'the database restarted');
    t.ok(hubs.every((h) => h.running()), 'both replicas still run');
  });

  t.test('a replica killed with -9 mid-ingest: its agents move to the other, 0 lost, 0 duplicated', async (t) => {
    const agents = Array.from({ length: 10 }, (_, i) => agent(`kill-${i}`, balancer.agentUrl));
    const handedToB = () => balancer.handed.get(setups[1]!.port) ?? 0;
    const before = handedToB();
    await load(agents, 30, 150, async (round) => {
      if (round === 10) {
        t.ok(handedToB() > before, 'some agents were on B');
        await hubs[1]!.kill9();
      }
    });
    await everyOnce(t, agents, 'one replica killed');
    t.notOk(hubs[1]!.running(), 'B is gone');
  });
});
