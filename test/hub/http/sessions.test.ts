// Page sessions on a real hub: the cookie a token sign-in sets (Secure only under TLS), idle and absolute expiry on
// an injected clock, sign-out, revocation (by the API and by `phoenix-hub token revoke` in another process) ending the
// session and its live feed, CSRF on cookie writes, forged and replayed cookies, and the one-time code link.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { fileURLToPath } from 'node:url';
import { newSecret } from '../../../hub/access/secrets.js';
import { LIVE_SIGNED_OUT } from '../../../hub/live.js';
import type { Hub } from '../../../hub/server.js';
import { apiToken, bearer, signInUrl } from '../../helpers/hub-api.js';
import { spawnTs } from '../../helpers/spawn-ts.js';
import { makeTestCertificate } from '../../helpers/tls.js';
import {
  call, closedWithin, cookiePair, openLive, pageHeaders, sessionSetCookie, signIn, startAccessHub, type LiveFeedClient, type PageSession,
} from '../../helpers/access-hub.js';

const HUB_BIN = fileURLToPath(new URL('../../../hub/bin.ts', import.meta.url));
const MINUTE = 60_000;
const admin = { name: 'test', role: 'admin' as const, remote: 'local' };

/**
 * A hub on a clock the test moves. Its heartbeat is off (an hour): a feed whose session expires by time is closed by
 * the hub's once-a-second check, not by a heartbeat 15 s later.
 */
async function clockHub(t: Test, idleMs: number, absoluteMs: number) {
  let now = Date.now();
  const { hub } = await startAccessHub(t, { heartbeatMs: 3_600_000, access: { now: () => now, sessions: { idleMs, absoluteMs } } });
  return { hub, advance: (ms: number) => (now += ms) };
}

/** The session's live feed, open (its hello read is not needed: the feed counts it once open). */
async function liveOf(t: Test, hub: Hub, session: PageSession): Promise<LiveFeedClient> {
  const { status, feed } = await openLive(t, hub, { cookie: session.cookie, origin: hub.url });
  t.equal(status, 101, 'the live feed opens with the session');
  return feed!;
}

const reads = async (hub: Hub, session: PageSession) => (await call(hub, 'GET', '/api/v1/fleet', pageHeaders(hub, session))).status;

async function checkEnded(t: Test, hub: Hub, session: PageSession, feed: LiveFeedClient, withinMs: number): Promise<void> {
  const closed = await closedWithin(feed, withinMs);
  t.equal(closed.code, LIVE_SIGNED_OUT, `the live feed closed 4401 (after ${closed.afterMs} ms)`);
  const answer = await call(hub, 'GET', '/api/v1/fleet', pageHeaders(hub, session));
  t.equal(answer.status, 401, 'the cookie no longer reads');
  t.match(answer.body, { error: 'unauthorized', message: /session has ended/ });
}

t.test('a token sign-in sets an HttpOnly, SameSite=Strict cookie for / lasting the absolute expiry; no Secure over http', async (t) => {
  const { hub } = await startAccessHub(t, { access: { sessions: { idleMs: 5 * MINUTE, absoluteMs: 90 * MINUTE } } });
  const session = await signIn(hub, await apiToken(hub, 'experimenter'));
  const attributes = session.setCookie.split('; ').slice(1);
  t.same(attributes.sort(), ['HttpOnly', 'Max-Age=5400', 'Path=/', 'SameSite=Strict'], session.setCookie.replace(session.id, '<id>'));
  t.match(session.id, /^phx_s_[A-Za-z0-9_-]{43}$/, 'the cookie holds a random session id');
  t.equal(await reads(hub, session), 200, 'the session reads the API');
  const who = await call(hub, 'GET', '/api/v1/session', pageHeaders(hub, session));
  t.match(who.body, { name: 'test-experimenter', role: 'experimenter', via: 'token', permissions: ['read', 'experiment'], csrfToken: session.csrf, idleTimeoutMs: 5 * MINUTE });
  t.equal((await openLive(t, hub, { cookie: session.cookie, origin: hub.url })).status, 101, 'and opens the live feed');
});

t.test('over https the session cookie is also Secure', async (t) => {
  const { cert, key } = await makeTestCertificate(t);
  const ca = await readFile(cert);
  const { hub } = await startAccessHub(t, { tls: { cert: ca, key: await readFile(key) } });
  t.match(hub.url, /^https:/);
  const req = request(`${hub.url}/api/v1/session`, { method: 'POST', ca, headers: { 'content-type': 'application/json', origin: hub.url } });
  req.end(JSON.stringify({ token: await apiToken(hub) }));
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  res.resume();
  t.equal(res.statusCode, 200);
  // Named with the __Host- prefix: no other host (a sibling subdomain) can set or shadow it.
  const cookie = (res.headers['set-cookie'] ?? []).find((c) => c.startsWith('__Host-phx_session='));
  t.ok(cookie?.split('; ').includes('Secure'), `Secure: ${cookie?.replace(/=phx_s_[^;]+/, '=<id>')}`);
  t.ok(cookie?.split('; ').includes('Path=/'), 'for the whole hub, as the prefix requires');
  t.notOk((res.headers['set-cookie'] ?? []).some((c) => c.startsWith('phx_session=')), 'and no unprefixed one');
  t.ok(cookie?.split('; ').includes('HttpOnly'));
});

t.test('idle expiry: each use keeps a session; one unused for the idle time ends, and so does its live feed', async (t) => {
  const { hub, advance } = await clockHub(t, MINUTE, 60 * MINUTE);
  const session = await signIn(hub, await apiToken(hub));
  const feed = await liveOf(t, hub, session);
  for (let i = 0; i < 3; i++) {
    advance(40_000);
    t.equal(await reads(hub, session), 200, `used again after 40 s (${(i + 1) * 40} s after sign-in)`);
  }
  t.equal(feed.ws.readyState, feed.ws.OPEN, 'the live feed stays while the session is used');
  advance(MINUTE);
  await checkEnded(t, hub, session, feed, 2_000);
});

t.test('absolute expiry: a session in constant use ends when its absolute time is up', async (t) => {
  const { hub, advance } = await clockHub(t, MINUTE, 2 * MINUTE);
  const session = await signIn(hub, await apiToken(hub));
  t.match(session.setCookie, /Max-Age=120(;|$)/);
  const feed = await liveOf(t, hub, session);
  advance(50_000);
  t.equal(await reads(hub, session), 200, 'at 50 s');
  advance(50_000);
  t.equal(await reads(hub, session), 200, 'at 100 s');
  advance(25_000);
  await checkEnded(t, hub, session, feed, 2_000);
});

t.test('sign-out ends the session: the cookie is cleared, replaying it is refused, its live feed closes', async (t) => {
  const { hub } = await startAccessHub(t);
  const session = await signIn(hub, await apiToken(hub));
  const other = await signIn(hub, await apiToken(hub));
  const feed = await liveOf(t, hub, session);
  const otherFeed = await liveOf(t, hub, other);
  const out = await call(hub, 'DELETE', '/api/v1/session', pageHeaders(hub, session, true));
  t.equal(out.status, 200);
  t.same(out.body, { signedOut: true });
  const cleared = sessionSetCookie(out.headers);
  t.equal(cookiePair(cleared ?? ''), 'phx_session=', 'the cookie is emptied');
  t.match(cleared, /Max-Age=0/, 'and deleted');
  await checkEnded(t, hub, session, feed, 2_000);
  t.equal(await reads(hub, other), 200, 'another session of the same token carries on');
  t.equal(otherFeed.ws.readyState, otherFeed.ws.OPEN, 'and so does its live feed');
});

t.test('revoking the token through the API ends its open session and live feed at once', async (t) => {
  const { hub } = await startAccessHub(t, { heartbeatMs: 3_600_000 });
  const alice = (await hub.access.createToken(admin, { name: 'alice', role: 'viewer' })).secret;
  const session = await signIn(hub, alice);
  const feed = await liveOf(t, hub, session);
  const revoked = await call(hub, 'DELETE', '/api/v1/tokens/alice', bearer(await apiToken(hub, 'admin')));
  t.equal(revoked.status, 200);
  t.same(revoked.body, { revoked: 'alice', sessionsEnded: 1 });
  await checkEnded(t, hub, session, feed, 2_000);
});

t.test('`phoenix-hub token revoke` in another process ends the open session and live feed within 2 s', { timeout: 120_000 }, async (t) => {
  // No heartbeat in the test's time: only the hub's check of the store's revision can notice.
  const { hub, dataDir } = await startAccessHub(t, { heartbeatMs: 3_600_000 });
  const bob = (await hub.access.createToken(admin, { name: 'bob', role: 'viewer' })).secret;
  const session = await signIn(hub, bob);
  const feed = await liveOf(t, hub, session);
  const child = spawnTs(HUB_BIN, ['token', 'revoke', 'bob', '--data-dir', dataDir]);
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  const [code] = (await once(child, 'exit')) as [number];
  t.equal(code, 0, out);
  t.match(out, /revoked 'bob' \(1 page session ended\)/);
  await checkEnded(t, hub, session, feed, 2_000);
  t.equal(await reads(hub, await signIn(hub, await apiToken(hub))), 200, 'other tokens are untouched');
});

t.test('CSRF: a cookie write needs the hub\'s Origin and the session\'s x-csrf-token; a bearer write needs neither', async (t) => {
  const { hub } = await startAccessHub(t);
  const session = await signIn(hub, await apiToken(hub, 'admin'));
  const good = pageHeaders(hub, session, true);
  const create = (headers: Record<string, string>, name: string) => call(hub, 'POST', '/api/v1/tokens', headers, { name, role: 'viewer' });
  const refusals: [string, Record<string, string>][] = [
    ['a foreign Origin', { ...good, origin: 'http://evil.example' }],
    ['no Origin', { cookie: session.cookie, 'x-csrf-token': session.csrf }],
    ['no x-csrf-token', { cookie: session.cookie, origin: hub.url }],
    ['another x-csrf-token', { ...good, 'x-csrf-token': newSecret('x') }],
  ];
  for (const [what, headers] of refusals) {
    const answer = await create(headers, 'csrf-victim');
    t.equal(answer.status, 403, `POST with ${what}`);
    t.match(answer.body, { error: 'forbidden', message: /hub's own page|x-csrf-token/ });
    t.equal((await call(hub, 'DELETE', `/api/v1/tokens/test-admin`, headers)).status, 403, `DELETE with ${what}`);
  }
  t.notOk((await hub.access.tokens.list()).some((tk) => tk.name === 'csrf-victim'), 'no refused write happened');
  t.equal((await create(good, 'csrf-ok')).status, 201, 'with the page\'s Origin and the CSRF token');
  t.equal((await call(hub, 'DELETE', '/api/v1/tokens/csrf-ok', good)).status, 200);
  t.equal((await create(bearer(await apiToken(hub, 'admin')), 'by-bearer')).status, 201, 'a bearer write: no Origin, no CSRF token');
  const foreignSignIn = await call(hub, 'POST', '/api/v1/session', { origin: 'http://evil.example' }, { token: await apiToken(hub) });
  t.equal(foreignSignIn.status, 403, 'a sign-in from a foreign page is refused');
  t.equal(sessionSetCookie(foreignSignIn.headers), null, 'and sets no cookie');
});

t.test('a forged session cookie and a replayed one are refused (401)', async (t) => {
  const { hub } = await startAccessHub(t);
  for (const forged of [newSecret('s'), 'phx_s_short', newSecret('t'), 'x'.repeat(5000)]) {
    const answer = await call(hub, 'GET', '/api/v1/fleet', { cookie: `phx_session=${forged}` });
    t.equal(answer.status, 401, `forged ${forged.slice(0, 12)}…`);
    t.equal(answer.headers.get('www-authenticate'), 'Bearer realm="phoenix"');
    t.equal((await openLive(t, hub, { cookie: `phx_session=${forged}`, origin: hub.url })).status, 401, 'and gets no live feed');
  }
  const session = await signIn(hub, await apiToken(hub));
  t.equal((await call(hub, 'DELETE', '/api/v1/session', pageHeaders(hub, session, true))).status, 200);
  t.equal(await reads(hub, session), 401, 'replayed after sign-out');
  t.equal((await call(hub, 'DELETE', '/api/v1/session', pageHeaders(hub, session, true))).status, 401, 'nor can it sign out twice');
});

t.test('a one-time code signs in once; a used or expired code is refused', async (t) => {
  const { hub, advance } = await clockHub(t, 30 * MINUTE, 12 * 60 * MINUTE);
  const link = signInUrl(hub, 'viewer', 'local-user');
  const visit = (url: string) => fetch(url, { redirect: 'manual' });
  const first = await visit(link);
  t.equal(first.status, 303);
  t.equal(first.headers.get('location'), '/');
  const setCookie = sessionSetCookie(first.headers);
  t.match(setCookie, /HttpOnly.*SameSite=Strict/);
  const who = await call(hub, 'GET', '/api/v1/session', { cookie: cookiePair(setCookie!) });
  t.match(who.body, { name: 'local-user', role: 'viewer', via: 'code' });
  const again = await visit(link);
  t.same([again.status, again.headers.get('location'), sessionSetCookie(again.headers)], [303, '/?signin=code', null], 'a second use');
  const late = signInUrl(hub, 'admin', 'late-user');
  advance(10 * MINUTE);
  const expired = await visit(late);
  t.same([expired.status, expired.headers.get('location'), sessionSetCookie(expired.headers)], [303, '/?signin=code', null], 'after its 10 minutes');
  t.equal((await visit(`${hub.url}/signin?code=${newSecret('c')}`)).headers.get('location'), '/?signin=code', 'a code the hub never issued');
});
