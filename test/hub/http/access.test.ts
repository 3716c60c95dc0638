// Every API route and the live feed × every kind of caller, on a real hub: 401 without a valid user credential, 403
// when the role is too low, the route's success when it is enough — expected from the role order, not copied from
// the hub. Agent tokens are not API credentials, user tokens do not speak the agent protocol; the probes stay open.
import t, { type Test } from 'tap';
import { hashSecret, newSecret } from '../../../hub/access/secrets.js';
import { ROLES, type Role } from '../../../hub/access/roles.js';
import type { Hub } from '../../../hub/server.js';
import { apiToken, bearer } from '../../helpers/hub-api.js';
import { helloFor, openSocket, reportFor } from '../../helpers/ws-client.js';
import { AGENT_TOKEN, call, openLive, pageHeaders, signIn, startAccessHub } from '../../helpers/access-hub.js';

/** The roles from least to most: each may do what the ones before it may. */
const RANK: Record<Role, number> = { viewer: 0, experimenter: 1, admin: 2 };

/** Who calls. `role` only for a valid user credential: a bearer token, or the page session opened with one. */
interface Caller {
  label: string;
  role?: Role;
  via?: 'bearer' | 'session';
  /** The headers it sends (`write`: a write, for which a page adds its Origin and CSRF token). */
  headers(write: boolean): Promise<Record<string, string>>;
  /** What it would sign in with (the sign-in route's body). */
  secret: string;
}

interface Row {
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  /** The least role the route needs; `open`: anyone may try (the sign-in route checks the token it is given). */
  least: Role | 'open';
  /** The route's success. */
  ok: number;
  /** Made fresh for each call (a token name to create or to revoke). */
  prepare?: (n: number) => Promise<{ path?: string; body?: unknown }>;
  /** Only a page session can do it: a valid bearer token gets this instead. */
  bearerGets?: number;
}

t.test('every route × every caller: 401, 403 or success as the role allows', async (t) => {
  // Many refused credentials from one address: the limiter (tested on its own) must not turn them into 429s here.
  const { hub } = await startAccessHub(t, { access: { limiter: { burst: 100_000 } } });
  await reportOneHost(t, hub, 'h1');
  const callers = await makeCallers(hub);
  const victim = async (n: number) => (await hub.access.createToken({ name: 'test', role: 'admin', remote: 'local' }, { name: `victim-${n}`, role: 'viewer' })).token.name;
  const rows: Row[] = [
    { method: 'GET', path: '/api/v1/fleet', least: 'viewer', ok: 200 },
    { method: 'GET', path: '/api/v1/comparison', least: 'viewer', ok: 200 },
    { method: 'GET', path: '/api/v1/fleet/history', least: 'viewer', ok: 200 },
    { method: 'GET', path: '/api/v1/fleet/breakdown', least: 'viewer', ok: 200 },
    { method: 'GET', path: '/api/v1/hosts/h1', least: 'viewer', ok: 200 },
    { method: 'GET', path: '/api/v1/session', least: 'viewer', ok: 200 },
    { method: 'POST', path: '/api/v1/session', least: 'open', ok: 200 },
    { method: 'DELETE', path: '/api/v1/session', least: 'viewer', ok: 200, bearerGets: 400 },
    { method: 'GET', path: '/api/v1/tokens', least: 'admin', ok: 200 },
    { method: 'POST', path: '/api/v1/tokens', least: 'admin', ok: 201, prepare: async (n) => ({ body: { name: `made-${n}`, role: 'viewer' } }) },
    { method: 'DELETE', path: '/api/v1/tokens/:name', least: 'admin', ok: 200, prepare: async (n) => ({ path: `/api/v1/tokens/${await victim(n)}` }) },
    { method: 'GET', path: '/api/v1/audit', least: 'admin', ok: 200 },
  ];
  const expected = (row: Row, caller: Caller): number => {
    if (!caller.role) return 401;
    if (row.least === 'open') return row.ok;
    if (RANK[caller.role] < RANK[row.least]) return 403;
    return caller.via === 'bearer' && row.bearerGets ? row.bearerGets : row.ok;
  };

  let n = 0;
  const seen = new Set<number>();
  for (const row of rows) {
    for (const caller of callers) {
      n += 1;
      const what = `${row.method} ${row.path} as ${caller.label}`;
      const extra = (await row.prepare?.(n)) ?? {};
      const write = row.method !== 'GET';
      const body = row.path === '/api/v1/session' && row.method === 'POST' ? { token: caller.secret } : extra.body;
      const answer = await call(hub, row.method, extra.path ?? row.path, await caller.headers(write), body);
      const want = expected(row, caller);
      seen.add(want);
      t.equal(answer.status, want, what);
      t.match(answer.headers.get('content-type'), /^application\/json/, `${what}: JSON`);
      if (want >= 400) {
        const kind = { 400: 'bad_request', 401: 'unauthorized', 403: 'forbidden' }[want];
        t.match(answer.body, { error: kind, message: String }, `${what}: the API's JSON error`);
      }
      if (want === 401) t.equal(answer.headers.get('www-authenticate'), 'Bearer realm="phoenix"', `${what}: www-authenticate`);
      else t.equal(answer.headers.get('www-authenticate'), null, `${what}: no www-authenticate`);
      if (want === 403) t.match(answer.body!.message, new RegExp(`has the ${caller.role} role.*is needed`), `${what}: the refusal names the role`);
    }
  }
  t.same([...seen].sort(), [200, 201, 400, 401, 403], 'the table reaches every outcome');

  // The live feed: read access at the upgrade; refusals are plain HTTP statuses before any WebSocket exists.
  for (const caller of callers) {
    const headers = { ...(await caller.headers(false)), ...(caller.via === 'session' ? { origin: hub.url } : {}) };
    const { status } = await openLive(t, hub, headers);
    t.equal(status, caller.role ? 101 : 401, `live feed as ${caller.label}`);
  }
});

t.test('an agent token gets 401 on the API; a user token is refused on the agent path (4401)', async (t) => {
  const { hub } = await startAccessHub(t);
  const answer = await call(hub, 'GET', '/api/v1/fleet', bearer(AGENT_TOKEN));
  t.equal(answer.status, 401);
  t.match(answer.body, { error: 'unauthorized', message: /bearer token is not valid/ });
  for (const role of ROLES) {
    const socket = await openSocket(hub.agentUrl, await apiToken(hub, role));
    socket.ws.send(JSON.stringify(helloFor(`agent-${role}`, `host-${role}`)));
    const closed = await socket.closed;
    t.same([closed.code, closed.reason], [4401, 'unauthorized: invalid token'], `a ${role} token on the agent path`);
  }
  t.equal(hub.connections.size, 0, 'no agent connection was accepted');
  // The agent's own token still speaks the protocol.
  await reportOneHost(t, hub, 'agent-ok');
  t.equal(hub.connections.size, 1);
});

t.test('/healthz and /readyz stay open, whatever credential comes with them', async (t) => {
  const { hub } = await startAccessHub(t);
  for (const path of ['/healthz', '/readyz']) {
    for (const headers of [{} as Record<string, string>, bearer(AGENT_TOKEN), bearer(newSecret('t')), { cookie: `phx_session=${newSecret('s')}` }]) {
      const answer = await call(hub, 'GET', path, headers);
      t.equal(answer.status, 200, `${path} with ${Object.keys(headers).join(', ') || 'nothing'}`);
      t.match(answer.body, { status: /^(ok|ready)$/ });
    }
  }
});

t.test('the live feed from a foreign page is refused (403) even with a valid session', async (t) => {
  const { hub } = await startAccessHub(t);
  const session = await signIn(hub, await apiToken(hub, 'admin'));
  t.equal((await openLive(t, hub, { cookie: session.cookie, origin: 'http://evil.example' })).status, 403);
  t.equal((await openLive(t, hub, { cookie: session.cookie, origin: hub.url })).status, 101);
});

/** No credential, the agents' token, a revoked and an expired admin token, and each role by bearer and by session. */
async function makeCallers(hub: Hub): Promise<Caller[]> {
  const hubActor = { name: 'test', role: 'admin' as const, remote: 'local' };
  const revoked = (await hub.access.createToken(hubActor, { name: 'revoked-admin', role: 'admin' })).secret;
  await hub.access.revokeToken(hubActor, 'revoked-admin');
  const expired = newSecret('t');
  const now = Date.now();
  await hub.store.access.insertToken({ name: 'expired-admin', role: 'admin', createdAt: now - 7_200_000, createdBy: 'test', lastUsedAt: null, expiresAt: now - 3_600_000 }, hashSecret(expired));
  const fixed = (label: string, secret: string, headers: Record<string, string>): Caller => ({ label, secret, headers: async () => headers });
  const secrets = {} as Record<Role, string>;
  for (const role of ROLES) secrets[role] = await apiToken(hub, role);
  return [
    fixed('no credential', newSecret('t'), {}),
    fixed('the agent token', AGENT_TOKEN, bearer(AGENT_TOKEN)),
    fixed('a revoked admin token', revoked, bearer(revoked)),
    fixed('an expired admin token', expired, bearer(expired)),
    ...ROLES.map((role): Caller => ({ label: `a ${role} token`, role, via: 'bearer', secret: secrets[role], headers: async () => bearer(secrets[role]) })),
    ...ROLES.map((role): Caller => ({
      label: `a ${role} session`,
      role,
      via: 'session',
      secret: secrets[role],
      // A fresh session each call: signing out ends the one it is made with.
      headers: async (write) => pageHeaders(hub, await signIn(hub, secrets[role]), write),
    })),
  ];
}

/** One agent says hello and reports once (acknowledged), so `hostId` exists for the host route. */
async function reportOneHost(t: Test, hub: Hub, hostId: string): Promise<void> {
  const socket = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => socket.ws.close());
  socket.ws.send(JSON.stringify(helloFor(`agent-${hostId}`, hostId)));
  socket.ws.send(JSON.stringify(reportFor(hostId, 1)));
  await socket.waitForMessage((m) => m.type === 'ack' && m.seq === 1);
}
