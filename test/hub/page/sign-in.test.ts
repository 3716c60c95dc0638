// The page's sign-in in a real headless Chromium against a real hub fed by the test's own agent socket: a token typed
// into the form, what each role sees, sign-out and revocation ending the live feed for good, single sign-on through a
// real OpenID provider on loopback (the view the page was opened at kept across the round trip), and a refused token.
import t, { type Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { autoPort } from '../../../agent/supervisor/ports.js';
import { silentLogger } from '../../../common/logger.js';
import { OidcSignIn } from '../../../hub/access/oidc.js';
import { TokenSet } from '../../../hub/auth.js';
import { hubRoutes } from '../../../hub/http/routes.js';
import { LIVE_PATH, LIVE_SIGNED_OUT } from '../../../hub/live.js';
import { startHub, type Hub, type HubOptions } from '../../../hub/server.js';
import { openBrowser } from '../../helpers/browser.js';
import { apiToken, bearer } from '../../helpers/hub-api.js';
import { startOidcProvider } from '../../helpers/oidc-provider.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, openSocket, reportFor } from '../../helpers/ws-client.js';

const AGENT_TOKEN = 'sign-in-page-agent-token-0123456789';
const HOST = 'sign-in-host';
const ADMIN = { name: 'test', role: 'admin', remote: 'local' } as const;

/** What the page's live feeds did (window.__live): counted by a wrapper installed before the page's own script. */
interface LiveCount {
  opened: number;
  messages: number;
  closes: number[];
}
const COUNT_LIVE = `(() => {
  const Real = window.WebSocket;
  const live = (window.__live = { opened: 0, messages: 0, closes: [] });
  window.WebSocket = class extends Real {
    constructor(url, protocols) {
      super(url, protocols);
      live.opened += 1;
      this.addEventListener('message', () => (live.messages += 1));
      this.addEventListener('close', (event) => live.closes.push(event.code));
    }
  };
})()`;
const liveCount = (page: Page) => page.evaluate('window.__live') as Promise<LiveCount>;

/** The console error of a 401 the test provokes: asking who is signed in while no one is, a refused token. */
const UNAUTHORIZED = /Failed to load resource: the server responded with a status of 401/;

/** A hub fed by one bare agent that has sent a first report; `report()` sends the next and waits until it is stored. */
async function setUp(t: Test, options: Partial<HubOptions> = {}): Promise<{ hub: Hub; report: () => Promise<void> }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-sign-in-'));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([AGENT_TOKEN]), logger: silentLogger(), routes: hubRoutes, maintenanceMs: 3_600_000, ...options });
  t.teardown(async () => {
    await hub.close();
    await rm(dataDir, { recursive: true, force: true });
  });
  const agent = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => agent.ws.close());
  agent.ws.send(JSON.stringify(helloFor('sign-in-agent', HOST)));
  let seq = 0;
  const report = async () => {
    seq += 1;
    agent.ws.send(JSON.stringify(reportFor(HOST, seq)));
    const acked = seq;
    await agent.waitForMessage((m) => m.type === 'ack' && m.seq === acked);
  };
  await report();
  return { hub, report };
}

/**
 * A fresh Chromium at the hub's page, its live feed counted. `consoleIs(t, n)`: its console shows exactly `n` 401s (the
 * page asks who is signed in at each load; a refused token) and no other error but those matching `also`.
 */
async function openPage(t: Test, hub: Hub, hash = '') {
  const { page, errors } = await openBrowser(t);
  await page.addInitScript(COUNT_LIVE);
  await page.goto(`${hub.url}/${hash}`);
  const consoleIs = (t: Test, unauthorized: number, also?: RegExp) => {
    t.equal(errors.filter((e) => UNAUTHORIZED.test(e)).length, unauthorized, `${unauthorized} 401s provoked in the console`);
    t.same(errors.filter((e) => !UNAUTHORIZED.test(e) && !also?.test(e)), [], 'and no other error');
  };
  return { page, consoleIs };
}

/** Types the token into the sign-in form and waits for the fleet to show the host. */
async function signInWithToken(page: Page, token: string): Promise<void> {
  await page.locator('#signin-token').fill(token);
  await page.locator('#signin-submit').click();
  await page.locator(`tr[data-host="${HOST}"]`).waitFor();
}

const sessionCookies = async (page: Page) => (await page.context().cookies()).filter((c) => c.name === 'phx_session');

/**
 * After the page lost its session: a report stored now reaches a reader of the live feed that is still signed in, but
 * not the page, whose feed stays closed (none opened since).
 */
async function noLiveUpdates(t: Test, page: Page, hub: Hub, report: () => Promise<void>): Promise<void> {
  const before = await liveCount(page);
  const observer = await openSocket(`${hub.url.replace(/^http/, 'ws')}${LIVE_PATH}`, await apiToken(hub, 'viewer'));
  t.teardown(() => observer.ws.close());
  await observer.waitForMessage((m) => m.type === 'hello');
  await report();
  await observer.waitForMessage((m) => m.type === 'reports' && JSON.stringify(m.hosts) === JSON.stringify([HOST]));
  t.same(await liveCount(page), before, 'the report reached a signed-in reader; the page got no live message and opened no feed');
  t.equal(await page.locator('#live-status').textContent(), 'offline');
}

t.test('a token typed into the form signs in: the fleet, who and which role; only an admin sees the admin sections', async (t) => {
  const { hub } = await setUp(t);
  const viewer = await openPage(t, hub);
  await viewer.page.locator('#signin').waitFor();
  t.ok(await viewer.page.locator('#fleet').isHidden(), 'signed out: no fleet');
  t.ok(await viewer.page.locator('#fleet-controls').isHidden(), 'nor its controls');
  t.ok(await viewer.page.locator('#signin-message').isHidden(), 'no message without a reason');
  t.ok(await viewer.page.locator('#sso').isHidden(), 'no single sign-on on a hub without a provider');
  t.equal((await liveCount(viewer.page)).opened, 0, 'no live feed before signing in');

  await signInWithToken(viewer.page, await apiToken(hub, 'viewer'));
  t.equal(await viewer.page.locator('#whoami').textContent(), 'test-viewer (viewer)');
  t.ok(await viewer.page.locator('#sign-out').isVisible(), 'a sign-out button');
  t.ok(await viewer.page.locator('#signin').isHidden(), 'the sign-in view is gone');
  await viewer.page.locator('#live-status', { hasText: 'live' }).waitFor();
  t.equal(await viewer.page.locator('[data-card="hosts"] .value').textContent(), '1');
  t.ok(await viewer.page.locator('#tokens').isHidden(), 'a viewer sees no tokens section');
  t.ok(await viewer.page.locator('#audit').isHidden(), 'nor the audit log');
  t.equal(await viewer.page.locator('#token-list tbody tr, #audit-list tbody tr').count(), 0, 'neither was loaded');
  t.equal((await sessionCookies(viewer.page))[0]?.httpOnly, true, 'the session is an HttpOnly cookie');
  viewer.consoleIs(t, 1);

  const admin = await openPage(t, hub);
  await signInWithToken(admin.page, await apiToken(hub, 'admin'));
  t.equal(await admin.page.locator('#whoami').textContent(), 'test-admin (admin)');
  await admin.page.locator('#token-list tr[data-token="test-viewer"]').waitFor();
  t.ok(await admin.page.locator('#tokens').isVisible(), 'an admin sees the tokens section');
  t.ok(await admin.page.locator('#audit').isVisible(), 'and the audit log');

  // A token made in the page: its secret shown once, working at once.
  await admin.page.locator('#token-name').fill('dave');
  await admin.page.locator('#token-role').selectOption('experimenter');
  await admin.page.locator('#token-expires').fill('30d');
  await admin.page.locator('#token-create').click();
  await admin.page.locator('#token-secret').waitFor();
  t.equal(await admin.page.locator('#token-secret-name').textContent(), 'dave');
  const secret = (await admin.page.locator('#token-secret-value').textContent()) ?? '';
  t.ok(secret.length >= 32, 'the secret is shown');
  const row = admin.page.locator('#token-list tr[data-token="dave"]');
  await row.waitFor();
  const cells = await row.locator('td').allTextContents();
  t.same([cells[0], cells[1], cells[3]], ['dave', 'experimenter', 'test-admin'], 'listed with its role and who made it');
  t.not(cells[5], 'never', 'with its expiry');
  t.notOk(cells.join(' ').includes(secret), 'the list never shows the secret');
  const asDave = await fetch(`${hub.url}/api/v1/session`, { headers: bearer(secret) });
  t.match(await asDave.json(), { name: 'dave', role: 'experimenter' }, 'the secret is an API token of that role');
  await admin.page.locator('#audit-list tr[data-action="token.create"]', { hasText: 'dave' }).waitFor();
  await admin.page.locator('#token-name').fill('dave');
  await admin.page.locator('#token-create').click();
  await admin.page.locator('#admin-message', { hasText: "a token named 'dave' exists already" }).waitFor();
  t.equal(await admin.page.locator('#token-secret-value').textContent(), secret, 'a refused request makes no new secret');

  await row.locator('button.revoke').click();
  await admin.page.locator('#admin-message').waitFor({ state: 'hidden' });
  await row.waitFor({ state: 'detached' });
  await admin.page.locator('#audit-list tr[data-action="token.revoke"]', { hasText: 'dave' }).waitFor();
  t.equal(await admin.page.locator('#audit-list tbody tr').first().getAttribute('data-action'), 'token.revoke', 'newest first');
  t.match(await admin.page.locator('#audit-list tr[data-action="token.create"]', { hasText: 'dave' }).textContent(), /test-admin.*127\.0\.0\.1/, 'who and from where');
  t.equal((await fetch(`${hub.url}/api/v1/session`, { headers: bearer(secret) })).status, 401, 'revoked: the secret no longer works');

  await admin.page.locator('#token-secret-done').click();
  t.ok(await admin.page.locator('#token-secret').isHidden());
  await admin.page.reload();
  await admin.page.locator('#token-list tr[data-token="test-viewer"]').waitFor();
  t.notOk((await admin.page.content()).includes(secret), 'shown once: nowhere on the page after that');
  admin.consoleIs(t, 1, /status of 409/); // the name taken, provoked above
});

t.test('the audit log shows the newest entries first and pages back to the oldest', async (t) => {
  const { hub } = await setUp(t);
  for (let i = 0; i < 60; i++) await hub.access.record(ADMIN, 'test.entry', `entry-${i}`, 'ok', { i });
  const { page, consoleIs } = await openPage(t, hub);
  await signInWithToken(page, await apiToken(hub, 'admin'));
  const rows = page.locator('#audit-list tbody tr');
  await waitFor('the first page', async () => (await rows.count()) === 50);
  t.equal(await rows.first().getAttribute('data-action'), 'session.sign-in', 'the sign-in just made comes first');
  await page.locator('#audit-more').click();
  const all = await hub.access.auditLog({ limit: 1000 });
  await waitFor('the older entries', async () => (await rows.count()) === all.length);
  const ids = await rows.evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-id'))));
  t.same(ids, all.map((e) => e.id), 'every entry once, newest first');
  t.ok(await page.locator('#audit-more').isHidden(), 'no older page after the oldest');
  t.match(await page.locator('#audit-list tr[data-action="test.entry"]', { hasText: 'entry-0' }).textContent(), /i=0/, 'the detail shown');
  consoleIs(t, 1);
});

t.test('signing out ends the session: the sign-in view, and no live update after it', async (t) => {
  const { hub, report } = await setUp(t);
  const { page, consoleIs } = await openPage(t, hub);
  await signInWithToken(page, await apiToken(hub, 'viewer'));
  await page.locator('#live-status', { hasText: 'live' }).waitFor();
  const first = await waitFor('the first refresh', () => page.evaluate('document.body.dataset.updated'));
  await report();
  await waitFor('a live refresh', async () => (await page.evaluate('document.body.dataset.updated')) !== first);

  await page.locator('#sign-out').click();
  await page.locator('#signin').waitFor();
  t.equal(await page.locator('#signin-message').getAttribute('data-reason'), 'signed_out');
  t.ok(await page.locator('#fleet').isHidden(), 'the fleet is hidden');
  t.ok(await page.locator('#account').isHidden(), 'no one is shown signed in');
  t.equal(await page.locator('#hosts tbody tr').count(), 0, 'and what the session read is gone from the page');
  t.same(await sessionCookies(page), [], 'the session cookie is deleted');
  t.equal((await hub.access.auditLog({ limit: 10, action: 'session.sign-out' }))[0]?.target, 'test-viewer', 'the sign-out is in the audit log');
  await waitFor('the page\'s feed closed', async () => (await liveCount(page)).closes.length === 1);
  await noLiveUpdates(t, page, hub, report);
  t.equal((await liveCount(page)).opened, 1, 'the feed was never reopened');
  consoleIs(t, 1); // none after the sign-out: the page asked the API nothing more
});

t.test('revoking the token a page signed in with drops the open page to the sign-in view through its live feed', async (t) => {
  const { hub, report } = await setUp(t);
  const { secret } = await hub.access.createToken(ADMIN, { name: 'erin', role: 'viewer' });
  const { page, consoleIs } = await openPage(t, hub);
  await signInWithToken(page, secret);
  await page.locator('#live-status', { hasText: 'live' }).waitFor();
  t.equal(await page.locator('#whoami').textContent(), 'erin (viewer)');

  await hub.access.revokeToken(ADMIN, 'erin');
  await page.locator('#signin-message[data-reason="ended"]').waitFor();
  t.match(await page.locator('#signin-message').textContent(), /session has ended/);
  t.ok(await page.locator('#fleet').isHidden(), 'the fleet is hidden');
  t.same((await liveCount(page)).closes, [LIVE_SIGNED_OUT], `the live feed was closed with ${LIVE_SIGNED_OUT}`);
  await noLiveUpdates(t, page, hub, report);
  t.equal((await liveCount(page)).opened, 1, 'and not reopened');
  consoleIs(t, 1); // the page learnt it from the feed's close, not from a refused API call
});

t.test('a wrong token is refused in the form and the page stays signed out', async (t) => {
  const { hub } = await setUp(t);
  const { page, consoleIs } = await openPage(t, hub);
  await page.locator('#signin-token').fill('not-a-token-0123456789abcdef');
  await page.locator('#signin-submit').click();
  const message = page.locator('#signin-message[data-reason="refused"]');
  await message.waitFor();
  t.match(await message.textContent(), /^Not signed in: that token is not valid/);
  t.ok(await page.locator('#fleet').isHidden(), 'no fleet');
  t.ok(await page.locator('#account').isHidden(), 'no one signed in');
  t.same(await sessionCookies(page), [], 'no session cookie');
  t.equal((await liveCount(page)).opened, 0, 'no live feed');
  const failed = await hub.access.auditLog({ limit: 10, action: 'session.sign-in-failed' });
  t.same(failed.map((e) => [e.actor, e.remote, e.detail.via]), [['anonymous', '127.0.0.1', 'token']], 'the refusal is in the audit log');
  consoleIs(t, 2);

  await signInWithToken(page, await apiToken(hub, 'viewer'));
  t.ok(await page.locator('#signin-message').isHidden(), 'a good token then signs in');
});

const CLIENT_SECRET = 'sign-in-page-client-secret-0123456789';

t.test('single sign-on through the real OpenID provider lands with the mapped role; a user in no mapped group does not', async (t) => {
  // The provider must know the callback, on the hub's port, before the hub listens: a port the kernel does not hand out.
  const port = await autoPort();
  const redirect = `http://127.0.0.1:${port}/auth/oidc/callback`;
  const provider = await startOidcProvider(t, {
    clientId: 'phoenix-hub',
    clientSecret: CLIENT_SECRET,
    redirectUris: [redirect],
    users: { alice: { groups: ['phoenix-admins'] }, olga: { groups: ['ops'] }, nobody: { groups: ['marketing'] } },
  });
  const relyingParty = await OidcSignIn.discover(
    {
      issuer: provider.issuer, allowInsecureHttp: true, clientId: 'phoenix-hub', clientSecret: CLIENT_SECRET, scopes: ['openid', 'profile', 'groups'],
      roleClaim: 'groups', nameClaim: 'preferred_username', roles: { admin: ['phoenix-admins'], viewer: ['ops'] }, displayName: 'Company SSO',
    },
    silentLogger(),
  );
  const { hub } = await setUp(t, { port, oidc: { relyingParty } });
  t.equal(hub.oidc?.redirectUrl, redirect);

  /** In a fresh Chromium at the page (at the view `hash`): its single sign-on link, then the provider's login form as `user`. */
  const signInAs = async (user: string, hash = '') => {
    const opened = await openPage(t, hub, hash);
    // Only loopback: the provider's development pages import web fonts.
    await opened.page.route('**/*', (route) => (new URL(route.request().url()).hostname === '127.0.0.1' ? route.continue() : route.abort()));
    const link = opened.page.locator('#sso-link');
    await link.waitFor();
    t.equal(await link.textContent(), 'Sign in with Company SSO');
    await link.click();
    await opened.page.waitForURL(`${provider.issuer}/**`);
    await opened.page.locator('input[name="login"]').fill(user);
    await opened.page.locator('input[name="password"]').fill('any');
    await opened.page.locator('button[type="submit"]').click();
    await opened.page.waitForURL(`${hub.url}/**`);
    return opened;
  };

  const alice = await signInAs('alice');
  await alice.page.locator('#whoami', { hasText: 'alice' }).waitFor();
  t.equal(await alice.page.locator('#whoami').textContent(), 'alice (admin)', 'the admins group maps to admin');
  await alice.page.locator(`tr[data-host="${HOST}"]`).waitFor();
  t.ok(await alice.page.locator('#tokens').isVisible(), 'with the admin sections');
  t.equal(alice.page.url(), `${hub.url}/`);

  const olga = await signInAs('olga', '#/catalog');
  await olga.page.locator('#whoami', { hasText: 'olga' }).waitFor();
  t.equal(await olga.page.locator('#whoami').textContent(), 'olga (viewer)', 'the ops group maps to viewer');
  t.ok(await olga.page.locator('#tokens').isHidden(), 'without them');
  await olga.page.locator('#catalog-view').waitFor();
  t.equal(olga.page.url(), `${hub.url}/#/catalog`, 'the view the page was opened at, kept across the round trip to the provider');

  const nobody = await signInAs('nobody');
  await nobody.page.locator('#signin-message[data-reason="no_role"]').waitFor();
  t.match(await nobody.page.locator('#signin-message').textContent(), /none of your groups has a role/);
  t.ok(await nobody.page.locator('#fleet').isHidden(), 'no fleet');
  t.equal(nobody.page.url(), `${hub.url}/`, 'the reason is taken off the address, so a reload does not repeat it');
  t.same(await sessionCookies(nobody.page), []);

  t.same((await hub.access.auditLog({ limit: 10, action: 'session.sign-in' })).map((e) => [e.actor, e.role, e.detail.via]), [['olga', 'viewer', 'oidc'], ['alice', 'admin', 'oidc']], 'each sign-in in the audit log');
  t.same((await hub.access.auditLog({ limit: 10, action: 'session.sign-in-failed' })).map((e) => e.detail), [{ via: 'oidc', reason: 'no_role' }], 'and the refusal');
  // The provider's pages ask for web fonts, aborted above; `nobody` loaded the page twice, before and after.
  const aborted = /Failed to load resource: net::ERR_FAILED/;
  for (const [opened, unauthorized] of [[alice, 1], [olga, 1], [nobody, 2]] as const) opened.consoleIs(t, unauthorized, aborted);
});
