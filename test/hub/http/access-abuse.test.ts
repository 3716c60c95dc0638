// What a hostile page or a careless operator could do to the access model, each refused: a page elsewhere draining
// a user's sign-in budget, a revoked token's feed kept open by a new token of the same name, an expiry past what a
// date can hold, a store that fails during a live feed's upgrade, a flood of single sign-ons started, a second sign-in,
// a burst of parallel guesses while the store is slow to answer.
import t from 'tap';
import Database from 'better-sqlite3';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { silentLogger } from '../../../common/logger.js';
import { newSecret } from '../../../hub/access/secrets.js';
import type { AccessStore } from '../../../hub/access/access-store.js';
import { OidcSignIn } from '../../../hub/access/oidc.js';
import { asyncStore } from '../../../hub/store/async-store.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import { LIVE_SIGNED_OUT } from '../../../hub/live.js';
import { apiToken, bearer } from '../../helpers/hub-api.js';
import { call, closedWithin, openLive, pageHeaders, signIn, startAccessHub } from '../../helpers/access-hub.js';
import { startOidcProvider } from '../../helpers/oidc-provider.js';

const admin = { name: 'test', role: 'admin' as const, remote: 'local' };

t.test('failed GET sign-ins (which any page can make a browser send) slow only themselves, never a valid credential', async (t) => {
  const { hub } = await startAccessHub(t);
  const viewer = await apiToken(hub);
  const session = await signIn(hub, viewer);
  // Far past the burst: what an <img src=".../signin?code=x"> on a hostile page can do, at a browser's pace.
  const answers: string[] = [];
  for (let i = 0; i < 20; i++) answers.push((await fetch(`${hub.url}/signin?code=x`, { redirect: 'manual' })).headers.get('location') ?? '');
  t.same(answers.slice(0, 5), Array(5).fill('/?signin=code'), 'the first five are looked at and refused');
  t.ok(answers.slice(5).every((a) => a === '/?signin=slowed'), 'the rest are answered "slowed" without being looked at');
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(viewer))).status, 200, 'a valid bearer token from the same address still reads');
  t.equal((await call(hub, 'GET', '/api/v1/fleet', pageHeaders(hub, session))).status, 200, 'and so does the signed-in page');
  t.equal((await signIn(hub, viewer)).csrf.length > 0, true, 'a token sign-in from the address still works');
  const failures = await hub.access.auditLog({ limit: 100, action: 'session.sign-in-failed' });
  t.equal(failures.length, 5, 'only the five looked at are in the audit log: a flood does not fill it');
});

t.test('a revoked token\'s live feed closes even when a token of the same name is made at once (rotation)', async (t) => {
  const { hub, dataDir } = await startAccessHub(t, { heartbeatMs: 3_600_000 });
  const old = (await hub.access.createToken(admin, { name: 'bob', role: 'viewer' })).secret;
  const { status, feed } = await openLive(t, hub, { authorization: `Bearer ${old}`, origin: hub.url });
  t.equal(status, 101);
  // Revoked and made again from another connection (the token command beside the running hub), within one poll.
  const other = new Database(path.join(dataDir, 'hub.db'));
  t.teardown(() => other.close());
  other.transaction(() => {
    other.prepare('DELETE FROM api_tokens WHERE name = ?').run('bob');
    other.prepare("INSERT INTO api_tokens (name, role, hash, created_at, created_by) VALUES ('bob', 'viewer', 'another-hash', ?, 'cli:test')").run(Date.now() + 1);
    other.prepare("INSERT INTO meta (key, value) VALUES ('access_revision', 1) ON CONFLICT (key) DO UPDATE SET value = value + 1").run();
  })();
  const closed = await closedWithin(feed!, 3_000);
  t.equal(closed.code, LIVE_SIGNED_OUT, `the old token's feed closed 4401 after ${closed.afterMs} ms`);
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(old))).status, 401, 'and the old secret reads nothing');
});

t.test('an expiry a date cannot hold is refused (400), and nothing is made', async (t) => {
  const { hub } = await startAccessHub(t);
  const headers = bearer(await apiToken(hub, 'admin'));
  const huge = await call(hub, 'POST', '/api/v1/tokens', headers, { name: 'big', role: 'viewer', expires: '99999999999999999d' });
  t.equal(huge.status, 400);
  t.match(huge.body, { error: 'bad_request', message: /at most 10 years/ });
  t.equal((await call(hub, 'GET', '/api/v1/tokens', headers)).status, 200, 'the token list still answers');
  t.notOk((await hub.access.tokens.list()).some((tk) => tk.name === 'big'), 'no token was made');
  t.equal((await call(hub, 'POST', '/api/v1/tokens', headers, { name: 'long', role: 'viewer', expires: '3650d' })).status, 201, '10 years is allowed');
});

t.test('a store that cannot be written during a live feed\'s upgrade is a 500 for that request; the hub carries on', { timeout: 30_000 }, async (t) => {
  const { hub, dataDir } = await startAccessHub(t);
  const fresh = (await hub.access.createToken(admin, { name: 'fresh', role: 'viewer' })).secret;
  // Its first use writes "last used": another connection holds the write lock past the hub's busy timeout (5 s).
  const other = new Database(path.join(dataDir, 'hub.db'));
  t.teardown(() => other.close());
  other.exec('BEGIN IMMEDIATE');
  const { status } = await openLive(t, hub, { authorization: `Bearer ${fresh}` });
  other.exec('ROLLBACK');
  t.equal(status, 500, 'refused with 500');
  t.equal((await fetch(`${hub.url}/readyz`)).status, 200, 'the hub is still up');
  t.equal((await openLive(t, hub, { authorization: `Bearer ${fresh}` })).status, 101, 'and the feed opens once the store can be written');
});

t.test('single sign-ons started from one address: ten at once, then one a second (each holds a place in the pending list)', async (t) => {
  const provider = await startOidcProvider(t, { clientId: 'phoenix-hub', clientSecret: 'abuse-client-secret', redirectUris: ['http://127.0.0.1:1/auth/oidc/callback'], users: {} });
  const relyingParty = await OidcSignIn.discover(
    { issuer: provider.issuer, allowInsecureHttp: true, clientId: 'phoenix-hub', clientSecret: 'abuse-client-secret', scopes: ['openid'], roleClaim: 'groups', nameClaim: 'preferred_username', roles: { viewer: ['ops'] }, displayName: 'SSO' },
    silentLogger(),
  );
  const { hub } = await startAccessHub(t, { oidc: { relyingParty, redirectUrl: 'http://127.0.0.1:1/auth/oidc/callback' } });
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) statuses.push((await fetch(`${hub.url}/auth/oidc/login`, { redirect: 'manual' })).status);
  t.same(statuses, [...Array(10).fill(303), 429, 429]);
});

t.test('a browser that signs in again leaves no session of its own behind', async (t) => {
  const { hub } = await startAccessHub(t);
  const first = await signIn(hub, await apiToken(hub));
  const again = await call(hub, 'POST', '/api/v1/session', { origin: hub.url, cookie: first.cookie }, { token: await apiToken(hub, 'admin') });
  t.equal(again.status, 200);
  t.match(again.body, { role: 'admin' });
  t.equal((await call(hub, 'GET', '/api/v1/fleet', pageHeaders(hub, first))).status, 401, 'the earlier session has ended');
  t.ok((await hub.access.auditLog({ limit: 10, action: 'session.sign-out' })).length === 1, 'and its end is in the audit log');
});

t.test('parallel wrong bearer tokens from one address get no more answers than the burst, however slow the store', async (t) => {
  // Every access read and write answers 20 ms late (a database across a network): the guesses' lookups overlap.
  const dataDir = t.testdir();
  const sqlite = asyncStore(openSqliteStore({ file: path.join(dataDir, 'hub.db') }));
  const fast = Object.entries(sqlite.access as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>);
  const slowAccess = Object.fromEntries(fast.map(([name, method]) => [name, async (...args: unknown[]) => (await delay(20), method(...args))])) as unknown as AccessStore;
  const { hub } = await startAccessHub(t, { dataDir, store: { ...sqlite, access: slowAccess } });
  const statuses = await Promise.all(Array.from({ length: 20 }, async () => (await call(hub, 'GET', '/api/v1/fleet', bearer(newSecret('t')))).status));
  const { burst } = hub.access.limiter;
  t.same([statuses.filter((s) => s === 401).length, statuses.filter((s) => s === 429).length], [burst, 20 - burst], `${burst} looked at and refused (401), the rest 429`);
  t.equal((await hub.access.auditLog({ limit: 100, action: 'session.sign-in-failed' })).length, burst, 'only those looked at are audited');
});
